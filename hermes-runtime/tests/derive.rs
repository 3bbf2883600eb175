//! `#[derive(HermesMessage)]` at run time: derived types cross real PUB/SUB sockets with every
//! codec they support, and their fingerprints follow their shape.

mod common;

use std::fmt::Debug;

use common::{DEADLINE, await_subscription, transports, unique};
use hermes_runtime::{
    Codec, CodecError, Context, HermesMessage, Message, Publisher, PythonLayout, Receiver,
};

/// Generated code derives prost, serde and schemars, so it travels with every codec.
#[derive(
    Clone,
    PartialEq,
    prost::Message,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
    HermesMessage,
)]
#[hermes(name = "trading.Quote", topic = "quotes")]
struct Quote {
    #[prost(double, tag = "1")]
    price: f64,
    #[prost(double, tag = "2")]
    size: f64,
    #[prost(string, tag = "3")]
    symbol: String,
}

fn quote(price: f64) -> Quote {
    Quote {
        price,
        size: 2.5,
        symbol: "BTC-EUR".to_owned(),
    }
}

/// A unit enum: the built-in protobuf encoding, and serde for JSON.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "trading.Side")]
enum Side {
    Buy = 1,
    Sell = 2,
    Hold = 0,
}

/// An enum with fields: JSON only.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "demo.Command", codec = "json")]
enum Command {
    Stop,
    Move { x: i32, y: i32 },
    Say(String),
}

/// Sends `message` from a publisher to a receiver, both using `codec`, over tcp, ipc and
/// inproc; asserts the same message arrived over each and returns it.
fn round_trip<M: Message + Clone + PartialEq + Debug>(codec: Codec, message: &M) -> M {
    let context = Context::new();
    let mut arrived: Vec<(&str, M)> = Vec::new();
    for (transport, endpoint, _dir) in transports() {
        let mut receiver = Receiver::<M>::builder(&context)
            .topic("derived")
            .codec(codec)
            .build()
            .expect("receiver");
        let bound = receiver.bind(&endpoint).expect("bind receiver");
        let mut publisher = Publisher::<M>::builder(&context)
            .topic("derived/data")
            .origin("test")
            .codec(codec)
            .connect(&bound)
            .expect("connect publisher");
        await_subscription(&mut publisher, &mut receiver, "derived/probe", message);
        publisher.send(message).expect("send");
        let envelope = receiver.recv_timeout(DEADLINE).expect("receive");
        assert_eq!(envelope.topic, "derived/data", "{codec} over {transport}");
        arrived.push((transport, envelope.message));
    }
    let (_, first) = arrived.first().cloned().expect("three transports");
    for (transport, message) in &arrived {
        assert_eq!(message, &first, "{codec} over {transport}");
    }
    first
}

#[test]
fn derived_struct_round_trips_through_every_codec() {
    for codec in Codec::ALL {
        assert!(Quote::supports(codec), "{codec}");
        let sent = quote(101.25);
        assert_eq!(round_trip(codec, &sent), sent, "{codec}");
    }
}

#[test]
fn derived_unit_enum_round_trips_through_every_codec() {
    for codec in Codec::ALL {
        for side in [Side::Buy, Side::Sell, Side::Hold] {
            assert_eq!(round_trip(codec, &side), side, "{codec}");
        }
    }
}

#[test]
fn derived_enum_with_fields_round_trips_through_json_codecs() {
    for codec in [Codec::Json, Codec::PythonJson] {
        let sent = Command::Move { x: -3, y: 4 };
        assert_eq!(round_trip(codec, &sent), sent, "{codec}");
        let sent = Command::Say("hello".to_owned());
        assert_eq!(round_trip(codec, &sent), sent, "{codec}");
    }
}

#[test]
fn default_codec_and_topic_configure_publishers_and_receivers() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("derive-defaults"));
    let commands = Receiver::<Command>::builder(&context).build().unwrap();
    assert_eq!(commands.codec(), Codec::Json);

    let mut receiver = Receiver::<Quote>::builder(&context)
        .topic("quotes")
        .bind(&endpoint)
        .unwrap();
    let mut publisher = Publisher::<Quote>::builder(&context)
        .connect(&endpoint)
        .unwrap();
    assert_eq!(
        (receiver.codec(), publisher.codec()),
        (Codec::Protobuf, Codec::Protobuf)
    );
    assert_eq!(publisher.topic(), "quotes");
    await_subscription(&mut publisher, &mut receiver, "quotes/probe", &quote(1.0));
    publisher.send(&quote(2.0)).unwrap();
    let envelope = receiver.recv_timeout(DEADLINE).unwrap();
    assert_eq!(
        (envelope.topic.as_str(), envelope.message),
        ("quotes", quote(2.0))
    );
}

