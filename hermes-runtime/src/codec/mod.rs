//! Payload codecs: how a message becomes the bytes of an envelope's payload frame.
//!
//! Three codecs exist:
//!
//! | codec | payload | envelope framing |
//! | --- | --- | --- |
//! | [`Codec::Protobuf`] | protobuf (prost) | native two-frame envelope |
//! | [`Codec::Json`] | JSON text (serde_json) | native two-frame envelope |
//! | [`Codec::PythonJson`] | JSON text as Python's `json.dumps` writes it, laid out by [`PythonLayout`] | the four JSON frames of hermes-zmq 1.3 |
//!
//! The functions in `protobuf`, `json` and `python` are what `#[derive(HermesMessage)]` and
//! generated code call, through `__private`; they are not a public API.

pub mod json;
pub mod protobuf;
pub mod python;

pub use hermes_core::{Codec, PythonLayout, UnknownCodec, UnknownPythonLayout};
