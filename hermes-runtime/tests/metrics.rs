//! Prometheus metrics scraped over real HTTP: the counters equal what was sent and received.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{DEADLINE, Other, Tick, await_subscription, eventually, frames_of, unique};
use hermes_runtime::topology::{NoArgs, Options, TopologyInfo};
use hermes_runtime::{Codec, Error, Message, ProxyConfig, Publisher, Receiver, Runtime};

/// Sends `request` as is and returns the status and the body; the server closes the
/// connection after one response.
fn http(address: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&address, DEADLINE).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream.set_write_timeout(Some(DEADLINE)).unwrap();
    stream.write_all(request).expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {response:?}"));
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, body.to_owned())
}

fn get(address: SocketAddr, path: &str) -> (u16, String) {
    http(
        address,
        format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
    )
}

fn scrape(address: SocketAddr) -> String {
    let (status, body) = get(address, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    body
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    let mut total = 0;
    let mut found = false;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (set, value) = match rest.strip_prefix('{') {
            Some(rest) => rest.split_once("} ").expect("a label set"),
            None => match rest.strip_prefix(' ') {
                Some(value) => ("", value),
                None => continue, // a longer name
            },
        };
        let matches = labels.iter().all(|(key, value)| {
            set.split(',')
                .any(|pair| pair == format!("{key}=\"{value}\""))
        });
        if matches {
            found = true;
            total += value.parse::<u64>().expect("an integer sample");
        }
    }
    assert!(found, "no sample {name} with {labels:?} in\n{text}");
    total
}

#[test]
fn counters_through_a_tcp_proxy_equal_what_was_sent_and_received() {
    let mut runtime = Runtime::new().unwrap();
    let address = runtime.serve_metrics("127.0.0.1:0").unwrap();
    let proxy = runtime
        .spawn_proxy(
            "market",
            ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
        )
        .unwrap();
    let context = runtime.context().clone();
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("ticks")
        .connect(&proxy.backend)
        .unwrap();
    // An XPUB publisher sees the subscription the proxy passes upstream, so nothing is sent
    // before anyone listens and every envelope sent is one the receiver gets.
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("ticks")
        .origin("feed")
        .xpub()
        .connect(&proxy.frontend)
        .unwrap();
    publisher.wait_for_subscriber(DEADLINE).unwrap();

    let sent = 500;
    for n in 0..sent {
        publisher.send(&Tick::new(n)).unwrap();
    }
    let deadline = Instant::now() + DEADLINE;
    let mut received = 0;
    while received < sent {
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(_) => received += 1,
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "got {received} of {sent}"),
            Err(err) => panic!("receive failed: {err}"),
        }
    }

    let text = scrape(address);
    let pair = [("topic", "ticks"), ("publisher", "feed")];
    assert_eq!(
        sample(
            &text,
            "hermes_sent_total",
            &[("node", "feed"), ("topic", "ticks")]
        ),
        sent
    );
    assert_eq!(publisher.sent(), sent);
    assert_eq!(sample(&text, "hermes_received_total", &pair), sent);
    assert_eq!(receiver.stats().received, sent);
    assert_eq!(sample(&text, "hermes_lost_total", &pair), 0);
    assert_eq!(sample(&text, "hermes_decode_errors_total", &pair), 0);
    assert_eq!(sample(&text, "hermes_type_mismatches_total", &pair), 0);
    assert_eq!(sample(&text, "hermes_lag_seconds_count", &pair), sent);
    assert_eq!(
        sample(
            &text,
            "hermes_lag_seconds_bucket",
            &[("topic", "ticks"), ("le", "+Inf")]
        ),
        sent
    );
    let market = [("proxy", "market")];
    assert_eq!(sample(&text, "hermes_proxy_forwarded_total", &market), sent);
    assert_eq!(sample(&text, "hermes_proxy_dropped_total", &market), 0);
    assert_eq!(
        sample(&text, "hermes_proxy_refused_peers_total", &market),
        0
    );
    assert_eq!(sample(&text, "hermes_proxy_subscriptions", &market), 1);
    drop(receiver);
    eventually("the proxy to count the unsubscription", || {
        sample(&scrape(address), "hermes_proxy_subscriptions", &market) == 0
    });
}

