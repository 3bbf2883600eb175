//! A type with both prost and serde travels with every codec, whatever its default.
#![deny(warnings)]

use hermes_runtime::{Codec, HermesMessage, Message};

#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "demo.Tick", codec = "json")]
pub struct Tick {
    #[prost(uint64, tag = "1")]
    pub seq: u64,
}

fn main() {
    for codec in Codec::ALL {
        assert!(Tick::supports(codec), "{codec}");
        let mut buf = Vec::new();
        Tick { seq: 9 }.encode(codec, &mut buf).unwrap();
        assert_eq!(Tick::decode(codec, &buf).unwrap(), Tick { seq: 9 });
    }
}
