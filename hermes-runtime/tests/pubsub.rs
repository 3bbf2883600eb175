//! Typed publish/subscribe over real sockets: every transport, through the proxy, filters.

mod common;

use std::time::Duration;

use common::{DEADLINE, Other, Tick, await_subscription, transports, unique};
use hermes_runtime::{Codec, Context, Error, Proxy, ProxyConfig, Publisher, Receiver};
use serde_json::{Value, json};

#[test]
fn typed_envelopes_cross_every_transport_directly() {
    let context = Context::new();
    for (name, endpoint, _guard) in transports() {
        let mut receiver = Receiver::<Tick>::builder(&context)
            .topic("ticks")
            .bind(&endpoint)
            .unwrap();
        let bound = receiver.endpoints()[0].clone();
        let mut publisher = Publisher::<Tick>::builder(&context)
            .topic("ticks/a")
            .origin("alice")
            .connect(&bound)
            .unwrap();
        await_subscription(&mut publisher, &mut receiver, "ticks/probe", &Tick::new(0));
        for n in 1..=100 {
            publisher.send(&Tick::new(n)).unwrap();
        }
        for n in 1..=100 {
            let envelope = receiver
                .recv_timeout(DEADLINE)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(envelope.message, Tick::new(n), "{name}");
            assert_eq!(
                (envelope.topic.as_str(), envelope.origin.as_str()),
                ("ticks/a", "alice")
            );
            assert_eq!(
                envelope.seq,
                n - 1,
                "{name}: per-topic sequence numbers start at 0"
            );
            assert_eq!(envelope.epoch, publisher.epoch());
        }
        assert_eq!(receiver.stats().lost, 0, "{name}");
    }
}

#[test]
fn typed_envelopes_go_through_the_proxy_and_its_capture() {
    let context = Context::new();
    let mut directories = Vec::new();
    for (name, _, _guard) in transports() {
        let mut ipc = || {
            let (endpoint, directory) = common::ipc_endpoint();
            directories.push(directory);
            endpoint
        };
        let (front, back, capture) = match name {
            "tcp" => (
                "tcp://127.0.0.1:0".to_owned(),
                "tcp://127.0.0.1:0".to_owned(),
                "tcp://127.0.0.1:0".to_owned(),
            ),
            "ipc" => (ipc(), ipc(), ipc()),
            _ => (
                format!("inproc://{}", unique("front")),
                format!("inproc://{}", unique("back")),
                format!("inproc://{}", unique("capture")),
            ),
        };
        let proxy = Proxy::spawn(
            &context,
            ProxyConfig::new(front, back).with_capture(capture),
        )
        .unwrap();
        let mut tap = Receiver::<Tick>::builder(&context)
            .connect(proxy.capture().unwrap())
            .unwrap();
        let mut receiver = Receiver::<Tick>::builder(&context)
            .topic("ticks")
            .connect(proxy.backend())
            .unwrap();
        let mut publisher = Publisher::<Tick>::builder(&context)
            .topic("ticks/x")
            .connect(proxy.frontend())
            .unwrap();
        await_subscription(&mut publisher, &mut receiver, "ticks/probe", &Tick::new(0));
        // The capture socket has no subscription upstream of it: drain the probes it saw.
        while tap.recv_timeout(Duration::from_millis(100)).is_ok() {}
        for n in 1..=50 {
            publisher.send(&Tick::new(n)).unwrap();
        }
        for n in 1..=50 {
            assert_eq!(
                receiver.recv_timeout(DEADLINE).unwrap().message,
                Tick::new(n),
                "{name}"
            );
            let captured = tap.recv_timeout(DEADLINE).unwrap();
            assert_eq!(
                (captured.message, captured.topic.as_str()),
                (Tick::new(n), "ticks/x"),
                "{name}"
            );
        }
        proxy.stop().unwrap();
    }
}

#[test]
fn subscriptions_respect_topic_segments() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("segments"));
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("quotes")
        .bind(&endpoint)
        .unwrap();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .connect(&endpoint)
        .unwrap();
    await_subscription(&mut publisher, &mut receiver, "quotes", &Tick::new(0));
    for topic in [
        "quotes_raw",
        "quotes",
        "quotesx/y",
        "quotes/bitstamp",
        "quote",
        "quotes/kraken/btc",
    ] {
        publisher.send_to(topic, &Tick::new(1)).unwrap();
    }
    publisher.send_to("quotes/end", &Tick::new(2)).unwrap();
    let mut topics = Vec::new();
    loop {
        let envelope = receiver.recv_timeout(DEADLINE).unwrap();
        if envelope.message.n == 2 {
            break;
        }
        topics.push(envelope.topic);
    }
    assert_eq!(topics, ["quotes", "quotes/bitstamp", "quotes/kraken/btc"]);
    // `quotes_raw` and `quotesx/y` passed ZMQ's byte-prefix filter and were counted; `quote` did not.
    assert_eq!(receiver.stats().filtered, 2);
}

#[test]
fn origin_filter_keeps_only_the_named_publishers() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("origins"));
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("quotes")
        .origin("bitstamp")
        .bind(&endpoint)
        .unwrap();
    let mut bitstamp = Publisher::<Tick>::builder(&context)
        .node("bitstamp", "quotes")
        .connect(&endpoint)
        .unwrap();
    let mut kraken = Publisher::<Tick>::builder(&context)
        .node("kraken", "quotes")
        .connect(&endpoint)
        .unwrap();
    await_subscription(
        &mut bitstamp,
        &mut receiver,
        "quotes/bitstamp",
        &Tick::new(0),
    );
    for n in 1..=10 {
        kraken.send(&Tick::new(n)).unwrap();
        bitstamp.send(&Tick::new(n)).unwrap();
    }
    for n in 1..=10 {
        let envelope = receiver.recv_timeout(DEADLINE).unwrap();
        assert_eq!(
            (envelope.origin.as_str(), envelope.message.n),
            ("bitstamp", n)
        );
    }
    assert_eq!(receiver.stats().filtered, 10);
}

