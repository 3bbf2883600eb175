//! A prost struct with no `#[hermes]` options: default name, codec and topic.
#![deny(warnings)]

use hermes_runtime::{Codec, HermesMessage, Message};

#[derive(Clone, PartialEq, prost::Message, HermesMessage)]
pub struct Quote {
    #[prost(double, tag = "1")]
    pub price: f64,
    #[prost(string, tag = "2")]
    pub symbol: String,
}

// The fingerprint is a compile-time constant.
const FINGERPRINT: u64 = <Quote as Message>::FINGERPRINT;

fn main() {
    // Without `name`, the Rust path of the type.
    assert_eq!(Quote::NAME, concat!(module_path!(), "::Quote"));
    assert_eq!(
        FINGERPRINT,
        hermes_runtime::fingerprint(concat!(module_path!(), "::Quote{price:f64;symbol:String}"))
    );
    assert_eq!(Quote::DEFAULT_CODEC, Codec::Protobuf);
    assert_eq!(Quote::DEFAULT_TOPIC, None);
    assert!(Quote::supports(Codec::Protobuf));
    assert!(!Quote::supports(Codec::Json));
    assert!(Quote::json_schema().is_none());
}
