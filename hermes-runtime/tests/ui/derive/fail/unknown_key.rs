// An unknown key is the only error: the stub impl keeps uses of the type quiet.
use hermes_runtime::{HermesMessage, Message};

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(codek = "json")]
pub struct Quote {
    pub price: f64,
}

fn takes_message<M: Message>(_: &M) {}

fn main() {
    takes_message(&Quote { price: 1.0 });
    let _ = Quote::FINGERPRINT;
}
