//! Adaptive batching: envelopes packed under load arrive one by one, in order, with exact
//! sequence numbers and loss counts; a lone envelope is not held back; a waiting batch goes
//! out within its delay even when the publisher sends nothing more.

mod common;

use std::time::{Duration, Instant};

use common::{DEADLINE, Tick, await_subscription, send_until_received, transports, unique};
use hermes_runtime::{
    Batching, Codec, Context, Error, FrameError, Publisher, RawReceiver, Receiver,
};

/// A SUB socket on the wire beside the receivers: how many ZeroMQ messages carried the
/// envelopes, and how many of them were batches (wire-format version 2).
struct WireWatch {
    socket: zmq::Socket,
    messages: u64,
    batches: u64,
}

impl WireWatch {
    fn new(context: &Context, endpoint: &str, topic: &str) -> WireWatch {
        let socket = hermes_runtime::__private::zmq_context(context)
            .socket(zmq::SUB)
            .unwrap();
        socket.set_subscribe(topic.as_bytes()).unwrap();
        socket.set_rcvhwm(0).unwrap();
        socket.connect(endpoint).unwrap();
        WireWatch {
            socket,
            messages: 0,
            batches: 0,
        }
    }

    fn read_for(&mut self, quiet: Duration) {
        while self
            .socket
            .poll(zmq::POLLIN, quiet.as_millis() as i64)
            .unwrap()
            > 0
        {
            let frames = self.socket.recv_multipart(0).unwrap();
            self.messages += 1;
            if frames.len() == 2 && frames[1].first().is_some_and(|byte| byte >> 4 == 2) {
                self.batches += 1;
            }
        }
    }
}

#[test]
fn batched_envelopes_arrive_one_by_one_in_order_over_every_transport() {
    for (transport, endpoint, _dir) in transports() {
        let context = Context::new();
        let mut publisher = Publisher::<Tick>::builder(&context)
            .topic("ticks")
            .hwm(0)
            .batching(Batching {
                max_delay_us: 1_000,
                max_bytes: 4096,
            })
            .bind(&endpoint)
            .unwrap();
        let endpoint = publisher.endpoints()[0].clone();
        let mut receiver = Receiver::<Tick>::builder(&context)
            .topic("ticks")
            .hwm(0)
            .connect(&endpoint)
            .unwrap();
        let mut raw = RawReceiver::builder(&context)
            .topic("ticks")
            .hwm(0)
            .connect(&endpoint)
            .unwrap();
        let mut watch = WireWatch::new(&context, &endpoint, "ticks");
        let first = await_subscription(&mut publisher, &mut receiver, "ticks", &Tick::new(0)).seq;
        while raw.recv_timeout(Duration::from_millis(100)).is_ok() {}
        watch.read_for(Duration::from_millis(100));
        let (messages_before, raw_before) = (watch.messages, raw.stats().received);

        let count = 20_000u64;
        for n in 1..=count {
            publisher.send(&Tick::new(n)).unwrap();
        }
        publisher.flush().unwrap();
        for n in 1..=count {
            let envelope = receiver.recv_timeout(DEADLINE).unwrap();
            assert_eq!(envelope.message.n, n, "{transport}");
            assert_eq!(envelope.seq, first + n, "{transport}");
            assert_eq!(envelope.topic, "ticks");
        }
        for n in 1..=count {
            let envelope = raw.recv_timeout(DEADLINE).unwrap();
            assert_eq!(envelope.seq, first + n, "{transport}");
            assert_eq!(envelope.decode::<Tick>().unwrap().message.n, n);
        }
        let stats = receiver.stats();
        assert_eq!(
            (stats.lost, stats.decode_errors, stats.out_of_order),
            (0, 0, 0)
        );
        assert_eq!(raw.stats().received - raw_before, count);
        assert_eq!(raw.stats().decode_errors, 0);

        watch.read_for(Duration::from_millis(200));
        let messages = watch.messages - messages_before;
        // A flooding publisher fills batches: far fewer messages than envelopes.
        assert!(messages * 10 < count, "{transport}: {messages} messages");
        assert!(watch.batches > 0, "{transport}");
    }
}

#[test]
fn a_lone_envelope_goes_out_at_once_and_a_waiting_batch_within_its_delay() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("lone"));
    let delay = Duration::from_secs(1);
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .batching(Batching {
            max_delay_us: delay.as_micros() as u32,
            max_bytes: 1 << 20,
        })
        .bind(&endpoint)
        .unwrap();
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .connect(&endpoint)
        .unwrap();
    await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0));
    // Quiet for longer than the delay: the next envelope is alone and goes at once.
    std::thread::sleep(delay + Duration::from_millis(100));
    let sent = Instant::now();
    publisher.send(&Tick::new(1)).unwrap();
    let lone = receiver
        .recv_timeout(delay / 2)
        .expect("a lone envelope is not held back");
    assert_eq!(lone.message.n, 1);
    assert!(sent.elapsed() < delay / 2);

    // One more right after it still goes at once: a pair is not load.
    publisher.send(&Tick::new(2)).unwrap();
    let pair = receiver
        .recv_timeout(delay / 2)
        .expect("a pair is not held back");
    assert_eq!(pair.message.n, 2);

    // A third and fourth in a row wait in a batch, which goes out once the first of them has
    // waited the delay, though the publisher sends nothing more.
    let batched = Instant::now();
    publisher.send(&Tick::new(3)).unwrap();
    publisher.send(&Tick::new(4)).unwrap();
    assert!(matches!(
        receiver.recv_timeout(delay / 4),
        Err(Error::Timeout)
    ));
    let third = receiver.recv_timeout(DEADLINE).unwrap();
    let fourth = receiver.recv_timeout(DEADLINE).unwrap();
    assert_eq!((third.message.n, fourth.message.n), (3, 4));
    assert!(batched.elapsed() >= delay / 2, "{:?}", batched.elapsed());
    assert_eq!(receiver.stats().lost, 0);
}

