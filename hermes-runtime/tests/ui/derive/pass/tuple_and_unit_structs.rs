//! Tuple and unit structs: tuple fields are named by index in the fingerprint.
#![deny(warnings)]

use hermes_runtime::{HermesMessage, Message, fingerprint};

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "demo.Pair", codec = "json")]
pub struct Pair(pub u32, pub Vec<String>);

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "demo.Heartbeat", codec = "python-json")]
pub struct Heartbeat;

// A raw identifier: the default name and the fingerprint use it without `r#`.
#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(codec = "json")]
#[allow(non_camel_case_types, reason = "the point of the test")]
pub struct r#loop(pub u8);

fn main() {
    assert_eq!(r#loop::NAME, concat!(module_path!(), "::loop"));
    assert_eq!(
        r#loop::FINGERPRINT,
        fingerprint(concat!(module_path!(), "::loop{0:u8}"))
    );
    assert_eq!(
        Pair::FINGERPRINT,
        fingerprint("demo.Pair{0:u32;1:Vec<String>}")
    );
    assert_eq!(Heartbeat::FINGERPRINT, fingerprint("demo.Heartbeat{}"));
    assert_eq!(Heartbeat::DEFAULT_CODEC, hermes_runtime::Codec::PythonJson);
}