#[test]
fn a_sequence_gap_shows_in_lost_total_exactly() {
    let mut runtime = Runtime::new().unwrap();
    let address = runtime.serve_metrics("127.0.0.1:0").unwrap();
    let context = runtime.context().clone();
    let endpoint = format!("inproc://{}", unique("metrics-loss"));
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .hwm(10)
        .bind(&endpoint)
        .unwrap();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .origin("flood")
        .hwm(10)
        .connect(&endpoint)
        .unwrap();
    await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0));
    // The receiver is stalled while a burst overflows both high-water marks.
    for n in 1..=5_000 {
        publisher.send(&Tick::new(n)).unwrap();
    }
    while receiver.recv_timeout(Duration::from_millis(200)).is_ok() {}
    // An envelope after the stall closes the gap at the end of the burst.
    let deadline = Instant::now() + DEADLINE;
    loop {
        publisher.send(&Tick::new(0)).unwrap();
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(_) => break,
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "no marker arrived"),
            Err(err) => panic!("receive failed: {err}"),
        }
    }
    let stats = receiver.stats();
    assert!(
        stats.lost > 0,
        "the high-water mark must have dropped something"
    );
    let text = scrape(address);
    let pair = [("topic", "t"), ("publisher", "flood")];
    assert_eq!(sample(&text, "hermes_lost_total", &pair), stats.lost);
    assert_eq!(
        sample(&text, "hermes_received_total", &pair),
        stats.received
    );
    assert_eq!(
        sample(&text, "hermes_sent_total", &[("node", "flood")]),
        publisher.sent()
    );
}

#[test]
fn undecodable_and_mistyped_envelopes_are_counted_exactly() {
    let mut runtime = Runtime::new().unwrap();
    let address = runtime.serve_metrics("127.0.0.1:0").unwrap();
    let context = runtime.context().clone();
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .bind("tcp://127.0.0.1:0")
        .unwrap();
    let endpoint = receiver.endpoints()[0].clone();
    assert!(
        endpoint.starts_with("tcp://127.0.0.1:") && !endpoint.ends_with(":0"),
        "{endpoint}"
    );
    let marker = Tick::new(u64::MAX);
    let [tick, marker_frames]: [Vec<Vec<u8>>; 2] = frames_of(
        &context,
        "feed",
        Codec::Protobuf,
        &[Tick::new(1), marker.clone()],
    )
    .try_into()
    .unwrap();
    let [other]: [Vec<Vec<u8>>; 1] = frames_of(
        &context,
        "impostor",
        Codec::Protobuf,
        &[Other { value: 1.0 }],
    )
    .try_into()
    .unwrap();
    // `feed`'s envelope with its payload replaced by field 1 of wire type 7, which no protobuf
    // decoder accepts: the header names the pair, the payload cannot be decoded.
    let mut payload = Vec::new();
    Tick::new(1).encode(Codec::Protobuf, &mut payload).unwrap();
    let mut spoiled = tick.clone();
    let body = spoiled.last_mut().unwrap();
    body.truncate(body.len() - payload.len());
    body.push(0x0f);

    let raw = hermes_runtime::__private::zmq_context(&context)
        .socket(zmq::PUB)
        .unwrap();
    raw.set_sndhwm(0).unwrap();
    raw.connect(&endpoint).unwrap();
    // The raw socket's subscription must have arrived before what it sends counts.
    let deadline = Instant::now() + DEADLINE;
    loop {
        raw.send_multipart(tick.iter().map(Vec::as_slice), 0)
            .unwrap();
        match receiver.recv_timeout(Duration::from_millis(20)) {
            Ok(_) => break,
            Err(Error::Timeout) => {
                assert!(
                    Instant::now() < deadline,
                    "the raw socket never got the subscription"
                );
            }
            Err(err) => panic!("receive failed: {err}"),
        }
    }
    while receiver.recv_timeout(Duration::from_millis(50)).is_ok() {}

    let (spoiled_sent, others_sent) = (3, 4);
    for _ in 0..spoiled_sent {
        raw.send_multipart(spoiled.iter().map(Vec::as_slice), 0)
            .unwrap();
    }
    for _ in 0..others_sent {
        raw.send_multipart(other.iter().map(Vec::as_slice), 0)
            .unwrap();
    }
    // One socket keeps order: when the marker arrives, everything before it was counted.
    raw.send_multipart(marker_frames.iter().map(Vec::as_slice), 0)
        .unwrap();
    let envelope = receiver.recv_timeout(DEADLINE).expect("the marker arrives");
    assert_eq!(
        envelope.message, marker,
        "nothing spoiled or mistyped is delivered"
    );

    let stats = receiver.stats();
    assert_eq!(
        (stats.decode_errors, stats.type_mismatches),
        (spoiled_sent, others_sent),
        "{stats:?}"
    );
    let text = scrape(address);
    let feed = [("topic", "t"), ("publisher", "feed")];
    let impostor = [("topic", "t"), ("publisher", "impostor")];
    assert_eq!(
        sample(&text, "hermes_decode_errors_total", &feed),
        spoiled_sent
    );
    assert_eq!(sample(&text, "hermes_type_mismatches_total", &feed), 0);
    assert_eq!(
        sample(&text, "hermes_type_mismatches_total", &impostor),
        others_sent
    );
    assert_eq!(sample(&text, "hermes_decode_errors_total", &impostor), 0);
    assert_eq!(sample(&text, "hermes_received_total", &impostor), 0);
}