#[test]
fn losses_inside_dropped_batches_are_counted_per_envelope() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("batch-loss"));
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .hwm(2)
        .bind(&endpoint)
        .unwrap();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .hwm(2)
        .batching(Batching {
            max_delay_us: 1_000_000,
            max_bytes: 512,
        })
        .connect(&endpoint)
        .unwrap();
    let last_seq = await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0)).seq;
    let baseline = receiver.stats();
    let burst = 5_000u64;
    for n in 1..=burst {
        publisher.send(&Tick::new(n)).unwrap();
    }
    publisher.flush().unwrap();
    let mut received = 0u64;
    let mut last = last_seq;
    while let Ok(envelope) = receiver.recv_timeout(Duration::from_millis(200)) {
        assert!(envelope.seq > last);
        last = envelope.seq;
        received += 1;
    }
    // A marker after the stall closes any gap at the end of the burst.
    let marker = send_until_received(&mut publisher, &mut receiver, &Tick::new(0));
    received += 1;
    let sent = marker.seq - last_seq;
    let stats = receiver.stats();
    assert!(
        received < burst,
        "the high-water mark must have dropped batches"
    );
    assert_eq!(stats.lost - baseline.lost, sent - received, "{stats:?}");
    assert_eq!(stats.received - baseline.received, received);
    assert_eq!(stats.out_of_order, 0);
}

#[test]
fn python_json_publishers_never_batch() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("python-batch"));
    let mut publisher = Publisher::<serde_json::Value>::builder(&context)
        .topic("t")
        .codec(Codec::PythonJson)
        .hwm(0)
        .batching(Batching::DEFAULT)
        .bind(&endpoint)
        .unwrap();
    let mut receiver = Receiver::<serde_json::Value>::builder(&context)
        .topic("t")
        .codec(Codec::PythonJson)
        .connect(&endpoint)
        .unwrap();
    let socket = hermes_runtime::__private::zmq_context(&context)
        .socket(zmq::SUB)
        .unwrap();
    socket.set_subscribe(b"").unwrap();
    socket.connect(&endpoint).unwrap();
    await_subscription(&mut publisher, &mut receiver, "t", &serde_json::json!(0));
    for n in 0..100 {
        publisher.send(&serde_json::json!(n)).unwrap();
    }
    let mut seen = 0;
    let deadline = Instant::now() + DEADLINE;
    while seen < 100 && Instant::now() < deadline {
        if socket.poll(zmq::POLLIN, 100).unwrap() > 0 {
            let frames = socket.recv_multipart(0).unwrap();
            assert_eq!(
                frames.len(),
                4,
                "hermes-zmq 1.3's four frames, one envelope each"
            );
            seen += usize::from(frames[0] == b"\"t\"");
        }
    }
    assert_eq!(seen, 100);
}

#[test]
fn a_malformed_batch_delivers_what_precedes_the_damage_and_counts_the_rest() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("bad-batch"));
    // A well-formed batch of three, captured off the wire from a batching publisher.
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .hwm(0)
        .batching(Batching {
            max_delay_us: 1_000_000,
            max_bytes: 1 << 20,
        })
        .bind(&endpoint)
        .unwrap();
    let tap = hermes_runtime::__private::zmq_context(&context)
        .socket(zmq::SUB)
        .unwrap();
    tap.set_subscribe(b"t").unwrap();
    tap.connect(&endpoint).unwrap();
    let deadline = Instant::now() + DEADLINE;
    let batch = loop {
        assert!(Instant::now() < deadline, "no batch captured");
        for n in 0..3 {
            publisher.send(&Tick::new(n)).unwrap();
        }
        publisher.flush().unwrap();
        if tap.poll(zmq::POLLIN, 50).unwrap() > 0 {
            let frames = tap.recv_multipart(0).unwrap();
            if frames[1][0] >> 4 == 2 && frames[1][22] == 3 {
                break frames;
            }
        }
    };
    // Cut into the last envelope's payload, and send it from a raw PUB socket.
    let raw_endpoint = format!("inproc://{}", unique("bad-batch-raw"));
    let sender = hermes_runtime::__private::zmq_context(&context)
        .socket(zmq::PUB)
        .unwrap();
    sender.bind(&raw_endpoint).unwrap();
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .connect(&raw_endpoint)
        .unwrap();
    let cut = &batch[1][..batch[1].len() - 2];
    let deadline = Instant::now() + DEADLINE;
    let mut delivered = Vec::new();
    while receiver.stats().decode_errors == 0 {
        assert!(Instant::now() < deadline, "the damaged batch never arrived");
        sender.send(&batch[0], zmq::SNDMORE).unwrap();
        sender.send(cut, 0).unwrap();
        while let Ok(envelope) = receiver.recv_timeout(Duration::from_millis(20)) {
            delivered.push(envelope.message.n);
        }
    }
    assert_eq!(&delivered[..2], [0, 1]);
    assert!(matches!(
        receiver.last_decode_error(),
        Some(FrameError::Batch(reason)) if reason.contains("truncated")
    ));
}