#[test]
fn unsupported_codecs_are_errors() {
    let mut buf = Vec::new();
    assert!(!Command::supports(Codec::Protobuf));
    assert_eq!(
        Command::Stop.encode(Codec::Protobuf, &mut buf),
        Err(CodecError::Unsupported {
            codec: Codec::Protobuf,
            message: "demo.Command",
        })
    );
    assert!(matches!(
        Command::decode(Codec::Protobuf, b""),
        Err(CodecError::Unsupported { .. })
    ));
}

#[test]
fn unit_enum_protobuf_is_its_value_as_field_one() {
    let mut buf = Vec::new();
    Side::Sell.encode(Codec::Protobuf, &mut buf).unwrap();
    assert_eq!(buf, [0x08, 0x02]);
    // Value 0 is the protobuf default and is not written.
    buf.clear();
    Side::Hold.encode(Codec::Protobuf, &mut buf).unwrap();
    assert!(buf.is_empty());
    assert_eq!(Side::decode(Codec::Protobuf, b"").unwrap(), Side::Hold);
}

#[test]
fn unit_enum_unknown_or_malformed_values_are_decode_errors() {
    assert_eq!(
        Side::decode(Codec::Protobuf, &[0x08, 0x07]),
        Err(CodecError::Decode(
            "no variant of `trading.Side` has value 7".to_owned()
        ))
    );
    for bytes in [&[0x08][..], &[0x08, 0xff][..], &[0xff; 11][..]] {
        assert!(
            matches!(
                Side::decode(Codec::Protobuf, bytes),
                Err(CodecError::Decode(_))
            ),
            "{bytes:?}"
        );
    }
}

