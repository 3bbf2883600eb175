//! Run-time types against prost structs written the way hermes-build generates them.

use std::collections::BTreeMap;

use hermes_runtime::{Codec, PythonLayout};
use prost::Message as _;
use serde_json::json;

use super::Types;

/// `Level`, `Quote` and `Order` of the trading fixture, with the field types and prost
/// attributes code generation gives them.
#[derive(Clone, PartialEq, prost::Message)]
struct Level {
    #[prost(double, tag = "1")]
    price: f64,
    #[prost(double, tag = "2")]
    size: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Quote {
    #[prost(string, tag = "1")]
    exchange: String,
    #[prost(enumeration = "Side", tag = "2")]
    side: i32,
    #[prost(double, tag = "3")]
    price: f64,
    #[prost(double, tag = "4")]
    size: f64,
    #[prost(uint64, optional, tag = "5")]
    exchange_ts: Option<u64>,
    #[prost(message, repeated, tag = "6")]
    levels: Vec<Level>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Order {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(enumeration = "Side", tag = "2")]
    side: i32,
    #[prost(double, tag = "3")]
    price: f64,
    #[prost(btree_map = "string, string", tag = "4")]
    tags: BTreeMap<String, String>,
    #[prost(string, optional, tag = "10")]
    note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
#[repr(i32)]
enum Side {
    Bid = 0,
    Ask = 1,
}

fn types() -> Types {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hermes-build/tests/fixtures/valid/trading/topology.yaml"
    );
    let loaded = hermes_build::load(path).expect("the trading fixture loads");
    Types::new(&loaded)
}

#[test]
fn protobuf_encoding_matches_generated_prost_types() {
    let types = types();
    let bytes = types
        .encode(
            "Quote",
            Codec::Protobuf,
            PythonLayout::Message,
            &json!({
                "exchange": "kraken",
                "side": "ask",
                "price": 101.25,
                "exchange_ts": 1_700_000_000_000_000_000u64,
                "levels": [{"price": 101.0, "size": 2.0}, {"price": 100.5}],
            }),
        )
        .expect("a valid quote");
    let quote = Quote::decode(bytes.as_slice()).expect("prost decodes it");
    assert_eq!(
        quote,
        Quote {
            exchange: "kraken".into(),
            side: Side::Ask as i32,
            price: 101.25,
            size: 0.0,
            exchange_ts: Some(1_700_000_000_000_000_000),
            levels: vec![
                Level {
                    price: 101.0,
                    size: 2.0
                },
                Level {
                    price: 100.5,
                    size: 0.0
                },
            ],
        }
    );
}

#[test]
fn protobuf_decoding_gives_the_json_of_generated_types() {
    let order = Order {
        id: 7,
        side: Side::Bid as i32,
        price: 99.5,
        tags: BTreeMap::from([("desk".into(), "fx".into())]),
        note: None,
    };
    let value = types()
        .decode("Order", Codec::Protobuf, &order.encode_to_vec())
        .expect("decodes");
    assert_eq!(
        value,
        json!({"id": 7, "side": "bid", "price": 99.5, "tags": {"desk": "fx"}, "note": null})
    );
}

#[test]
fn optional_fields_keep_presence() {
    let types = types();
    let with_note = Order {
        note: Some(String::new()),
        ..Order::default()
    };
    let value = types
        .decode("Order", Codec::Protobuf, &with_note.encode_to_vec())
        .expect("decodes");
    assert_eq!(value["note"], json!(""));
    let bytes = types
        .encode(
            "Order",
            Codec::Protobuf,
            PythonLayout::Message,
            &json!({"note": ""}),
        )
        .expect("encodes");
    assert_eq!(
        Order::decode(bytes.as_slice()).expect("decodes").note,
        Some(String::new())
    );
}

#[test]
fn json_encoding_is_normalised_with_every_field() {
    let bytes = types()
        .encode(
            "Level",
            Codec::Json,
            PythonLayout::Message,
            &json!({"price": 3}),
        )
        .expect("encodes");
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(value, json!({"price": 3.0, "size": 0.0}));
}

#[test]
fn type_errors_name_the_field_path() {
    let types = types();
    let error = |value| {
        types
            .encode("Quote", Codec::Protobuf, PythonLayout::Message, &value)
            .expect_err("refused")
            .to_string()
    };
    assert_eq!(
        error(json!({"price": "high"})),
        "field `price`: expected f64, found a string"
    );
    assert_eq!(
        error(json!({"levels": [{}, {"size": true}]})),
        "field `levels[1].size`: expected f64, found a boolean"
    );
    assert_eq!(
        error(json!({"side": "sideways"})),
        "field `side`: expected Side (one of `bid`, `ask`), found `sideways`"
    );
    assert_eq!(
        error(json!({"exchange_ts": -1})),
        "field `exchange_ts`: -1 is out of range for timestamp"
    );
    assert!(error(json!({"prise": 1})).starts_with("field `prise`: `Quote` has no such field"));
    // A list is the fields in order, as Python sends them.
    assert_eq!(
        error(json!([1])),
        "field `exchange`: expected string, found an integer"
    );
    assert!(error(json!(true)).starts_with(
        "expected `Quote` as `[dtype, ts, fields…]`, a list of its fields or an object"
    ));
}

#[test]
fn fingerprints_identify_messages() {
    let types = types();
    let quote = types.fingerprint("Quote").expect("declared");
    assert_eq!(types.by_fingerprint(quote), Some("Quote"));
    assert_ne!(types.fingerprint("Order"), Some(quote));
}

#[test]
fn python_json_decodes_every_layout_to_the_yaml_field_names() {
    let types = types();
    let expected = json!({"price": 1.5, "size": 2.0});
    for payload in [
        r#"["Level", 1700000000.5, 1.5, 2.0]"#,
        r#"[1.5, 2.0]"#,
        r#"{"size": 2.0, "price": 1.5}"#,
    ] {
        let value = types
            .decode("Level", Codec::PythonJson, payload.as_bytes())
            .expect("decodes");
        assert_eq!(value, expected, "{payload}");
    }
    let nested = types
        .decode(
            "Quote",
            Codec::PythonJson,
            br#"["Quote", 1.5, "kraken", "ask", 3.5, 1.0, null, [[1.5, 2.0], {"price": 2.5}]]"#,
        )
        .expect("decodes");
    assert_eq!(nested["side"], "ask");
    assert_eq!(
        nested["levels"],
        json!([{"price": 1.5, "size": 2.0}, {"price": 2.5, "size": 0.0}])
    );
    let wrong = types
        .decode("Level", Codec::PythonJson, br#"["Quote", 1.5, 1.5, 2.0]"#)
        .expect_err("wrong dtype");
    assert_eq!(
        wrong,
        "expected dtype `Level` in `[dtype, ts, fields…]`, found `Quote`"
    );
}

#[test]
fn python_json_encodes_in_the_layout_asked_for() {
    let types = types();
    let value = json!(["kraken", "ask", 3.5, 1.0, null, [{"price": 1.5, "size": 2}]]);
    let encoded = |layout| {
        String::from_utf8(
            types
                .encode("Quote", Codec::PythonJson, layout, &value)
                .expect("encodes"),
        )
        .expect("UTF-8")
    };
    assert_eq!(
        encoded(PythonLayout::List),
        r#"["kraken", "ask", 3.5, 1.0, null, [[1.5, 2.0]]]"#
    );
    let message = encoded(PythonLayout::Message);
    assert!(message.starts_with(r#"["Quote", 1"#), "{message}");
    assert!(
        message.ends_with(r#", "kraken", "ask", 3.5, 1.0, null, [[1.5, 2.0]]]"#),
        "{message}"
    );
    assert_eq!(
        encoded(PythonLayout::Object),
        r#"{"exchange": "kraken", "exchange_ts": null, "levels": [{"price": 1.5, "size": 2.0}], "price": 3.5, "side": "ask", "size": 1.0}"#
    );
}