#[test]
fn another_types_envelopes_are_counted_not_delivered() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("fingerprint"));
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .bind(&endpoint)
        .unwrap();
    let mut ticks = Publisher::<Tick>::builder(&context)
        .topic("t")
        .connect(&endpoint)
        .unwrap();
    let mut others = Publisher::<Other>::builder(&context)
        .topic("t")
        .connect(&endpoint)
        .unwrap();
    await_subscription(&mut ticks, &mut receiver, "t", &Tick::new(0));
    for _ in 0..5 {
        others.send(&Other { value: 1.0 }).unwrap();
    }
    // `others` may still be connecting: keep it sending until five mismatches were seen.
    let deadline = std::time::Instant::now() + DEADLINE;
    while receiver.stats().type_mismatches < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "mismatches never arrived"
        );
        others.send(&Other { value: 1.0 }).unwrap();
        assert!(matches!(
            receiver.recv_timeout(Duration::from_millis(10)),
            Err(Error::Timeout)
        ));
    }
    ticks.send(&Tick::new(7)).unwrap();
    assert_eq!(
        receiver.recv_timeout(DEADLINE).unwrap().message,
        Tick::new(7)
    );
    assert_eq!(receiver.stats().decode_errors, 0);
}

#[test]
fn each_codec_round_trips_over_a_socket() {
    let context = Context::new();
    for codec in Codec::ALL {
        let endpoint = format!("inproc://{}", unique(codec.name()));
        let mut receiver = Receiver::<Tick>::builder(&context)
            .topic("t")
            .codec(codec)
            .bind(&endpoint)
            .unwrap();
        let mut publisher = Publisher::<Tick>::builder(&context)
            .topic("t/x")
            .codec(codec)
            .connect(&endpoint)
            .unwrap();
        await_subscription(&mut publisher, &mut receiver, "t/probe", &Tick::new(0));
        publisher.send(&Tick::new(9)).unwrap();
        let envelope = receiver.recv_timeout(DEADLINE).unwrap();
        assert_eq!(envelope.message, Tick::new(9), "{codec}");
        assert_eq!(envelope.topic, "t/x", "{codec}");
    }
}

#[test]
fn a_python_json_receiver_subscribes_with_the_leading_quote() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("python"));
    let mut receiver = Receiver::<Value>::builder(&context)
        .topic("quotes")
        .codec(Codec::PythonJson)
        .bind(&endpoint)
        .unwrap();
    // A raw PUB socket writing exactly what hermes-zmq 1.3 writes.
    let raw = hermes_runtime::__private::zmq_context(&context)
        .socket(zmq::PUB)
        .unwrap();
    raw.connect(&endpoint).unwrap();
    let frames: [&[u8]; 4] = [
        br#""quotes/bitstamp""#,
        br#""bitstamp""#,
        br#"["Quote", 1.5]"#,
        b"1700000000.25",
    ];
    let deadline = std::time::Instant::now() + DEADLINE;
    let envelope = loop {
        raw.send_multipart(frames, 0).unwrap();
        if let Ok(envelope) = receiver.recv_timeout(Duration::from_millis(20)) {
            break envelope;
        }
        assert!(std::time::Instant::now() < deadline);
    };
    assert_eq!(envelope.topic, "quotes/bitstamp");
    assert_eq!(envelope.origin, "bitstamp");
    assert_eq!(envelope.message, json!(["Quote", 1.5]));
    assert_eq!(envelope.timestamp_ns, 1_700_000_000_250_000_000);
}

#[test]
fn unsupported_codecs_and_bad_endpoints_are_refused_up_front() {
    let context = Context::new();
    let err = Publisher::<Value>::builder(&context)
        .codec(Codec::Protobuf)
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not support the `protobuf` codec"),
        "{err}"
    );
    let err = Receiver::<Tick>::builder(&context)
        .bind("tcp://nowhere")
        .unwrap_err();
    assert!(matches!(err, Error::Endpoint { .. }), "{err}");
    let err = Publisher::<Tick>::builder(&context)
        .topic("a\0b")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Topic { .. }), "{err}");
}

#[test]
fn a_payload_receiver_sees_every_type_with_its_fingerprint_and_can_republish_it() {
    use hermes_runtime::{Message, Payload};
    let context = Context::new();
    let tap_endpoint = format!("inproc://{}", unique("payload-tap"));
    let typed_endpoint = format!("inproc://{}", unique("payload-typed"));
    let mut tap = Receiver::<Payload>::builder(&context)
        .bind(&tap_endpoint)
        .unwrap();
    let mut ticks = Publisher::<Tick>::builder(&context)
        .topic("t")
        .connect(&tap_endpoint)
        .unwrap();
    let probe = await_subscription(&mut ticks, &mut tap, "t", &Tick::new(0)).message;
    assert_eq!(probe.fingerprint, Tick::FINGERPRINT);
    assert_eq!(probe.codec, Codec::Protobuf);

    // Forward the bytes unchanged: a typed receiver accepts them as a `Tick`.
    let mut typed = Receiver::<Tick>::builder(&context)
        .topic("t")
        .bind(&typed_endpoint)
        .unwrap();
    let mut forward = Publisher::<Payload>::builder(&context)
        .topic("t")
        .connect(&typed_endpoint)
        .unwrap();
    let received = await_subscription(&mut forward, &mut typed, "t", &probe);
    assert_eq!(received.message, Tick::new(0));
    assert_eq!(typed.stats().type_mismatches, 0);
}
