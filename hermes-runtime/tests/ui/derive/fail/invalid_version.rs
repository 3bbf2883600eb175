// `version` is an integer from 1, and only meaningful with an explicit `name`.
use hermes_runtime::HermesMessage;

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(version = 2, codec = "json")]
pub struct Unnamed {
    pub price: f64,
}

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "trading.Quote", version = 0, codec = "json")]
pub struct Zero {
    pub price: f64,
}

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "trading.Trade", version = "2", codec = "json")]
pub struct Quoted {
    pub price: f64,
}

fn main() {}
