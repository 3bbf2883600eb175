//! Garbage off the wire: counted, never a panic, and the receiver keeps serving.

mod common;

use common::{DEADLINE, Tick, await_subscription, frames_of, unique};
use hermes_runtime::{Codec, Context, Message, Publisher, Receiver};

/// A small deterministic generator, so a failure reproduces.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn bytes(&mut self, max: u64) -> Vec<u8> {
        let len = self.next() % (max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn garbage_then_valid(codec: Codec) {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("hostile"));
    // Subscribe to everything so every garbage frame set reaches the decoder.
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("")
        .codec(codec)
        .bind(&endpoint)
        .unwrap();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .codec(codec)
        .connect(&endpoint)
        .unwrap();
    await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0));

    let raw = hermes_runtime::__private::zmq_context(&context)
        .socket(zmq::PUB)
        .unwrap();
    raw.set_sndhwm(0).unwrap();
    raw.connect(&endpoint).unwrap();
    let mut payload = Vec::new();
    Tick::new(5).encode(codec, &mut payload).unwrap();
    let payload_len = payload.len();
    // What ends the garbage; no random payload decodes to it.
    let marker = Tick {
        n: u64::MAX,
        note: "the end of the garbage".to_owned(),
    };
    // A real envelope, to truncate, and the marker's.
    let [valid, marker_frames]: [Vec<Vec<u8>>; 2] =
        frames_of(&context, "o", codec, &[Tick::new(5), marker.clone()])
            .try_into()
            .unwrap();
    // The raw socket's subscription must arrive too before its garbage counts.
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        raw.send_multipart(valid.iter().map(Vec::as_slice), 0)
            .unwrap();
        if receiver
            .recv_timeout(std::time::Duration::from_millis(20))
            .is_ok()
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the raw socket never got the subscription"
        );
    }
    while receiver
        .recv_timeout(std::time::Duration::from_millis(50))
        .is_ok()
    {}
    let before = receiver.stats();

    let mut random = Lcg(0x5eed);
    let sets = 1200;
    for i in 0..sets {
        let mut frames: Vec<Vec<u8>> = match i % 3 {
            // Random frames, random count (0-frame messages cannot exist; start at 1); every
            // 50th with a frame of 256 KiB.
            0 => {
                let count = 1 + random.next() % 6;
                let mut frames: Vec<Vec<u8>> = (0..count).map(|_| random.bytes(80)).collect();
                if i % 50 == 0 {
                    frames[0] = vec![random.next() as u8; 256 * 1024];
                }
                frames
            }
            // A valid envelope, truncated in one frame, or with a frame missing or added.
            1 => {
                let mut frames: Vec<Vec<u8>> = valid.clone();
                match random.next() % 3 {
                    0 => {
                        let at = (random.next() as usize) % frames.len();
                        let keep = (random.next() as usize) % frames[at].len().max(1);
                        frames[at].truncate(keep);
                        frames[at].push(0xff); // still invalid when the cut kept the whole frame
                    }
                    1 => {
                        frames.pop();
                    }
                    _ => frames.push(random.bytes(10)),
                }
                frames
            }
            // Valid frames around a random payload, so it reaches the codec (prost or
            // serde_json); now and then one decodes, and is delivered.
            _ => {
                let mut frames: Vec<Vec<u8>> = valid.clone();
                let payload = random.bytes(64);
                if codec == Codec::PythonJson {
                    frames[2] = payload;
                } else {
                    let header_len = frames[1].len() - payload_len;
                    frames[1].truncate(header_len);
                    frames[1].extend_from_slice(&payload);
                }
                frames
            }
        };
        if codec == Codec::PythonJson && !frames[0].starts_with(b"\"") {
            frames[0].insert(0, b'"'); // past libzmq's prefix filter, into our decoder
        }
        raw.send_multipart(frames, 0).unwrap();
    }
    // A marker after all the garbage (one socket, so in order): everything before it has been
    // decoded or refused by the time it arrives.
    raw.send_multipart(marker_frames.iter().map(Vec::as_slice), 0)
        .unwrap();
    let mut delivered = 0;
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let envelope = receiver.recv_timeout(left).expect("the marker arrives");
        if envelope.message == marker {
            break;
        }
        delivered += 1;
    }

    let after = receiver.stats();
    let rejected = (after.decode_errors - before.decode_errors)
        + (after.type_mismatches - before.type_mismatches)
        + (after.filtered - before.filtered);
    assert_eq!(
        after.received - before.received,
        delivered + 1,
        "the marker and the random payloads that decoded are delivered: {after:?}"
    );
    assert!(
        rejected > sets / 2,
        "most garbage is refused: {rejected} of {sets}"
    );
    assert_eq!(
        rejected + delivered,
        sets,
        "every garbage frame set is counted or delivered: {after:?}"
    );
}

#[test]
fn a_native_receiver_survives_a_thousand_garbage_frame_sets() {
    garbage_then_valid(Codec::Protobuf);
}

#[test]
fn a_native_json_receiver_survives_a_thousand_garbage_frame_sets() {
    garbage_then_valid(Codec::Json);
}

#[test]
fn a_python_json_receiver_survives_a_thousand_garbage_frame_sets() {
    garbage_then_valid(Codec::PythonJson);
}

#[test]
fn an_oversized_message_is_refused_by_libzmq() {
    let context = Context::new();
    let endpoint = "tcp://127.0.0.1:0";
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .max_message_size(Some(1024))
        .bind(endpoint)
        .unwrap();
    let bound = receiver.endpoints()[0].clone();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .connect(&bound)
        .unwrap();
    await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0));
    let before = receiver.stats().received;
    let huge = Tick {
        n: 1,
        note: "x".repeat(64 * 1024),
    };
    publisher.send(&huge).unwrap();
    // The oversized frame closes that connection; libzmq reconnects, the subscription comes
    // again, and a valid envelope sent after it is served. The huge one never is (the same
    // connection keeps order, so it would have come first).
    let deadline = std::time::Instant::now() + DEADLINE;
    let served = loop {
        publisher.send(&Tick::new(2)).unwrap();
        match receiver.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(envelope) => break envelope,
            Err(hermes_runtime::Error::Timeout) => assert!(
                std::time::Instant::now() < deadline,
                "the receiver never served a valid envelope after the oversized one"
            ),
            Err(err) => panic!("{err}"),
        }
    };
    assert_eq!(
        served.message,
        Tick::new(2),
        "the oversized envelope was delivered"
    );
    assert!(served.seq > 0, "sent after the oversized one");
    let mut delivered = 1;
    while let Ok(envelope) = receiver.recv_timeout(std::time::Duration::from_millis(50)) {
        assert_eq!(
            envelope.message,
            Tick::new(2),
            "the oversized envelope was delivered"
        );
        delivered += 1;
    }
    let stats = receiver.stats();
    assert_eq!(stats.received, before + delivered, "{stats:?}");
    assert_eq!(stats.decode_errors, 0, "{stats:?}");
}