#[test]
fn different_shapes_have_different_fingerprints() {
    mod shapes {
        use hermes_runtime::HermesMessage;

        #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
        #[hermes(name = "trading.Quote", codec = "json")]
        pub struct Reordered {
            pub size: f64,
            pub price: f64,
            pub symbol: String,
        }

        #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
        #[hermes(name = "trading.Quote", codec = "json")]
        pub struct Retyped {
            pub price: f32,
            pub size: f64,
            pub symbol: String,
        }

        #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
        #[hermes(name = "trading.Quote", codec = "json")]
        pub struct Renamed {
            pub bid: f64,
            pub size: f64,
            pub symbol: String,
        }

        #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
        #[hermes(name = "trading.Quote", codec = "json")]
        pub struct Tuple(pub f64, pub f64, pub String);

        #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
        #[hermes(name = "trading.Side")]
        pub enum SideReordered {
            Sell = 2,
            Buy = 1,
            Hold = 0,
        }
    }
    let fingerprints = [
        Quote::FINGERPRINT,
        shapes::Reordered::FINGERPRINT,
        shapes::Retyped::FINGERPRINT,
        shapes::Renamed::FINGERPRINT,
        shapes::Tuple::FINGERPRINT,
        Side::FINGERPRINT,
        shapes::SideReordered::FINGERPRINT,
        Command::FINGERPRINT,
    ];
    for (i, a) in fingerprints.iter().enumerate() {
        for b in &fingerprints[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

/// Pinned: a change to the canonical form or to the hash changes every fingerprint on the wire,
/// so it must be deliberate. The constants were computed independently (FNV-1a 64 of the
/// canonical strings); update them only together with a wire-format note.
#[test]
fn fingerprints_are_pinned_constants() {
    const QUOTE: u64 = <Quote as Message>::FINGERPRINT;
    assert_eq!(
        QUOTE,
        hermes_runtime::fingerprint("trading.Quote{price:f64;size:f64;symbol:String}")
    );
    assert_eq!(QUOTE, 0x51c2_1a3c_a45a_0fb5);
    assert_eq!(
        Side::FINGERPRINT,
        hermes_runtime::fingerprint("trading.Side{Buy=1;Sell=2;Hold=0}")
    );
    assert_eq!(Side::FINGERPRINT, 0xceef_1026_25ca_c484);
    assert_eq!(
        Command::FINGERPRINT,
        hermes_runtime::fingerprint("demo.Command{Stop;Move(x:i32;y:i32);Say(0:String)}")
    );
    assert_eq!(Command::FINGERPRINT, 0x87ca_8031_b065_e21e);
}

/// With `version`, the fingerprint is the lineage: an appended field keeps it (old and new
/// builds interoperate), a raised version changes it.
#[test]
fn version_makes_the_fingerprint_the_lineage() {
    mod lineage {
        use hermes_runtime::HermesMessage;

        #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
        #[hermes(name = "trading.Quote", version = 1, codec = "json")]
        pub struct V1 {
            pub price: f64,
        }

        #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
        #[hermes(name = "trading.Quote", version = 1, codec = "json")]
        pub struct V1Appended {
            pub price: f64,
            pub size: f64,
        }

        #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
        #[hermes(name = "trading.Quote", version = 2, codec = "json")]
        pub struct V2 {
            pub price: f64,
        }
    }
    const V1: u64 = <lineage::V1 as Message>::FINGERPRINT;
    assert_eq!(V1, hermes_runtime::fingerprint("trading.Quote@v1"));
    assert_eq!(
        V1, 0xe388_d41e_4516_fbe1,
        "pinned: the lineage string is on the wire"
    );
    assert_eq!(lineage::V1Appended::FINGERPRINT, V1);
    assert_eq!(
        lineage::V2::FINGERPRINT,
        hermes_runtime::fingerprint("trading.Quote@v2")
    );
    assert_ne!(lineage::V2::FINGERPRINT, V1);
    assert_ne!(V1, Quote::FINGERPRINT, "without `version`, the field hash");
}

#[test]
fn default_name_is_the_rust_path_of_the_type() {
    #[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
    #[hermes(codec = "json")]
    struct Local {
        n: u32,
    }
    assert_eq!(Local::NAME, "derive::Local");
    assert_eq!(
        Local::FINGERPRINT,
        hermes_runtime::fingerprint("derive::Local{n:u32}")
    );
}

#[test]
fn json_schema_comes_from_schemars_when_derived() {
    let schema = Quote::json_schema().expect("Quote derives JsonSchema");
    let properties = schema.get("properties").expect("an object schema");
    for field in ["price", "size", "symbol"] {
        assert!(properties.get(field).is_some(), "{field}");
    }
    assert!(Side::json_schema().is_none());
}

/// A type whose `python-json` layout is `object` unless a publisher says otherwise.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "trading.Fill", codec = "python-json", python_layout = "object")]
struct Fill {
    side: Side,
    price: f64,
    levels: Vec<u32>,
}

fn fill() -> Fill {
    Fill {
        side: Side::Sell,
        price: 101.5,
        levels: vec![1, 2],
    }
}

#[test]
fn python_layout_attribute_sets_the_default_layout() {
    assert_eq!(Fill::PYTHON_LAYOUT, PythonLayout::Object);
    assert_eq!(Quote::PYTHON_LAYOUT, PythonLayout::Message);
    let mut buf = Vec::new();
    fill().encode(Codec::PythonJson, &mut buf).unwrap();
    assert_eq!(
        String::from_utf8(buf).unwrap(),
        r#"{"side": "Sell", "price": 101.5, "levels": [1, 2]}"#
    );
}

#[test]
fn derived_types_write_every_python_layout() {
    let ts = 1_700_000_000_250_000_000;
    let written = |layout| {
        let mut buf = Vec::new();
        fill().encode_python(layout, ts, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    };
    assert_eq!(
        written(PythonLayout::Message),
        r#"["Fill", 1700000000.25, "Sell", 101.5, [1, 2]]"#
    );
    assert_eq!(written(PythonLayout::List), r#"["Sell", 101.5, [1, 2]]"#);
    assert_eq!(
        written(PythonLayout::Object),
        r#"{"side": "Sell", "price": 101.5, "levels": [1, 2]}"#
    );
}

#[test]
fn derived_types_read_every_python_layout() {
    for payload in [
        r#"["Fill", 1700000000.25, "Sell", 101.5, [1, 2]]"#,
        r#"["trading.Fill", 1700000000.25, "Sell", 101.5, [1, 2]]"#,
        r#"["Sell", 101.5, [1, 2]]"#,
        r#"{"levels": [1, 2], "price": 101.5, "side": "Sell"}"#,
    ] {
        assert_eq!(
            Fill::decode(Codec::PythonJson, payload.as_bytes()),
            Ok(fill()),
            "{payload}"
        );
    }
}

#[test]
fn python_payloads_of_the_wrong_shape_are_decode_errors_that_say_why() {
    for (payload, reason) in [
        (
            r#"["Quote", 1.5, "Sell", 101.5, [1, 2]]"#,
            "expected dtype `Fill` in `[dtype, ts, fields…]`, found `Quote`",
        ),
        (
            r#""Sell""#,
            "expected `Fill` as `[dtype, ts, fields…]`, a list of its 3 fields or an object, found a string",
        ),
        (
            r#"["Sell", "cheap"]"#,
            "field `price` (element 1): invalid type: string \"cheap\", expected f64",
        ),
        (
            r#"["Sell", 1.5, [1, 2], 4]"#,
            "expected `Fill` as `[dtype, ts, fields…]` or a list of at most 3 fields, found an array of 4 elements",
        ),
    ] {
        assert_eq!(
            Fill::decode(Codec::PythonJson, payload.as_bytes()),
            Err(CodecError::Decode(reason.to_owned())),
            "{payload}"
        );
    }
}

#[test]
fn a_receiver_counts_python_payloads_of_the_wrong_shape_and_keeps_going() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("python-shape"));
    let mut receiver = Receiver::<Fill>::builder(&context)
        .topic("fills")
        .bind(&endpoint)
        .unwrap();
    let mut untyped = Publisher::<serde_json::Value>::builder(&context)
        .codec(Codec::PythonJson)
        .topic("fills")
        .connect(&endpoint)
        .unwrap();
    let mut typed = Publisher::<Fill>::builder(&context)
        .topic("fills")
        .python_layout(PythonLayout::List)
        .connect(&endpoint)
        .unwrap();
    await_subscription(&mut typed, &mut receiver, "fills/probe", &fill());
    // Until the untyped publisher's subscription has arrived too, its envelopes are dropped.
    let deadline = std::time::Instant::now() + DEADLINE;
    while receiver.stats().decode_errors == 0 {
        untyped.send(&serde_json::json!({"side": 3})).unwrap();
        match receiver.recv_timeout(std::time::Duration::from_millis(20)) {
            Err(hermes_runtime::Error::Timeout) => {}
            other => panic!("expected the bad payload to be counted, got {other:?}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no decode error counted"
        );
    }
    typed.send(&fill()).unwrap();
    let envelope = receiver.recv_timeout(DEADLINE).unwrap();
    assert_eq!(envelope.message, fill());
    assert!(receiver.stats().decode_errors >= 1);
}

/// Two `bytes` fields held as `Bytes`, so decoding can share the received frame.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "test.Chunks")]
struct Chunks {
    #[prost(bytes = "bytes", tag = "1")]
    first: hermes_runtime::Bytes,
    #[prost(bytes = "bytes", tag = "2")]
    second: hermes_runtime::Bytes,
}

#[test]
fn bytes_fields_are_decoded_as_slices_of_the_received_frame_not_copies() {
    const { assert!(Chunks::SHARES_PAYLOAD) };
    const { assert!(!<Quote as Message>::SHARES_PAYLOAD) };
    let context = Context::new();
    for batching in [None, Some(hermes_runtime::Batching::DEFAULT)] {
        let endpoint = format!("inproc://{}", unique("chunks"));
        let mut receiver = Receiver::<Chunks>::builder(&context)
            .topic("chunks")
            .bind(&endpoint)
            .unwrap();
        let mut builder = Publisher::<Chunks>::builder(&context)
            .topic("chunks")
            .hwm(0);
        if let Some(batching) = batching {
            builder = builder.batching(batching);
        }
        let mut publisher = builder.connect(&endpoint).unwrap();
        let chunks = Chunks {
            first: vec![1u8; 1000].into(),
            second: vec![2u8; 1000].into(),
        };
        await_subscription(&mut publisher, &mut receiver, "chunks", &chunks);
        for _ in 0..3 {
            publisher.send(&chunks).unwrap();
        }
        publisher.flush().unwrap();
        for _ in 0..3 {
            let received = receiver.recv_timeout(DEADLINE).unwrap().message;
            assert!(received == chunks);
            // Both fields lie in one buffer, 3 bytes apart (the second field's tag and
            // two-byte length): slices of the frame, where copies would be two allocations.
            let gap = received.second.as_ptr() as usize - received.first.as_ptr() as usize;
            assert_eq!(gap, 1000 + 3, "batching: {batching:?}");
        }
    }
}
