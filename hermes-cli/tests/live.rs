//! `hermes proxy`, `tap`, `pub` and `stats` as real processes on loopback TCP.
//!
//! Every wait has a deadline, and every child process is killed when its guard drops, so a
//! failing test never leaves processes behind or hangs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hermes_runtime::{Context, Receiver};
use serde_json::Value;

const TOPOLOGY: &str = "tests/fixtures/live/topology.yaml";

/// `Level` of the fixture, written as hermes-build generates it.
#[derive(Clone, PartialEq, prost::Message, hermes_runtime::HermesMessage)]
#[hermes(name = "live.Level", version = 1)]
pub struct Level {
    /// The price.
    #[prost(double, tag = "1")]
    pub price: f64,
    /// The size.
    #[prost(double, tag = "2")]
    pub size: f64,
}

fn hermes() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("hermes"))
}

/// A child process, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn spawn(command: &mut Command) -> Running {
        Running(
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the hermes binary starts"),
        )
    }

    /// Waits for the process to exit, at most `timeout`; returns its code, stdout and stderr.
    /// Both are read while it runs, so a chatty process never blocks on a full pipe.
    fn finish(mut self, timeout: Duration) -> (Option<i32>, String, String) {
        let stdout = drain(self.0.stdout.take());
        let stderr = drain(self.0.stderr.take());
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                let stdout = stdout.join().expect("stdout reader");
                let stderr = stderr.join().expect("stderr reader");
                return (status.code(), stdout, stderr);
            }
            if Instant::now() >= deadline {
                let _ = self.0.kill();
                let _ = self.0.wait();
                let stderr = stderr.join().expect("stderr reader");
                let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
                panic!("the process did not exit within {timeout:?}; stderr ends: {tail:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads a child's pipe to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// A `hermes proxy` on free ports, and the endpoints it printed.
struct TestProxy {
    _process: Running,
    _stdout: BufReader<ChildStdout>,
    frontend: String,
    backend: String,
    capture: String,
}

fn start_proxy() -> TestProxy {
    start_proxy_with(&[])
}

fn start_proxy_with(options: &[&str]) -> TestProxy {
    let mut process = Running::spawn(
        hermes()
            .args([
                "proxy",
                "--frontend",
                "tcp://127.0.0.1:0",
                "--backend",
                "tcp://127.0.0.1:0",
                "--capture",
                "tcp://127.0.0.1:0",
            ])
            .args(options),
    );
    let mut stdout = BufReader::new(process.0.stdout.take().expect("piped stdout"));
    let mut endpoint = |side: &str| {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("proxy output");
        let (name, endpoint) = line.trim().split_once(' ').expect("`side endpoint`");
        assert_eq!(name, side);
        endpoint.to_string()
    };
    let frontend = endpoint("frontend");
    let backend = endpoint("backend");
    let capture = endpoint("capture");
    TestProxy {
        _process: process,
        _stdout: stdout,
        frontend,
        backend,
        capture,
    }
}

fn pub_command(endpoint: &str, topic: &str, json: &str) -> Command {
    let mut command = hermes();
    command.args([
        "pub",
        TOPOLOGY,
        topic,
        json,
        "--endpoint",
        endpoint,
        "--wait",
        "10",
    ]);
    command
}

#[test]
fn tap_prints_decoded_envelopes_of_every_codec_from_a_running_topology() {
    let proxy = start_proxy();
    let tap = Running::spawn(hermes().args([
        "tap",
        TOPOLOGY,
        "--endpoint",
        &proxy.backend,
        "--count",
        "3",
        "--format",
        "json",
        "--timeout",
        "30",
    ]));
    // Each `pub` waits until the tap's subscription has reached it through the proxy.
    for (topic, json) in [
        ("levels", r#"{"price": 101.5, "size": 2}"#),
        ("notes", r#"{"text": "hello", "side": "ask"}"#),
        ("legacy", r#"{"price": 7.25}"#),
    ] {
        let output = pub_command(&proxy.frontend, topic, json)
            .output()
            .expect("pub runs");
        assert!(output.status.success(), "pub {topic} failed: {output:?}");
    }
    let (code, stdout, stderr) = tap.finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "tap failed: {stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0]["topic"], "levels");
    assert_eq!(lines[0]["origin"], "hermes-pub");
    assert_eq!(lines[0]["codec"], "protobuf");
    assert_eq!(lines[0]["message"], "Level");
    assert_eq!(
        lines[0]["payload"],
        serde_json::json!({"price": 101.5, "size": 2.0})
    );
    assert_eq!(lines[1]["codec"], "json");
    assert_eq!(lines[1]["message"], "Note");
    assert_eq!(
        lines[1]["payload"],
        serde_json::json!({"text": "hello", "side": "ask"})
    );
    assert_eq!(lines[2]["codec"], "python-json");
    assert_eq!(lines[2]["message"], "Level");
    assert_eq!(
        lines[2]["payload"],
        serde_json::json!({"price": 7.25, "size": 0.0})
    );
    assert!(lines[0]["lag_ms"].as_f64().is_some());
}

#[test]
fn tap_pretty_output_is_one_line_per_envelope() {
    let proxy = start_proxy();
    let tap = Running::spawn(hermes().args([
        "tap",
        TOPOLOGY,
        "levels",
        "--endpoint",
        &proxy.backend,
        "--count",
        "1",
        "--timeout",
        "30",
    ]));
    let output = pub_command(&proxy.frontend, "levels", r#"{"price": 1.5}"#)
        .output()
        .expect("pub runs");
    assert!(output.status.success(), "{output:?}");
    let (code, stdout, _) = tap.finish(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    let line = stdout.trim();
    assert!(
        line.starts_with("levels hermes-pub#0 lag="),
        "unexpected line: {line}"
    );
    assert!(
        line.ends_with(r#"Level {"price":1.5,"size":0.0}"#),
        "{line}"
    );
}

#[test]
fn pub_delivers_to_a_typed_subscriber() {
    let proxy = start_proxy();
    let context = Context::new();
    let mut receiver = Receiver::<Level>::builder(&context)
        .topic("levels")
        .connect(&proxy.backend)
        .expect("receiver connects");
    let (code, _, stderr) = Running::spawn(&mut pub_command(
        &proxy.frontend,
        "levels",
        r#"{"price": 99.5, "size": 3}"#,
    ))
    .finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    let envelope = receiver
        .recv_timeout(Duration::from_secs(10))
        .expect("the typed receiver accepts the envelope: same fingerprint and encoding");
    assert_eq!(envelope.topic, "levels");
    assert_eq!(
        envelope.message,
        Level {
            price: 99.5,
            size: 3.0
        }
    );
    assert_eq!(receiver.stats().type_mismatches, 0);
}

#[test]
fn proxy_capture_socket_sees_what_flows_to_subscribers() {
    let proxy = start_proxy();
    let context = Context::new();
    let mut receiver = Receiver::<Level>::builder(&context)
        .topic("levels")
        .connect(&proxy.backend)
        .expect("receiver connects");
    let tap = Running::spawn(hermes().args([
        "tap",
        TOPOLOGY,
        "--endpoint",
        &proxy.capture,
        "--count",
        "1",
        "--timeout",
        "30",
    ]));
    // The capture socket has no subscriptions to wait for: send until the tap has one.
    let mut command = pub_command(&proxy.frontend, "levels", r#"{"price": 5}"#);
    command.args(["--count", "0", "--rate", "20"]);
    let publisher = Running::spawn(&mut command);
    let (code, stdout, _) = tap.finish(Duration::from_secs(30));
    drop(publisher);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains(r#"Level {"price":5.0,"size":0.0}"#),
        "{stdout}"
    );
    assert!(receiver.recv_timeout(Duration::from_secs(10)).is_ok());
}

/// The two frames of a native `json` envelope from origin `raw`, epoch 42, written from the
/// layout in docs/wire-format.md rather than by the runtime's encoder, so a test can choose
/// every sequence number.
fn native_json_envelope(topic: &str, fingerprint: u64, seq: u64, payload: &[u8]) -> [Vec<u8>; 2] {
    const ORIGIN: &[u8] = b"raw";
    let timestamp_ns = hermes_runtime::now_ns();
    let mut body = vec![1 << 4 | 2, ORIGIN.len() as u8];
    body.extend_from_slice(&fingerprint.to_le_bytes());
    body.extend_from_slice(&42u32.to_le_bytes());
    body.extend_from_slice(&timestamp_ns.to_le_bytes());
    let mut rest = seq;
    while rest >= 0x80 {
        body.push(rest as u8 | 0x80);
        rest >>= 7;
    }
    body.push(rest as u8);
    body.extend_from_slice(ORIGIN);
    body.extend_from_slice(payload);
    [topic.as_bytes().to_vec(), body]
}

/// A publisher of native envelopes under the test's control, on a bound XPUB socket, so it
/// knows when `hermes stats` has subscribed and can choose every sequence number.
struct RawPublisher {
    socket: zmq::Socket,
    endpoint: String,
    fingerprint: u64,
    payload: Vec<u8>,
    _context: zmq::Context,
}

impl RawPublisher {
    fn bind() -> RawPublisher {
        RawPublisher::bind_with_hwm(0)
    }

    /// A publisher whose queue holds `hwm` envelopes (0: unlimited); beyond that libzmq drops.
    fn bind_with_hwm(hwm: i32) -> RawPublisher {
        let context = zmq::Context::new();
        let socket = context.socket(zmq::XPUB).expect("socket");
        socket.set_sndhwm(hwm).expect("queue size");
        socket.bind("tcp://127.0.0.1:*").expect("bind");
        let endpoint = socket
            .get_last_endpoint()
            .expect("endpoint")
            .expect("UTF-8");
        let level = serde_json::json!({"price": 1.0, "size": 2.0}).to_string();
        let fingerprint = hermes_core::lineage_fingerprint("live.Level", 1);
        RawPublisher {
            socket,
            endpoint,
            fingerprint,
            payload: level.into_bytes(),
            _context: context,
        }
    }

    fn wait_for_subscriber(&self) {
        self.socket.set_rcvtimeo(30_000).expect("timeout");
        let subscription = self.socket.recv_bytes(0).expect("a subscriber within 30 s");
        assert_eq!(subscription.first(), Some(&1));
    }

    fn send(&mut self, seq: u64) {
        let frames = native_json_envelope("levels", self.fingerprint, seq, &self.payload);
        self.socket.send_multipart(frames, 0).expect("sends");
    }
}

fn stats_report(endpoint: &str, duration: &str) -> Running {
    Running::spawn(hermes().args([
        "stats",
        TOPOLOGY,
        "--endpoint",
        endpoint,
        "--json",
        "--duration",
        duration,
    ]))
}

fn topic_report(stdout: &str, topic: &str) -> Value {
    let report: Value = serde_json::from_str(stdout).expect("one JSON report");
    report["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .find(|entry| entry["topic"] == topic)
        .cloned()
        .unwrap_or_else(|| panic!("no `{topic}` in {report}"))
}

#[test]
fn stats_reports_the_publishing_rate_within_ten_percent() {
    const RATE: f64 = 200.0;
    let mut publisher = RawPublisher::bind();
    let stats = stats_report(&publisher.endpoint, "3");
    publisher.wait_for_subscriber();
    let stop = Arc::new(AtomicBool::new(false));
    let sending = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut seq = 0u64;
            // Bounded: stops when told, or after 20 s whatever happens.
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(20) {
                let due = start + Duration::from_secs_f64(seq as f64 / RATE);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                publisher.send(seq);
                seq += 1;
            }
        })
    };
    let (code, stdout, stderr) = stats.finish(Duration::from_secs(30));
    stop.store(true, Ordering::Relaxed);
    sending.join().expect("publisher thread");
    assert_eq!(code, Some(0), "{stderr}");
    let levels = topic_report(&stdout, "levels");
    let rate = levels["rate_hz"].as_f64().expect("rate");
    assert!(
        (rate - RATE).abs() <= RATE * 0.1,
        "measured {rate} msg/s for {RATE} msg/s: {levels}"
    );
    assert_eq!(levels["message"], "Level");
    assert_eq!(levels["lost"], 0);
    assert!(levels["lag_ms"]["p99"].as_f64().is_some());
}

#[test]
fn stats_counts_exactly_the_envelopes_lost_to_sequence_gaps() {
    let mut publisher = RawPublisher::bind();
    let stats = stats_report(&publisher.endpoint, "3");
    publisher.wait_for_subscriber();
    let skipped = [10, 11, 12, 50, 77];
    for seq in (0..100).filter(|seq| !skipped.contains(seq)) {
        publisher.send(seq);
    }
    let (code, stdout, stderr) = stats.finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    let levels = topic_report(&stdout, "levels");
    assert_eq!(levels["received"], 95, "{levels}");
    assert_eq!(levels["lost"], 5, "{levels}");
    let report: Value = serde_json::from_str(&stdout).expect("one JSON report");
    assert!(
        report.get("security").is_none(),
        "an unsecured topology reports no security counts: {report}"
    );
}

#[test]
fn stats_counts_exactly_the_envelopes_a_full_queue_dropped() {
    // A flood into a 10-envelope queue, read by a debug build: libzmq drops most of it.
    let mut publisher = RawPublisher::bind_with_hwm(10);
    let stats = stats_report(&publisher.endpoint, "4");
    publisher.wait_for_subscriber();
    let flood = 100_000;
    for seq in 0..flood {
        publisher.send(seq);
    }
    // Then a trickle that surely arrives, so the last envelope sent is the last received and
    // every drop before it shows as a sequence gap.
    let trickle = 50;
    for seq in flood..flood + trickle {
        std::thread::sleep(Duration::from_millis(20));
        publisher.send(seq);
    }
    let sent = flood + trickle;
    let (code, stdout, stderr) = stats.finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    let levels = topic_report(&stdout, "levels");
    let received = levels["received"].as_u64().expect("received");
    let lost = levels["lost"].as_u64().expect("lost");
    assert!(
        lost > 0,
        "nothing was dropped, so nothing was proved: {levels}"
    );
    assert_eq!(received + lost, sent, "{levels}");
}

#[test]
fn tap_summarises_garbage_frame_sets_and_keeps_printing_envelopes() {
    const GARBAGE: usize = 20_000;
    let proxy = start_proxy_with(&["--hwm", "0"]);
    let tap = Running::spawn(hermes().args([
        "tap",
        TOPOLOGY,
        "--endpoint",
        &proxy.backend,
        "--count",
        "3",
        "--format",
        "json",
        "--timeout",
        "60",
    ]));
    // One socket sends the garbage and then the envelopes, so they arrive in that order.
    let context = zmq::Context::new();
    let socket = context.socket(zmq::XPUB).expect("socket");
    socket.set_sndhwm(0).expect("unlimited queue");
    socket.set_rcvtimeo(30_000).expect("timeout");
    socket.connect(&proxy.frontend).expect("connects");
    let subscription = socket
        .recv_bytes(0)
        .expect("the tap's subscription reaches the publisher through the proxy within 30 s");
    assert_eq!(subscription.first(), Some(&1));
    let fingerprint = hermes_core::lineage_fingerprint("live.Level", 1);
    let valid = native_json_envelope("levels", fingerprint, 0, br#"{"price":1.0,"size":2.0}"#);
    for n in 0..GARBAGE {
        let frames: Vec<Vec<u8>> = match n % 4 {
            0 => vec![b"levels".to_vec(), b"x".to_vec(), b"y".to_vec()],
            1 => vec![format!("garbage {n}").into_bytes()],
            // A header of another wire-format version.
            2 => vec![valid[0].clone(), [&[0x92], &valid[1][1..]].concat()],
            _ => vec![valid[0].clone(), valid[1][..10].to_vec()],
        };
        socket.send_multipart(frames, 0).expect("sends garbage");
    }
    for seq in 0..3 {
        let payload = format!(r#"{{"price":{seq}.5,"size":1.0}}"#);
        let frames = native_json_envelope("levels", fingerprint, seq, payload.as_bytes());
        socket.send_multipart(frames, 0).expect("sends an envelope");
    }
    let (code, stdout, stderr) = tap.finish(Duration::from_secs(60));
    assert_eq!(code, Some(0), "tap failed: {stderr}");
    let prices: Vec<f64> = stdout
        .lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).expect("one JSON object per line");
            line["payload"]["price"].as_f64().expect("a decoded Level")
        })
        .collect();
    assert_eq!(prices, [0.5, 1.5, 2.5], "{stdout}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .collect();
    assert!(
        !warnings.is_empty() && warnings.len() <= 3,
        "expected a summary at most once a second, found {} warning lines:\n{}",
        warnings.len(),
        warnings
            .iter()
            .take(10)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let counted: usize = warnings
        .iter()
        .map(|line| {
            let count = line
                .strip_prefix("warning: ")
                .and_then(|rest| rest.split_once(' '))
                .map(|(count, _)| count)
                .unwrap_or_default();
            assert!(
                line.contains("not Hermes envelope") && line.contains("(last: "),
                "{line}"
            );
            count
                .parse::<usize>()
                .unwrap_or_else(|_| panic!("no count in `{line}`"))
        })
        .sum();
    assert_eq!(
        counted, GARBAGE,
        "every garbage frame set is counted once: {warnings:?}"
    );
}

/// The live fixture in `dir`, secured with keys in `dir/keys`, its proxy at the endpoints a
/// running secured proxy bound; the proxy's security as `hermes` derives it from the YAML.
struct SecuredHub {
    dir: tempfile::TempDir,
    proxy: hermes_runtime::Proxy,
}

impl SecuredHub {
    fn start() -> SecuredHub {
        use hermes_runtime::{
            Access, KeyPair, KeyRole, KeyStore, Peer, ProxyConfig, ProxySecurity,
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = KeyStore::new(dir.path().join("keys"));
        for (role, name) in [
            (KeyRole::Node, "feed"),
            (KeyRole::Node, "sink"),
            (KeyRole::Proxy, "hub"),
            (KeyRole::Operator, "operator"),
        ] {
            let pair = KeyPair::generate().expect("key pair");
            store.write_pair(role, name, &pair, false).expect("written");
        }
        let public = |role, name| store.public(role, name).expect("public key");
        let operator = Peer::operator("operator", public(KeyRole::Operator, "operator"));
        let security = ProxySecurity::new(store.pair(KeyRole::Proxy, "hub").expect("hub keys"))
            .frontend(Access::new([Peer::new(
                "feed",
                public(KeyRole::Node, "feed"),
            )
            .publishes(["levels", "notes", "legacy"])]))
            .backend(Access::new([
                Peer::new("sink", public(KeyRole::Node, "sink"))
                    .subscribes(["levels", "notes", "legacy"]),
                operator.clone(),
            ]))
            .capture(Access::new([operator]));
        let loopback = "tcp://127.0.0.1:0";
        let config = ProxyConfig::new(loopback, loopback)
            .with_capture(loopback)
            .with_name("hub")
            .with_security(security);
        let proxy = hermes_runtime::Proxy::spawn(&Context::new(), config).expect("proxy");
        let fixture = std::fs::read_to_string(TOPOLOGY).expect("fixture");
        let topology = fixture
            .replace("tcp://127.0.0.1:6000", proxy.frontend())
            .replace("tcp://127.0.0.1:6001", proxy.backend())
            .replace("tcp://127.0.0.1:6002", proxy.capture().expect("capture"))
            + "security:\n  keys: keys\n";
        std::fs::write(dir.path().join("topology.yaml"), topology).expect("topology");
        std::fs::copy(
            "tests/fixtures/live/messages.yaml",
            dir.path().join("messages.yaml"),
        )
        .expect("messages");
        SecuredHub { dir, proxy }
    }

    fn topology(&self) -> String {
        self.dir.path().join("topology.yaml").display().to_string()
    }
}

#[test]
fn tap_with_the_operator_key_decodes_what_a_declared_node_publishes_through_a_secured_proxy() {
    let hub = SecuredHub::start();
    let topology = hub.topology();
    let backend = hub.proxy.backend().to_owned();
    let tap = Running::spawn(hermes().args([
        "tap",
        &topology,
        "levels",
        "--endpoint",
        &backend,
        "--count",
        "2",
        "--format",
        "json",
        "--timeout",
        "30",
    ]));
    // Without a key: admitted nowhere, so it sees nothing before its timeout.
    let intruder = Running::spawn(hermes().args([
        "tap",
        &topology,
        "--endpoint",
        &backend,
        "--insecure",
        "--count",
        "1",
        "--timeout",
        "4",
    ]));
    for price in ["1.5", "2.5"] {
        // `hermes pub` publishes as `feed`, the node that declares `levels`, with its key.
        let output = hermes()
            .args(["pub", &topology, "levels"])
            .arg(format!(r#"{{"price": {price}}}"#))
            .args(["--wait", "10"])
            .output()
            .expect("pub runs");
        assert!(output.status.success(), "pub failed: {output:?}");
    }
    let (code, stdout, stderr) = tap.finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "tap failed: {stderr}");
    let prices: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON")["payload"]["price"].clone())
        .collect();
    assert_eq!(prices, [serde_json::json!(1.5), serde_json::json!(2.5)]);
    let (code, stdout, _) = intruder.finish(Duration::from_secs(30));
    assert_eq!(
        code,
        Some(1),
        "a tap without a key must not reach its count"
    );
    assert!(stdout.is_empty(), "a tap without a key printed: {stdout}");
}

#[test]
fn stats_with_the_operator_key_reports_a_secured_proxys_refusals() {
    use hermes_runtime::{Curve, KeyRole, KeyStore, Publisher};
    let hub = SecuredHub::start();
    let topology = hub.topology();
    let keys = hub.dir.path().join("keys");
    let store = KeyStore::new(&keys);
    let server = store.public(KeyRole::Proxy, "hub").expect("hub key");
    let context = Context::new();
    // An operator subscribed to everything, so the feed sends every topic to the proxy.
    let mut operator = Receiver::<Value>::builder(&context)
        .topic("")
        .curve(Curve::Client {
            keys: store
                .pair(KeyRole::Operator, "operator")
                .expect("operator keys"),
            server,
        })
        .connect(hub.proxy.backend())
        .expect("operator connects");
    // The feed, declared for `levels`, `notes` and `legacy`, publishes `secret`.
    let mut feed = Publisher::<Value>::builder(&context)
        .topic("secret")
        .curve(Curve::Client {
            keys: store.pair(KeyRole::Node, "feed").expect("feed keys"),
            server,
        })
        .connect(hub.proxy.frontend())
        .expect("feed connects");
    // A client without a key: refused at each (re)connection, so the counts keep changing
    // and the proxy reports them every second.
    let _keyless = Receiver::<Value>::builder(&context)
        .topic("")
        .connect(hub.proxy.backend())
        .expect("keyless client connects");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = hub.proxy.security_stats();
        if stats.refused_connections >= 1 && stats.dropped_publications >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "not refused in time: {stats:?}");
        feed.send(&serde_json::json!({"price": 1})).expect("sends");
        // Paces the loop: whatever arrives (reports) is skipped.
        let _ = operator.recv_timeout(Duration::from_millis(10));
    }
    let stats = Running::spawn(hermes().args([
        "stats",
        &topology,
        "--keys",
        &keys.display().to_string(),
        "--json",
        "--duration",
        "4",
    ]));
    let (code, stdout, stderr) = stats.finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("one JSON report");
    let security = &report["security"][0];
    assert_eq!(security["proxy"], "hub", "{report}");
    assert!(
        security["refused_connections"].as_u64() >= Some(1),
        "{report}"
    );
    assert!(
        security["dropped_publications"].as_u64() >= Some(1),
        "{report}"
    );
    assert_eq!(security["dropped_subscriptions"], 0, "{report}");
    let topics = report["topics"].as_array().expect("topics");
    assert!(
        topics
            .iter()
            .all(|topic| topic["topic"] != "hermes/security/hub"),
        "reports are not counted as traffic: {report}"
    );
}
