use hermes_runtime::HermesMessage;

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = trading.Quote, codec(json), topic)]
pub struct Quote {
    pub price: f64,
}

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes = "trading.Trade"]
pub struct Trade {
    pub price: f64,
}

fn main() {}
