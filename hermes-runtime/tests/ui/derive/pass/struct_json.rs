//! A serde struct with every type-level option set.
#![deny(warnings)]

use hermes_runtime::{Codec, HermesMessage, Message};

#[derive(
    Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema, HermesMessage,
)]
#[hermes(name = "trading.Quote", codec = "json")]
#[hermes(topic = "quotes")]
pub struct Quote {
    pub price: f64,
    pub r#type: Option<String>,
}

fn main() {
    assert_eq!(Quote::NAME, "trading.Quote");
    assert_eq!(
        Quote::FINGERPRINT,
        hermes_runtime::fingerprint("trading.Quote{price:f64;type:Option<String>}")
    );
    assert_eq!(Quote::DEFAULT_CODEC, Codec::Json);
    assert_eq!(Quote::DEFAULT_TOPIC, Some("quotes"));
    assert!(Quote::supports(Codec::Json) && Quote::supports(Codec::PythonJson));
    assert!(!Quote::supports(Codec::Protobuf));
    assert!(Quote::json_schema().is_some());
}
