//! The [`Message`] trait: what every type carried by Hermes implements.

use crate::codec::{Codec, PythonLayout};
use crate::error::CodecError;

/// A type that Hermes can carry in an envelope.
///
/// Implemented by `#[derive(HermesMessage)]` and by code generated from topology YAML; tests and
/// unusual types may implement it by hand.
///
/// The [`FINGERPRINT`](Message::FINGERPRINT) travels in every native envelope header, so a
/// receiver can tell that a publisher's idea of a type differs from its own and refuse the
/// envelope instead of misreading it.
///
/// # Examples
///
/// A hand-written implementation for a JSON-only type:
///
/// ```
/// use hermes_runtime::{Codec, CodecError, Message};
///
/// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Ping {
///     n: u32,
/// }
///
/// impl Message for Ping {
///     const NAME: &'static str = "demo.Ping";
///     const FINGERPRINT: u64 = hermes_runtime::fingerprint("demo.Ping{n:u32}");
///     const DEFAULT_CODEC: Codec = Codec::Json;
///
///     fn supports(codec: Codec) -> bool {
///         codec.is_json()
///     }
///     fn encode(&self, codec: Codec, buf: &mut Vec<u8>) -> Result<(), CodecError> {
///         match codec {
///             Codec::Json | Codec::PythonJson => serde_json::to_writer(buf, self)
///                 .map_err(|err| CodecError::Encode(err.to_string())),
///             other => Err(CodecError::Unsupported { codec: other, message: Self::NAME }),
///         }
///     }
///     fn decode(codec: Codec, bytes: &[u8]) -> Result<Self, CodecError> {
///         match codec {
///             Codec::Json | Codec::PythonJson => serde_json::from_slice(bytes)
///                 .map_err(|err| CodecError::Decode(err.to_string())),
///             other => Err(CodecError::Unsupported { codec: other, message: Self::NAME }),
///         }
///     }
/// }
///
/// let mut buf = Vec::new();
/// Ping { n: 7 }.encode(Codec::Json, &mut buf).unwrap();
/// assert_eq!(buf, br#"{"n":7}"#);
/// assert_eq!(Ping::decode(Codec::Json, &buf).unwrap(), Ping { n: 7 });
/// assert!(Ping { n: 7 }.encode(Codec::Protobuf, &mut buf).is_err());
/// ```
pub trait Message: Sized + Send + 'static {
    /// The stable, fully qualified type name, such as `trading.Quote`.
    const NAME: &'static str;

    /// The 64-bit type fingerprint every native envelope carries: for generated types (and
    /// derived ones with `version`) the hash of the lineage, name and major version; otherwise
    /// a hash of the canonical field list (names, types, order). See [`fingerprint`].
    const FINGERPRINT: u64;

    /// The codec a publisher uses when none is configured.
    const DEFAULT_CODEC: Codec = Codec::Protobuf;

    /// The topic [`Publisher::send`](crate::Publisher::send) uses when none is configured.
    const DEFAULT_TOPIC: Option<&'static str> = None;

    /// How `python-json` lays out this type's fields when neither the port nor the publisher
    /// chooses: [`PythonLayout::Message`] (`[dtype, ts, fields…]`, what Python's
    /// `hermes.Message` writes) unless the YAML or `#[hermes(python_layout = "...")]` says
    /// otherwise.
    const PYTHON_LAYOUT: PythonLayout = PythonLayout::Message;

    /// Whether this type can be encoded with `codec`.
    fn supports(codec: Codec) -> bool;

    /// Appends the payload encoding of `self` under `codec` to `buf`.
    ///
    /// # Errors
    ///
    /// [`CodecError::Unsupported`] when the type does not support `codec`;
    /// [`CodecError::Encode`] when the codec refuses the value.
    fn encode(&self, codec: Codec, buf: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Appends the `python-json` payload of `self` in `layout`; `timestamp_ns` (the envelope's
    /// send time) is the `ts` of the [`PythonLayout::Message`] layout.
    ///
    /// The default is [`encode`](Message::encode) with [`Codec::PythonJson`], for types that
    /// have one layout only (untyped JSON, payloads encoded elsewhere); the derive and
    /// generated code implement every layout.
    ///
    /// # Errors
    ///
    /// As [`encode`](Message::encode).
    fn encode_python(
        &self,
        layout: PythonLayout,
        timestamp_ns: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let _ = (layout, timestamp_ns);
        self.encode(Codec::PythonJson, buf)
    }

    /// Decodes a payload produced by [`encode`](Message::encode) with the same codec.
    ///
    /// # Errors
    ///
    /// [`CodecError::Unsupported`] or [`CodecError::Decode`]; never panics on any input.
    fn decode(codec: Codec, bytes: &[u8]) -> Result<Self, CodecError>;

    /// The fingerprint written into this value's envelope; the type's
    /// [`FINGERPRINT`](Message::FINGERPRINT) except for dynamically typed payloads.
    fn fingerprint(&self) -> u64 {
        Self::FINGERPRINT
    }

    /// Decodes a payload that arrived with the sender's `fingerprint` (`None` for
    /// `python-json`); the default ignores the fingerprint, which the receiver already checked.
    ///
    /// # Errors
    ///
    /// As [`decode`](Message::decode).
    fn decode_with_fingerprint(
        codec: Codec,
        fingerprint: Option<u64>,
        bytes: &[u8],
    ) -> Result<Self, CodecError> {
        let _ = fingerprint;
        Self::decode(codec, bytes)
    }

    /// Whether [`decode_shared`](Message::decode_shared) keeps parts of the buffer it is given
    /// instead of copying them (`bytes::Bytes` fields decoded by prost): receivers then hand it
    /// the received frame itself. `false` (the default) for types that would copy anyway, which
    /// spares them the frame's reference count.
    const SHARES_PAYLOAD: bool = false;

    /// As [`decode_with_fingerprint`](Message::decode_with_fingerprint), from a payload held in
    /// a shared buffer: the received ZeroMQ frame, which `bytes::Bytes` fields may keep
    /// (without a copy) for as long as the message lives. The default copies.
    ///
    /// # Errors
    ///
    /// As [`decode`](Message::decode).
    fn decode_shared(
        codec: Codec,
        fingerprint: Option<u64>,
        payload: bytes::Bytes,
    ) -> Result<Self, CodecError> {
        Self::decode_with_fingerprint(codec, fingerprint, &payload)
    }

    /// The JSON Schema of the message, for tools; `None` when the type has none.
    ///
    /// The derive fills it in when the type also implements `schemars::JsonSchema`.
    fn json_schema() -> Option<schemars::Schema> {
        None
    }
}

pub use hermes_core::fingerprint;

/// Any JSON value: for untyped JSON and `python-json` data. Its fingerprint is 0, which
/// accepts any, so a receiver of `Value` accepts envelopes from every JSON publisher.
///
/// Under `python-json` it is written as Python's `json.dumps` writes it (objects in key order,
/// since `Value` keeps its keys sorted) and read from anything Python writes, but `NaN` and
/// `Infinity`, which `Value` cannot hold, read as `null`.
impl Message for serde_json::Value {
    const NAME: &'static str = "json.Value";
    const FINGERPRINT: u64 = crate::envelope::ANY_FINGERPRINT;
    const DEFAULT_CODEC: Codec = Codec::Json;

    fn supports(codec: Codec) -> bool {
        codec.is_json()
    }

    fn encode(&self, codec: Codec, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        match codec {
            Codec::Json => crate::codec::json::encode(self, buf),
            Codec::PythonJson => {
                crate::codec::python::encode(self, PythonLayout::Message, Self::NAME, 0, buf)
            }
            Codec::Protobuf => Err(CodecError::Unsupported {
                codec,
                message: Self::NAME,
            }),
        }
    }

    fn decode(codec: Codec, bytes: &[u8]) -> Result<Self, CodecError> {
        match codec {
            Codec::Json => crate::codec::json::decode(bytes),
            Codec::PythonJson => crate::codec::python::decode(bytes, Self::NAME),
            Codec::Protobuf => Err(CodecError::Unsupported {
                codec,
                message: Self::NAME,
            }),
        }
    }
}
