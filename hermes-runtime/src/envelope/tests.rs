use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn stamp(codec: Codec) -> Stamp<'static> {
    Stamp {
        codec,
        topic: "quotes/bitstamp",
        origin: "bitstamp",
        epoch: 7,
        seq: 42,
        timestamp_ns: 1_700_000_000_123_456_000,
    }
}

fn parts(frames: &Frames) -> Vec<&[u8]> {
    frames.parts().iter().map(Vec::as_slice).collect()
}

#[test]
fn python_json_frames_match_the_reference_page() {
    let mut frames = Frames::new();
    encode(
        &stamp(Codec::PythonJson),
        &json!(["Quote", 101.5]),
        &mut frames,
    )
    .unwrap();
    let expected: [&[u8]; 4] = [
        br#""quotes/bitstamp""#,
        br#""bitstamp""#,
        br#"["Quote",101.5]"#,
        b"1700000000.123456",
    ];
    assert_eq!(parts(&frames), expected);
}

#[test]
fn python_json_decodes_frames_as_python_writes_them() {
    // json.dumps output: spaces after separators, ASCII escapes, float seconds.
    let frames: [&[u8]; 4] = [
        br#""quotes/bitstamp""#,
        br#""bitstamp""#,
        br#"["Quote", 1700000000.5, "BTC", 101.5]"#,
        b"1700000000.123456",
    ];
    let raw = RawEnvelope::decode(Codec::PythonJson, &frames).unwrap();
    assert_eq!(raw.topic, "quotes/bitstamp");
    assert_eq!(raw.origin, "bitstamp");
    assert_eq!(raw.fingerprint, None);
    assert_eq!(raw.timestamp_ns, 1_700_000_000_123_456_000);
    let envelope = raw.into_envelope::<Value>().unwrap();
    assert_eq!(
        envelope.message,
        json!(["Quote", 1700000000.5, "BTC", 101.5])
    );
}

