//! `crate = "..."` re-roots the expansion when the runtime is reached under another path.
#![deny(warnings)]

extern crate hermes_runtime as hermes;

mod messages {
    #[derive(serde::Serialize, serde::Deserialize, hermes::HermesMessage)]
    #[hermes(crate = "::hermes", codec = "json")]
    pub struct Ping {
        pub n: u32,
    }
}

fn main() {
    use hermes::Message;
    assert_eq!(
        messages::Ping::NAME,
        concat!(module_path!(), "::messages::Ping")
    );
}
