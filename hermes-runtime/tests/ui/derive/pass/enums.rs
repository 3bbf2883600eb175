//! A unit enum uses the built-in protobuf encoding; an enum with fields needs a JSON codec.
#![deny(warnings)]

use hermes_runtime::{Codec, HermesMessage, Message, fingerprint};

#[derive(Debug, PartialEq, HermesMessage)]
#[hermes(name = "trading.Side")]
pub enum Side {
    Buy = 1,
    Sell = 2,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "demo.Shape", codec = "json")]
pub enum Shape {
    Point,
    Circle(f64),
    Rect { w: f64, h: f64 },
}

fn main() {
    assert_eq!(Side::FINGERPRINT, fingerprint("trading.Side{Buy=1;Sell=2}"));
    assert!(Side::supports(Codec::Protobuf) && !Side::supports(Codec::Json));
    assert_eq!(
        Shape::FINGERPRINT,
        fingerprint("demo.Shape{Point;Circle(0:f64);Rect(w:f64;h:f64)}")
    );
    let mut buf = Vec::new();
    Side::Sell.encode(Codec::Protobuf, &mut buf).unwrap();
    assert_eq!(Side::decode(Codec::Protobuf, &buf).unwrap(), Side::Sell);
}