#[test]
fn python_json_escapes_like_python() {
    let mut stamp = stamp(Codec::PythonJson);
    stamp.topic = "caf\u{e9}/\"q\"/\u{1F600}";
    let mut frames = Frames::new();
    encode(&stamp, &json!(null), &mut frames).unwrap();
    assert_eq!(frames.parts()[0], br#""caf\u00e9/\"q\"/\ud83d\ude00""#);
    let raw = RawEnvelope::decode(Codec::PythonJson, &parts(&frames)).unwrap();
    assert_eq!(raw.topic, stamp.topic);
}

#[test]
fn python_json_subscription_includes_the_leading_quote() {
    assert_eq!(subscription(Codec::PythonJson, "quotes"), b"\"quotes");
    assert_eq!(subscription(Codec::PythonJson, ""), b"\"");
    assert_eq!(subscription(Codec::Json, "quotes"), b"quotes");
}

#[test]
fn python_timestamps_in_other_number_forms_decode() {
    for (text, ns) in [
        ("1700000000", 1_700_000_000_000_000_000u64),
        ("1700000000.0", 1_700_000_000_000_000_000),
        ("1700000000.1234567891", 1_700_000_000_123_456_789),
        ("1.7e9", 1_700_000_000_000_000_000),
    ] {
        assert_eq!(
            read_python_timestamp(text.as_bytes()).unwrap(),
            ns,
            "{text}"
        );
    }
    for bad in ["", "-1", "abc", "1e400", "\"1\""] {
        assert!(read_python_timestamp(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn native_header_round_trips() {
    let mut frames = Frames::new();
    encode(&stamp(Codec::Json), &json!({"price": 1.5}), &mut frames).unwrap();
    let [topic, body] = parts(&frames)[..] else {
        panic!("expected two frames");
    };
    assert_eq!(topic, b"quotes/bitstamp");
    assert_eq!(&body[..2], &[VERSION << 4 | Codec::Json.id(), 8]);
    assert_eq!(
        body[HEADER_LEN], 42,
        "a small sequence number is one varint byte"
    );
    assert_eq!(&body[HEADER_LEN + 1..HEADER_LEN + 9], b"bitstamp");
    assert_eq!(&body[HEADER_LEN + 9..], br#"{"price":1.5}"#);
    let raw = RawEnvelope::decode(Codec::Protobuf, &parts(&frames)).unwrap();
    assert_eq!(raw.codec, Codec::Json, "the header's codec wins");
    assert_eq!((raw.epoch, raw.seq), (7, 42));
    assert_eq!(raw.timestamp_ns, 1_700_000_000_123_456_000);
    assert_eq!(raw.origin, "bitstamp");
}

#[test]
fn native_header_layout_is_pinned() {
    let header = Header {
        codec: Codec::Protobuf,
        fingerprint: 0x0102_0304_0506_0708,
        epoch: 9,
        seq: 300,
        timestamp_ns: 11,
    };
    let mut buf = Vec::new();
    header.write("ab", &mut buf);
    let expected: Vec<u8> = [
        &[0x11u8, 2][..],
        &[8, 7, 6, 5, 4, 3, 2, 1],
        &[9, 0, 0, 0],
        &[11, 0, 0, 0, 0, 0, 0, 0],
        &[0xac, 0x02],
        b"ab",
    ]
    .concat();
    assert_eq!(buf, expected);
    buf.extend_from_slice(b"payload");
    assert_eq!(Header::read(&buf).unwrap(), (header, "ab", &b"payload"[..]));
}

#[test]
fn malformed_native_frames_are_typed_errors() {
    let mut good = Vec::new();
    Header {
        codec: Codec::Json,
        fingerprint: 0,
        epoch: 1,
        seq: 0,
        timestamp_ns: 0,
    }
    .write("origin", &mut good);
    fn decode<'a>(parts: &[&'a [u8]]) -> Result<RawEnvelope<'a>, FrameError> {
        RawEnvelope::decode(Codec::Json, parts)
    }
    assert!(matches!(
        decode(&[b"t"]),
        Err(FrameError::FrameCount {
            expected: 2,
            found: 1
        })
    ));
    assert!(matches!(
        decode(&[b"t", &good, b"{}"]),
        Err(FrameError::FrameCount {
            expected: 2,
            found: 3
        })
    ));
    assert!(matches!(
        decode(&[b"t", b"short"]),
        Err(FrameError::ShortHeader { .. })
    ));
    assert!(matches!(
        decode(&[b"t", &good[..HEADER_LEN + 2]]),
        Err(FrameError::ShortHeader { .. })
    ));
    let mut wrong_version = good.clone();
    wrong_version[0] = 0x92;
    assert_eq!(decode(&[b"t", &wrong_version]), Err(FrameError::Version(9)));
    let mut wrong_codec = good.clone();
    wrong_codec[0] = 0x1c;
    assert_eq!(
        decode(&[b"t", &wrong_codec]),
        Err(FrameError::UnknownCodec(12))
    );
    let mut python_id = good.clone();
    python_id[0] = 0x13;
    assert_eq!(
        decode(&[b"t", &python_id]),
        Err(FrameError::UnknownCodec(3))
    );
    let mut endless_varint = good[..HEADER_LEN].to_vec();
    endless_varint.extend_from_slice(&[0xff; 11]);
    assert!(matches!(
        decode(&[b"t", &endless_varint]),
        Err(FrameError::ShortHeader { .. })
    ));
    assert!(matches!(
        decode(&[b"\xff", &good]),
        Err(FrameError::Text { frame: "topic", .. })
    ));
}

#[test]
fn fingerprint_mismatch_is_refused() {
    struct Typed;
    impl Message for Typed {
        const NAME: &'static str = "test.Typed";
        const FINGERPRINT: u64 = 99;
        fn supports(_: Codec) -> bool {
            true
        }
        fn encode(&self, _: Codec, _: &mut Vec<u8>) -> Result<(), CodecError> {
            Ok(())
        }
        fn decode(_: Codec, _: &[u8]) -> Result<Self, CodecError> {
            Ok(Typed)
        }
    }
    let mut frames = Frames::new();
    encode(&stamp(Codec::Json), &json!(1), &mut frames).unwrap();
    let raw = RawEnvelope::decode(Codec::Json, &parts(&frames)).unwrap();
    assert!(matches!(
        raw.clone().into_envelope::<Typed>(),
        Err(FrameError::Fingerprint {
            expected: 99,
            found: 0,
            ..
        })
    ));
    // `Value` accepts any JSON publisher.
    assert_eq!(raw.into_envelope::<Value>().unwrap().message, json!(1));
}

proptest! {
    #[test]
    fn decoding_arbitrary_frames_never_panics(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..6),
        codec in prop::sample::select(Codec::ALL.to_vec()),
    ) {
        let parts: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        if let Ok(raw) = RawEnvelope::decode(codec, &parts) {
            let _ = raw.into_envelope::<Value>();
        }
    }

    #[test]
    fn truncated_valid_frames_never_panic(cut in 0usize..200, frame in 0usize..4, codec in prop::sample::select(vec![Codec::Json, Codec::PythonJson])) {
        let mut frames = Frames::new();
        encode(&stamp(codec), &json!({"a": [1, 2, 3], "b": "text"}), &mut frames).unwrap();
        let mut owned: Vec<Vec<u8>> = frames.parts().to_vec();
        let frame = frame % owned.len();
        let cut = cut.min(owned[frame].len());
        owned[frame].truncate(cut);
        let parts: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        if let Ok(raw) = RawEnvelope::decode(codec, &parts) {
            let _ = raw.into_envelope::<Value>();
        }
    }

    #[test]
    fn every_codec_round_trips_topic_origin_and_stamp(
        topic in "[a-z]{1,8}(/[a-z0-9_]{1,8}){0,3}",
        origin in "\\PC{0,16}",
        seq in any::<u64>(),
        epoch in 1u32..,
        micros in 0u64..4_000_000_000_000_000,
    ) {
        for codec in [Codec::Json, Codec::PythonJson] {
            let stamp = Stamp { codec, topic: &topic, origin: &origin, epoch, seq, timestamp_ns: micros * 1000 };
            let mut frames = Frames::new();
            encode(&stamp, &json!({"k": seq}), &mut frames).unwrap();
            let raw = RawEnvelope::decode(codec, &parts(&frames)).unwrap();
            let envelope = raw.into_envelope::<Value>().unwrap();
            prop_assert_eq!(&envelope.topic, &topic);
            prop_assert_eq!(&envelope.origin, &origin);
            prop_assert_eq!(envelope.timestamp_ns, micros * 1000);
            prop_assert_eq!(envelope.message, json!({"k": seq}));
            if codec == Codec::Json {
                prop_assert_eq!((envelope.seq, envelope.epoch), (seq, epoch));
            }
        }
    }
}
