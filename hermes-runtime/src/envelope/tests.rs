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
        python_layout: PythonLayout::Message,
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
        // As `json.dumps` writes it: a space after each comma.
        br#"["Quote", 101.5]"#,
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
    let raw = WireEnvelope::decode(Codec::PythonJson, &frames).unwrap();
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
fn python_json_timestamps_are_python_float_reprs() {
    for (timestamp_ns, text) in [
        (1_700_000_000_500_000_000, "1700000000.5"),
        (1_700_000_000_000_000_000, "1700000000.0"),
        (1_700_000_000_000_001_000, "1700000000.000001"),
    ] {
        let mut frames = Frames::new();
        let stamp = Stamp {
            timestamp_ns,
            ..stamp(Codec::PythonJson)
        };
        encode(&stamp, &json!(null), &mut frames).unwrap();
        assert_eq!(frames.parts()[3], text.as_bytes());
    }
}

#[test]
fn python_json_escapes_like_python() {
    let mut stamp = stamp(Codec::PythonJson);
    stamp.topic = "caf\u{e9}/\"q\"/\u{1F600}";
    let mut frames = Frames::new();
    encode(&stamp, &json!(null), &mut frames).unwrap();
    assert_eq!(frames.parts()[0], br#""caf\u00e9/\"q\"/\ud83d\ude00""#);
    let raw = WireEnvelope::decode(Codec::PythonJson, &parts(&frames)).unwrap();
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
    let raw = WireEnvelope::decode(Codec::Protobuf, &parts(&frames)).unwrap();
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
    fn decode<'a>(parts: &[&'a [u8]]) -> Result<WireEnvelope<'a>, FrameError> {
        WireEnvelope::decode(Codec::Json, parts)
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
    let raw = WireEnvelope::decode(Codec::Json, &parts(&frames)).unwrap();
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
        if let Ok(raw) = WireEnvelope::decode(codec, &parts) {
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
        if let Ok(raw) = WireEnvelope::decode(codec, &parts) {
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
            let stamp = Stamp { codec, topic: &topic, origin: &origin, epoch, seq, timestamp_ns: micros * 1000, python_layout: PythonLayout::Message };
            let mut frames = Frames::new();
            encode(&stamp, &json!({"k": seq}), &mut frames).unwrap();
            let raw = WireEnvelope::decode(codec, &parts(&frames)).unwrap();
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

/// A prost message with every kind of field a generated type has: strings, bytes, zigzag and
/// fixed numbers, repeated fields and a recursive nested message (so a hostile payload can
/// nest deeply).
#[derive(Clone, PartialEq, prost::Message, crate::HermesMessage)]
#[hermes(name = "test.Quote", crate = "crate")]
struct Quote {
    #[prost(string, tag = "1")]
    symbol: String,
    #[prost(double, tag = "2")]
    price: f64,
    #[prost(sint64, tag = "3")]
    size: i64,
    #[prost(bytes = "vec", tag = "4")]
    raw: Vec<u8>,
    #[prost(message, optional, tag = "5")]
    level: Option<Level>,
    #[prost(uint32, repeated, tag = "6")]
    ids: Vec<u32>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Level {
    #[prost(double, tag = "1")]
    price: f64,
    #[prost(string, repeated, tag = "2")]
    venues: Vec<String>,
    #[prost(message, optional, boxed, tag = "3")]
    inner: Option<Box<Level>>,
}

fn quote(symbol: String, raw: Vec<u8>, ids: Vec<u32>) -> Quote {
    Quote {
        symbol,
        price: 101.5,
        size: -3,
        raw,
        level: Some(Level {
            price: 1.0,
            venues: vec!["bitstamp".to_owned(), "kraken".to_owned()],
            inner: Some(Box::new(Level::default())),
        }),
        ids,
    }
}

/// A native header for `Quote` (the right codec and fingerprint) followed by `payload`, so
/// the payload reaches prost.
fn quote_body(payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    Header {
        codec: Codec::Protobuf,
        fingerprint: Quote::FINGERPRINT,
        epoch: 1,
        seq: 0,
        timestamp_ns: 0,
    }
    .write("origin", &mut body);
    body.extend_from_slice(payload);
    body
}

/// Decodes `parts`, whose frames are valid, as a native receiver of `Quote` and of `Payload`
/// would: `Some` envelope, or `None` for a payload prost refused. Any other outcome fails the
/// property (a panic or an abort on a huge allocation fails the test by itself).
fn decode_quote(parts: &[&[u8]]) -> Result<Option<Envelope<Quote>>, TestCaseError> {
    let raw = WireEnvelope::decode(Codec::Protobuf, parts)
        .map_err(|err| TestCaseError::fail(format!("the frames are valid: {err}")))?;
    let payload = raw.decode_message::<crate::Payload>();
    prop_assert!(payload.is_ok(), "a `Payload` takes any bytes: {payload:?}");
    match raw.into_envelope::<Quote>() {
        Ok(envelope) => Ok(Some(envelope)),
        Err(FrameError::Payload(CodecError::Decode(_))) => Ok(None),
        Err(other) => Err(TestCaseError::fail(format!(
            "expected a payload decode error, found {other:?}"
        ))),
    }
}

/// Bytes that look like protobuf to prost: real field keys of every wire type with lengths and
/// values, some of them hostile (lengths up to `u64::MAX`, varints that never end).
fn protobuf_like() -> impl Strategy<Value = Vec<u8>> {
    let field = (
        1u64..8,
        0u64..8,
        prop_oneof![Just(u64::MAX), Just(1u64 << 40), 0u64..300],
        prop::collection::vec(any::<u8>(), 0..24),
    )
        .prop_map(|(tag, wire_type, number, bytes)| {
            let mut out = Vec::new();
            put_varint(tag << 3 | wire_type, &mut out);
            put_varint(number, &mut out);
            out.extend_from_slice(&bytes);
            out
        });
    prop::collection::vec(field, 0..8).prop_map(|fields| fields.concat())
}

fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

proptest! {
    #[test]
    fn random_protobuf_payloads_after_a_valid_header_are_ok_or_a_decode_error(
        payload in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), protobuf_like()],
    ) {
        let body = quote_body(&payload);
        decode_quote(&[b"quotes", &body])?;
    }

    #[test]
    fn deeply_nested_protobuf_payloads_are_refused_not_overflowed(depth in 90usize..400) {
        // `level { inner { inner { ... } } }`: each level a length-delimited field.
        let mut payload = Vec::new();
        for level in 0..depth {
            let mut outer = Vec::new();
            put_varint(if level == depth - 1 { 5 << 3 | 2 } else { 3 << 3 | 2 }, &mut outer);
            put_varint(payload.len() as u64, &mut outer);
            outer.extend_from_slice(&payload);
            payload = outer;
        }
        let body = quote_body(&payload);
        // prost's recursion limit is 100 nested messages; past it, a decode error.
        match decode_quote(&[b"quotes", &body])? {
            Some(_) => prop_assert!(depth <= 101, "decoded {depth} levels"),
            None => prop_assert!(depth >= 100, "refused {depth} levels"),
        }
    }

    #[test]
    fn truncated_protobuf_envelopes_are_ok_or_a_typed_error(
        symbol in "\\PC{0,12}",
        raw in prop::collection::vec(any::<u8>(), 0..64),
        ids in prop::collection::vec(any::<u32>(), 0..8),
        frame in 0usize..2,
        cut in any::<prop::sample::Index>(),
    ) {
        let mut frames = Frames::new();
        encode(&stamp(Codec::Protobuf), &quote(symbol, raw, ids), &mut frames).unwrap();
        let mut owned: Vec<Vec<u8>> = frames.parts().to_vec();
        let len = owned[frame].len();
        owned[frame].truncate(cut.index(len + 1));
        let parts: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        // Cut in the header: a frame error. Cut in the payload: Ok or a decode error.
        match WireEnvelope::decode(Codec::Protobuf, &parts) {
            Ok(_) => {
                decode_quote(&parts)?;
            }
            Err(FrameError::ShortHeader { .. } | FrameError::Text { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn oversized_frames_are_ok_or_a_typed_error(
        topic_len in 0usize..(256 * 1024),
        trailing in prop::collection::vec(any::<u8>(), 0..(64 * 1024)),
        codec in prop::sample::select(Codec::ALL.to_vec()),
    ) {
        // A valid envelope with a huge topic and a payload followed by up to 64 KiB of junk.
        let topic = "q".repeat(topic_len.max(1));
        let mut frames = Frames::new();
        let stamp = Stamp { topic: &topic, ..stamp(codec) };
        if codec == Codec::Protobuf {
            encode(&stamp, &quote("BTC".to_owned(), vec![1; 1024], vec![7; 100]), &mut frames).unwrap();
        } else {
            encode(&stamp, &json!({"big": "x".repeat(1024)}), &mut frames).unwrap();
        }
        let mut owned: Vec<Vec<u8>> = frames.parts().to_vec();
        let payload_frame = if codec == Codec::PythonJson { 2 } else { 1 };
        owned[payload_frame].extend_from_slice(&trailing);
        let parts: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let raw = WireEnvelope::decode(codec, &parts).expect("the frames around the payload are valid");
        prop_assert_eq!(raw.topic.len(), topic.len());
        let decoded = if codec == Codec::Protobuf {
            raw.into_envelope::<Quote>().map(drop)
        } else {
            raw.into_envelope::<Value>().map(drop)
        };
        if trailing.is_empty() {
            prop_assert!(decoded.is_ok(), "{decoded:?}");
        } else if let Err(err) = decoded {
            prop_assert!(matches!(err, FrameError::Payload(CodecError::Decode(_))), "{err:?}");
        }
    }

    #[test]
    fn a_wrong_frame_count_is_a_frame_count_error(
        codec in prop::sample::select(Codec::ALL.to_vec()),
        count in 0usize..8,
        extra in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut frames = Frames::new();
        if codec == Codec::Protobuf {
            encode(&stamp(codec), &quote("BTC".to_owned(), Vec::new(), Vec::new()), &mut frames).unwrap();
        } else {
            encode(&stamp(codec), &json!([1, 2]), &mut frames).unwrap();
        }
        let expected = frames.parts().len();
        prop_assume!(count != expected);
        // The valid frames, cut short or padded with more (valid-looking) frames.
        let owned: Vec<Vec<u8>> = frames
            .parts()
            .iter()
            .cloned()
            .chain(std::iter::repeat(extra))
            .take(count)
            .collect();
        let parts: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(
            WireEnvelope::decode(codec, &parts),
            Err(FrameError::FrameCount { expected, found: count })
        );
    }
}
