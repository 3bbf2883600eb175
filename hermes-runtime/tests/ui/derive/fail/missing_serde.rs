use hermes_runtime::HermesMessage;

#[derive(Clone, PartialEq, prost::Message, HermesMessage)]
#[hermes(codec = "json")]
pub struct Quote {
    #[prost(double, tag = "1")]
    pub price: f64,
}

fn main() {}
