//! Payload codecs: how a message becomes the bytes of an envelope's payload frame.
//!
//! Three codecs exist:
//!
//! | codec | payload | envelope framing |
//! | --- | --- | --- |
//! | [`Codec::Protobuf`] | protobuf (prost) | native two-frame envelope |
//! | [`Codec::Json`] | JSON text (serde_json) | native two-frame envelope |
//! | [`Codec::PythonJson`] | JSON text (serde_json) | the four JSON frames of hermes-zmq 1.3 |
//!
//! The functions in `protobuf` and `json` are what `#[derive(HermesMessage)]` and generated
//! code call, through `__private`; they are not a public API.

pub mod json;
pub mod protobuf;

use std::fmt;
use std::str::FromStr;

/// How a message's payload is encoded, and which envelope framing carries it.
///
/// # Examples
///
/// ```
/// use hermes_runtime::Codec;
///
/// let codec: Codec = "python-json".parse().unwrap();
/// assert_eq!(codec, Codec::PythonJson);
/// assert_eq!(codec.to_string(), "python-json");
/// assert!("protobuff".parse::<Codec>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Codec {
    /// Protocol Buffers through prost; the default binary codec.
    #[default]
    Protobuf,
    /// JSON through serde_json, for humans and debugging.
    Json,
    /// The four-frame JSON wire format of the Python hermes-zmq 1.3.
    PythonJson,
}

impl Codec {
    /// Every codec, in id order.
    pub const ALL: [Codec; 3] = [Codec::Protobuf, Codec::Json, Codec::PythonJson];

    /// The codec's id in the native envelope header.
    pub const fn id(self) -> u8 {
        match self {
            Codec::Protobuf => 1,
            Codec::Json => 2,
            Codec::PythonJson => 3,
        }
    }

    /// The codec with this header id, if any.
    pub const fn from_id(id: u8) -> Option<Codec> {
        match id {
            1 => Some(Codec::Protobuf),
            2 => Some(Codec::Json),
            3 => Some(Codec::PythonJson),
            _ => None,
        }
    }

    /// The codec's name as written in topology files: `protobuf`, `json` or `python-json`.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Protobuf => "protobuf",
            Codec::Json => "json",
            Codec::PythonJson => "python-json",
        }
    }

    /// Whether the payload is JSON text (both `json` and `python-json`).
    pub const fn is_json(self) -> bool {
        matches!(self, Codec::Json | Codec::PythonJson)
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a codec name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown codec `{0}`, expected one of `protobuf`, `json`, `python-json`")]
pub struct UnknownCodec(pub String);

impl FromStr for Codec {
    type Err = UnknownCodec;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Codec::ALL
            .into_iter()
            .find(|codec| codec.name() == s)
            .ok_or_else(|| UnknownCodec(s.to_owned()))
    }
}
