use hermes_runtime::HermesMessage;

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(
    name = "trading Quote",
    topic = "",
    codec = "json",
    crate = "not a path"
)]
pub struct Quote {
    pub price: f64,
}

fn main() {}
