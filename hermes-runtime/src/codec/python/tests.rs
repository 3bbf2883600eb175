use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hermes_core::PythonLayout;
use serde::{Deserialize, Serialize};

use super::{decode, encode, write_float, write_string};
use crate::error::CodecError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
struct Level {
    price: f64,
    size: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct Book {
    symbol: String,
    side: Side,
    best: Option<Level>,
    levels: Vec<Level>,
    venues: BTreeMap<String, f64>,
    note: Option<String>,
    raw: Vec<u8>,
}

impl Default for Book {
    fn default() -> Self {
        Book {
            symbol: String::new(),
            side: Side::Buy,
            best: None,
            levels: Vec::new(),
            venues: BTreeMap::new(),
            note: None,
            raw: Vec::new(),
        }
    }
}

fn book() -> Book {
    Book {
        symbol: "BTC".into(),
        side: Side::Sell,
        best: Some(Level {
            price: 101.5,
            size: 3,
        }),
        levels: vec![
            Level {
                price: 101.5,
                size: 3,
            },
            Level {
                price: 102.0,
                size: 1,
            },
        ],
        venues: BTreeMap::from([("kraken".into(), 1.0), ("bitstamp".into(), 0.5)]),
        note: None,
        raw: vec![0, 255],
    }
}

const NAME: &str = "trading.Book";
/// 1700000000.5 s.
const TS: u64 = 1_700_000_000_500_000_000;

fn encoded(value: &impl Serialize, layout: PythonLayout) -> String {
    let mut buf = Vec::new();
    encode(value, layout, NAME, TS, &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

fn decode_error<M: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
    match decode::<M>(text.as_bytes(), NAME) {
        Err(CodecError::Decode(reason)) => reason,
        other => panic!("expected a decode error for {text}, got {other:?}"),
    }
}

#[test]
fn message_layout_starts_with_dtype_and_ts_and_nests_plain_lists() {
    assert_eq!(
        encoded(&book(), PythonLayout::Message),
        r#"["Book", 1700000000.5, "BTC", "Sell", [101.5, 3], [[101.5, 3], [102.0, 1]], {"bitstamp": 0.5, "kraken": 1.0}, null, [0, 255]]"#
    );
}

#[test]
fn list_layout_is_the_fields_in_order() {
    assert_eq!(
        encoded(&book(), PythonLayout::List),
        r#"["BTC", "Sell", [101.5, 3], [[101.5, 3], [102.0, 1]], {"bitstamp": 0.5, "kraken": 1.0}, null, [0, 255]]"#
    );
}

#[test]
fn object_layout_is_the_fields_by_name() {
    assert_eq!(
        encoded(&book(), PythonLayout::Object),
        r#"{"symbol": "BTC", "side": "Sell", "best": {"price": 101.5, "size": 3}, "levels": [{"price": 101.5, "size": 3}, {"price": 102.0, "size": 1}], "venues": {"bitstamp": 0.5, "kraken": 1.0}, "note": null, "raw": [0, 255]}"#
    );
}

#[test]
fn every_layout_decodes_back() {
    for layout in PythonLayout::ALL {
        let text = encoded(&book(), layout);
        assert_eq!(
            decode::<Book>(text.as_bytes(), NAME).unwrap(),
            book(),
            "{text}"
        );
    }
}

#[test]
fn message_array_accepts_the_full_name_as_dtype() {
    let text = r#"["trading.Book", 1.5, "ETH"]"#;
    assert_eq!(decode::<Book>(text.as_bytes(), NAME).unwrap().symbol, "ETH");
}

#[test]
fn nested_messages_decode_from_every_layout() {
    for best in [
        r#"["Level", 1.5, 2.5, 4]"#,
        r#"[2.5, 4]"#,
        r#"{"size": 4, "price": 2.5}"#,
    ] {
        let text = format!(r#"["BTC", "Buy", {best}]"#);
        let decoded = decode::<Book>(text.as_bytes(), NAME).unwrap();
        assert_eq!(
            decoded.best,
            Some(Level {
                price: 2.5,
                size: 4
            }),
            "{text}"
        );
    }
}

#[test]
fn a_short_list_leaves_trailing_fields_at_their_defaults() {
    let decoded = decode::<Book>(br#"["BTC"]"#, NAME).unwrap();
    assert_eq!(
        decoded,
        Book {
            symbol: "BTC".into(),
            ..Book::default()
        }
    );
}

#[test]
fn a_newer_senders_extra_fields_are_ignored_in_the_message_layout() {
    let text = r#"["Level", 1.5, 2.5, 4, "added later"]"#;
    let level: Level = decode(text.as_bytes(), "trading.Level").unwrap();
    assert_eq!(
        level,
        Level {
            price: 2.5,
            size: 4
        }
    );
}

#[test]
fn an_object_ignores_unknown_keys() {
    let level: Level = decode(br#"{"price": 1.5, "venue": "x"}"#, "t.Level").unwrap();
    assert_eq!(
        level,
        Level {
            price: 1.5,
            size: 0
        }
    );
}

#[test]
fn wrong_dtype_is_an_error_naming_both() {
    let reason = decode_error::<Book>(r#"["Trade", 1.5, "BTC", "Buy", null, [], {}, null, []]"#);
    assert_eq!(
        reason,
        "expected dtype `Book` in `[dtype, ts, fields…]`, found `Trade`"
    );
}

#[test]
fn too_long_a_list_is_an_error() {
    let reason = decode_error::<Level>("[1.5, 2, 3, 4]");
    assert_eq!(
        reason,
        "expected `Level` as `[dtype, ts, fields…]` or a list of at most 2 fields, found an array of 4 elements"
    );
}

#[test]
fn a_scalar_where_a_message_belongs_is_an_error() {
    let reason = decode_error::<Book>("42");
    assert_eq!(
        reason,
        "expected `Book` as `[dtype, ts, fields…]`, a list of its 7 fields or an object, found a number"
    );
}

#[test]
fn a_field_of_the_wrong_type_is_named() {
    let reason = decode_error::<Book>(r#"["BTC", "Buy", ["cheap", 1]]"#);
    assert_eq!(
        reason,
        "field `best` (element 2): field `price` (element 0): invalid type: string \"cheap\", expected f64"
    );
    let reason = decode_error::<Book>(r#"{"symbol": 7}"#);
    assert_eq!(
        reason,
        "field `symbol`: invalid type: integer `7`, expected a string"
    );
}

#[test]
fn an_unknown_enum_name_is_named() {
    let reason = decode_error::<Book>(r#"["BTC", "Hold"]"#);
    assert_eq!(
        reason,
        "field `side` (element 1): unknown variant `Hold`, expected `Buy` or `Sell`"
    );
}

#[test]
fn text_that_is_not_json_is_an_error_with_its_place() {
    assert_eq!(
        decode_error::<Book>(r#"["BTC", "#),
        "not JSON: expected a value, found the end at byte 8"
    );
    assert_eq!(
        decode_error::<Book>(r#"["BTC"] x"#),
        "not JSON: expected the end of the payload at byte 8"
    );
    assert_eq!(
        decode_error::<Level>("[01]"),
        "not JSON: invalid number at byte 3"
    );
}

#[test]
fn hostile_nesting_is_an_error_not_a_stack_overflow() {
    let text = "[".repeat(100_000);
    assert!(decode_error::<serde_json::Value>(&text).contains("nesting deeper than 128"));
}

#[test]
fn non_finite_floats_travel_as_python_writes_them() {
    let values = vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    let text = encoded(&values, PythonLayout::Message);
    assert_eq!(text, "[NaN, Infinity, -Infinity]");
    let back: Vec<f64> = decode(text.as_bytes(), NAME).unwrap();
    assert!(back[0].is_nan());
    assert_eq!(back[1..], [f64::INFINITY, f64::NEG_INFINITY]);
}

#[test]
fn strings_round_trip_through_escapes_and_surrogate_pairs() {
    let text = "a\"b\\c\n\t\u{1}\u{7f}é€😀";
    let mut buf = Vec::new();
    write_string(text, &mut buf);
    assert_eq!(
        String::from_utf8(buf.clone()).unwrap(),
        r#""a\"b\\c\n\t\u0001\u007f\u00e9\u20ac\ud83d\ude00""#
    );
    let back: String = decode(&buf, NAME).unwrap();
    assert_eq!(back, text);
}

fn float(value: f64) -> String {
    let mut buf = Vec::new();
    write_float(value, &mut buf);
    String::from_utf8(buf).unwrap()
}

#[test]
fn floats_are_written_as_python_repr() {
    for (value, python) in [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (101.5, "101.5"),
        (0.1, "0.1"),
        (1e-7, "1e-07"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e+16"),
        (1.5e300, "1.5e+300"),
        (123456789012345680.0, "1.2345678901234568e+17"),
        (5e-324, "5e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (-2.5e-10, "-2.5e-10"),
        (1700000000.5, "1700000000.5"),
    ] {
        assert_eq!(float(value), python, "{value:e}");
    }
}

#[test]
fn f32_fields_keep_their_short_digits() {
    assert_eq!(encoded(&0.1f32, PythonLayout::List), "0.1");
    assert_eq!(encoded(&1e-7f32, PythonLayout::List), "1e-07");
}

#[test]
fn integer_map_keys_become_strings_as_in_python() {
    let map = BTreeMap::from([(1u32, true), (20, false)]);
    assert_eq!(
        encoded(&map, PythonLayout::Message),
        r#"{"1": true, "20": false}"#
    );
}

#[test]
fn a_failed_encoding_leaves_the_buffer_as_it_was() {
    let map = BTreeMap::from([(vec![1u8], 1)]);
    let mut buf = b"kept".to_vec();
    assert!(matches!(
        encode(&map, PythonLayout::List, NAME, TS, &mut buf),
        Err(CodecError::Encode(_))
    ));
    assert_eq!(buf, b"kept");
}

/// Runs `python3 -c script` with `input` on stdin, bounded; its stdout.
fn python3(script: &str, input: &str) -> String {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs (it is needed to check byte identity with json.dumps)");
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "python3 failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("python3 did not finish in 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    writer.join().unwrap().unwrap();
    reader.join().unwrap().unwrap()
}

/// xorshift64*, so the sample is the same on every run.
fn pseudo_random(count: usize) -> Vec<u64> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
        .collect()
}

#[test]
fn floats_match_python_json_dumps_byte_for_byte() {
    let mut values: Vec<f64> = vec![
        0.0,
        -0.0,
        1.0,
        0.1,
        1e-7,
        1e16,
        1e15,
        9999999999999998.0,
        1e-4,
        0.00011,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        1700000000.123456,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        2.0f64.powi(53),
        2.0f64.powi(53) + 2.0,
        123.456e-300,
    ];
    let random = pseudo_random(2000);
    // Random bit patterns cover every exponent; random decimals cover everyday prices.
    values.extend(random[..1000].iter().map(|bits| f64::from_bits(*bits)));
    values.extend(
        random[1000..]
            .iter()
            .map(|bits| (bits % 10_000_000) as f64 / 10f64.powi((bits % 9) as i32)),
    );
    let input: String = values
        .iter()
        .map(|v| format!("{}\n", v.to_bits()))
        .collect();
    let script = "import json, struct, sys\n\
                  for line in sys.stdin:\n    \
                  print(json.dumps(struct.unpack('<d', int(line).to_bytes(8, 'little'))[0]))";
    let python = python3(script, &input);
    for (value, expected) in values.iter().zip(python.lines()) {
        assert_eq!(float(*value), expected, "bits {:#x}", value.to_bits());
    }
    assert_eq!(python.lines().count(), values.len());
}

#[test]
fn strings_match_python_json_dumps_byte_for_byte() {
    let mut strings: Vec<String> = [
        "",
        "plain",
        "quote \" backslash \\ slash /",
        "\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
        "é ü ß",
        "€ 中文",
        "😀 𝄞",
        "\u{fffd}\u{feff}",
        "tab\tend",
    ]
    .map(str::to_owned)
    .to_vec();
    strings.extend(pseudo_random(300).iter().map(|bits| {
        (0..8)
            .filter_map(|shift| {
                char::from_u32((((bits >> (shift * 8)) & 0xff) as u32 * 4409) % 0x11000)
            })
            .collect()
    }));
    let input: String = strings
        .iter()
        .map(|s| {
            let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
            format!("{hex}\n")
        })
        .collect();
    let script = "import json, sys\n\
                  for line in sys.stdin:\n    \
                  print(json.dumps(bytes.fromhex(line.strip()).decode('utf-8')))";
    let python = python3(script, &input);
    for (text, expected) in strings.iter().zip(python.lines()) {
        let mut buf = Vec::new();
        write_string(text, &mut buf);
        assert_eq!(String::from_utf8(buf).unwrap(), expected, "{text:?}");
    }
    assert_eq!(python.lines().count(), strings.len());
}

#[test]
fn whole_payloads_match_python_json_dumps_byte_for_byte() {
    // Python reads each payload and writes it again with `json.dumps`: the same bytes back
    // means separators, nesting, escapes and floats are all as Python writes them.
    let payloads: Vec<String> = PythonLayout::ALL
        .into_iter()
        .map(|layout| encoded(&book(), layout))
        .chain([encoded(&Vec::<u8>::new(), PythonLayout::List)])
        .chain([encoded(&BTreeMap::<String, u8>::new(), PythonLayout::List)])
        .collect();
    let input: String = payloads.iter().map(|p| format!("{p}\n")).collect();
    let script = "import json, sys\n\
                  for line in sys.stdin:\n    \
                  print(json.dumps(json.loads(line)))";
    let python = python3(script, &input);
    assert_eq!(python.lines().collect::<Vec<_>>(), payloads);
}
