use hermes_runtime::{HermesMessage, Message};

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(codec = "json")]
pub struct Sample<T> {
    pub value: T,
}

#[derive(serde::Serialize, HermesMessage)]
#[hermes(codec = "json")]
pub struct Borrowed<'a> {
    pub text: &'a str,
}

fn main() {
    let _ = Sample::<f64>::NAME;
}
