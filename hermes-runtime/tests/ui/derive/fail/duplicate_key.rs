use hermes_runtime::HermesMessage;

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "trading.Quote", codec = "json")]
#[hermes(name = "trading.Quote2")]
pub struct Quote {
    pub price: f64,
}

fn main() {}
