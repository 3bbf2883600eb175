// Errors are collected, not reported one at a time.
use hermes_runtime::HermesMessage;

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(codek = "json", name = 42, name = "demo.Quote")]
pub struct Quote<T> {
    #[hermes(skip)]
    pub price: T,
}

fn main() {}
