// `protobuf` is the default codec, so the type must implement `prost::Message`.
use hermes_runtime::HermesMessage;

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
pub struct Quote {
    pub price: f64,
}

fn main() {}