#[test]
fn readyz_is_503_until_set_ready_then_200() {
    let mut runtime = Runtime::new().unwrap();
    let address = runtime.serve_metrics("127.0.0.1:0").unwrap();
    assert_eq!(get(address, "/readyz").0, 503);
    runtime.readiness().set_ready();
    assert_eq!(get(address, "/readyz").0, 200);
}

#[test]
fn healthz_answers_ok() {
    let mut runtime = Runtime::new().unwrap();
    let address = runtime.serve_metrics("127.0.0.1:0").unwrap();
    assert_eq!(get(address, "/healthz"), (200, "ok\n".to_owned()));
}

#[test]
fn unknown_paths_are_404_and_other_methods_405() {
    let mut runtime = Runtime::new().unwrap();
    let address = runtime.serve_metrics("127.0.0.1:0").unwrap();
    assert_eq!(get(address, "/").0, 404);
    assert_eq!(get(address, "/metrics/extra").0, 404);
    assert_eq!(
        http(address, b"DELETE /metrics HTTP/1.1\r\nHost: test\r\n\r\n").0,
        405
    );
}

#[test]
fn malformed_requests_are_400_and_the_server_goes_on() {
    let mut runtime = Runtime::new().unwrap();
    let address = runtime.serve_metrics("127.0.0.1:0").unwrap();
    for request in [
        &b"hello\r\n\r\n"[..],
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
        b"\x00\x01\x02\xff\r\n\r\n",
    ] {
        assert_eq!(http(address, request).0, 400, "{request:?}");
    }
    // Too large a head: cut off at the bound and refused, not read forever.
    let mut huge = b"GET /metrics HTTP/1.1\r\nX-Pad: ".to_vec();
    huge.resize(64 * 1024, b'a');
    let mut stream = TcpStream::connect_timeout(&address, DEADLINE).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    // The server may close before reading everything; what matters is its answer.
    let _ = stream.write_all(&huge);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    assert!(
        response.starts_with(b"HTTP/1.1 400 "),
        "{:?}",
        String::from_utf8_lossy(&response)
    );
    // A client that sends nothing is dropped after its deadline; others are served after it.
    let _idle = TcpStream::connect_timeout(&address, DEADLINE).unwrap();
    assert_eq!(get(address, "/healthz").0, 200);
}

#[test]
fn the_server_stops_with_the_runtime() {
    let mut runtime = Runtime::new().unwrap();
    let address = runtime.serve_metrics("127.0.0.1:0").unwrap();
    assert_eq!(get(address, "/healthz").0, 200);
    runtime.stop();
    runtime.wait_timeout(DEADLINE).unwrap();
    assert!(TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err());
}

static TOPOLOGY: TopologyInfo = TopologyInfo::new("demo", &[], &[], &[], &[]);

#[test]
fn the_metrics_flag_serves_on_the_address_it_writes_to_the_address_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics-address");
    let options = Options::<NoArgs>::try_parse_from(
        &TOPOLOGY,
        "process",
        [
            "process".as_ref(),
            "--metrics".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--metrics-address-file".as_ref(),
            file.as_os_str(),
            "--duration".as_ref(),
            "2".as_ref(),
        ],
    )
    .unwrap();
    assert_eq!(options.metrics, Some("127.0.0.1:0".parse().unwrap()));
    let process = std::thread::spawn(move || {
        hermes_runtime::topology::run(&options, |_runtime, _wiring| Ok(()))
    });
    let mut address = None;
    eventually("the metrics address file", || {
        address = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| text.trim().parse::<SocketAddr>().ok());
        address.is_some()
    });
    let address = address.unwrap();
    assert_ne!(address.port(), 0);
    assert_eq!(get(address, "/healthz").0, 200);
    assert!(scrape(address).contains("# TYPE hermes_proxy_forwarded counter"));
    assert_eq!(process.join().unwrap(), std::process::ExitCode::SUCCESS);
}
