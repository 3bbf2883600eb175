//! Garbage off the wire: counted, never a panic, and the receiver keeps serving.

mod common;

use common::{DEADLINE, Tick, await_subscription, unique};
use hermes_runtime::{Codec, Context, Publisher, Receiver};

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

    let raw = context.as_zmq().socket(zmq::PUB).unwrap();
    raw.set_sndhwm(0).unwrap();
    raw.connect(&endpoint).unwrap();
    // A real envelope, to truncate.
    let mut valid = hermes_runtime::envelope::Frames::new();
    let stamp = hermes_runtime::envelope::Stamp {
        codec,
        topic: "t",
        origin: "o",
        epoch: 1,
        seq: 0,
        timestamp_ns: hermes_runtime::envelope::now_ns(),
    };
    hermes_runtime::envelope::encode(&stamp, &Tick::new(5), &mut valid).unwrap();
    // The raw socket's subscription must arrive too before its garbage counts.
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        raw.send_multipart(valid.parts(), 0).unwrap();
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
    let sets = 1000;
    for i in 0..sets {
        let frames: Vec<Vec<u8>> = if i % 2 == 0 {
            // Random frames, random count (0-frame messages cannot exist; start at 1).
            let count = 1 + random.next() % 6;
            (0..count).map(|_| random.bytes(80)).collect()
        } else {
            // A valid envelope, truncated in one frame, or with a frame missing or added.
            let mut frames: Vec<Vec<u8>> = valid.parts().to_vec();
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
        };
        let mut frames = frames;
        if codec == Codec::PythonJson && !frames[0].starts_with(b"\"") {
            frames[0].insert(0, b'"'); // past libzmq's prefix filter, into our decoder
        }
        raw.send_multipart(frames, 0).unwrap();
    }
    // The next valid envelope still arrives, after all the garbage (one socket, so in order).
    raw.send_multipart(valid.parts(), 0).unwrap();
    let envelope = receiver.recv_timeout(DEADLINE).unwrap();
    assert_eq!(envelope.message, Tick::new(5));

    let after = receiver.stats();
    let rejected = (after.decode_errors - before.decode_errors)
        + (after.type_mismatches - before.type_mismatches)
        + (after.filtered - before.filtered);
    assert_eq!(
        after.received - before.received,
        1,
        "only the valid envelope is delivered"
    );
    assert_eq!(
        rejected, sets,
        "every garbage frame set is counted: {after:?}"
    );
}

#[test]
fn a_native_receiver_survives_a_thousand_garbage_frame_sets() {
    garbage_then_valid(Codec::Protobuf);
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
    // The oversized frame closes that connection; nothing is delivered and nothing panics.
    assert!(
        receiver
            .recv_timeout(std::time::Duration::from_millis(300))
            .is_err()
    );
    assert_eq!(receiver.stats().received, before);
}
