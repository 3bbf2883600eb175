//! Codec ids: how a payload is encoded, as the YAML names it and as the envelope header
//! numbers it.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A wire encoding.
///
/// | codec | payload | envelope framing |
/// | --- | --- | --- |
/// | `protobuf` | protobuf (prost) | native envelope |
/// | `json` | JSON text | native envelope |
/// | `python-json` | JSON text | the four JSON frames of hermes-zmq 1.3 |
///
/// # Examples
///
/// ```
/// use hermes_core::Codec;
///
/// assert_eq!("python-json".parse::<Codec>(), Ok(Codec::PythonJson));
/// assert_eq!(Codec::from_id(Codec::Json.id()), Some(Codec::Json));
/// assert!("yaml".parse::<Codec>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "A wire encoding.")]
pub enum Codec {
    /// Protocol Buffers, with field numbers from the messages file.
    #[default]
    Protobuf,
    /// JSON objects keyed by field name.
    Json,
    /// The four-frame JSON envelope of the Python `hermes-zmq` package, to talk to Python nodes.
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

    /// The codec with header id `id`.
    pub const fn from_id(id: u8) -> Option<Codec> {
        match id {
            1 => Some(Codec::Protobuf),
            2 => Some(Codec::Json),
            3 => Some(Codec::PythonJson),
            _ => None,
        }
    }

    /// The name written in YAML and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Protobuf => "protobuf",
            Codec::Json => "json",
            Codec::PythonJson => "python-json",
        }
    }

    /// Whether the payload is JSON text.
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

/// How the `python-json` codec lays out a message's fields in the data frame.
///
/// Decoding accepts every layout; this chooses what is written. Python's `hermes.Message`
/// writes [`Message`](PythonLayout::Message), and every Python `Receiver` reads it, so it is
/// the default.
///
/// | layout | `Quote { symbol: "BTC", price: 101.5 }` |
/// | --- | --- |
/// | `message` | `["Quote", 1700000000.5, "BTC", 101.5]`: `dtype`, `ts`, then the fields in order |
/// | `list` | `["BTC", 101.5]`: the fields in order |
/// | `object` | `{"symbol": "BTC", "price": 101.5}`: the fields by name |
///
/// # Examples
///
/// ```
/// use hermes_core::PythonLayout;
///
/// assert_eq!("object".parse::<PythonLayout>(), Ok(PythonLayout::Object));
/// assert_eq!(PythonLayout::default(), PythonLayout::Message);
/// assert_eq!(PythonLayout::List.name(), "list");
/// assert!("dict".parse::<PythonLayout>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(
    description = "How `python-json` lays out a message's fields: `message` \
    (`[dtype, ts, fields…]`, as Python's `hermes.Message` writes), `list` (the fields in \
    order) or `object` (the fields by name)."
)]
pub enum PythonLayout {
    /// `[dtype, ts, fields…]`, as `hermes.Message.serialize` writes it.
    #[default]
    Message,
    /// The fields in declaration order, as a JSON array.
    List,
    /// The fields by name, as a JSON object.
    Object,
}

impl PythonLayout {
    /// Every layout.
    pub const ALL: [PythonLayout; 3] = [
        PythonLayout::Message,
        PythonLayout::List,
        PythonLayout::Object,
    ];

    /// The name written in YAML, in `#[hermes(python_layout = "...")]` and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            PythonLayout::Message => "message",
            PythonLayout::List => "list",
            PythonLayout::Object => "object",
        }
    }
}

impl fmt::Display for PythonLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a layout name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown python layout `{0}`, expected one of `message`, `list`, `object`")]
pub struct UnknownPythonLayout(pub String);

impl FromStr for PythonLayout {
    type Err = UnknownPythonLayout;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PythonLayout::ALL
            .into_iter()
            .find(|layout| layout.name() == s)
            .ok_or_else(|| UnknownPythonLayout(s.to_owned()))
    }
}
