//! What `#[derive(HermesMessage)]` expands to, beyond the [`Message`](crate::Message) trait.
//!
//! Reached through `hermes_runtime::__private`; not a public API.
//!
//! The derive implements every codec a type can carry: a type that implements `prost::Message`
//! *and* serde travels with any codec, because a topology may choose the codec per port. The
//! expansion finds out which traits the (always concrete) type implements with autoref
//! specialisation: `(&Probe::<T>::new()).encode_protobuf(..)` resolves to the method on
//! `Probe<T>` when `T: prost::Message`, and to the fallback on `&Probe<T>` otherwise. Each
//! capability has two traits, both imported by the expansion with `use ... as _`.

use std::marker::PhantomData;

use crate::codec::{Codec, PythonLayout, json, protobuf, python};
use crate::error::CodecError;

/// Stands for the type `T` in autoref-specialised method calls; carries no value.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// A probe for `T`.
    #[allow(
        clippy::new_without_default,
        reason = "only ever built by the derive expansion"
    )]
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

/// The `protobuf` codec through `prost::Message`; chosen when `T` implements it.
pub trait ProstPayload {
    /// The message type.
    type Message;
    /// Whether the `protobuf` codec is available.
    fn has_protobuf(&self) -> bool;
    /// Encodes with prost.
    fn encode_protobuf(&self, message: &Self::Message, buf: &mut Vec<u8>)
    -> Result<(), CodecError>;
    /// Decodes with prost.
    fn decode_protobuf(&self, bytes: &[u8]) -> Result<Self::Message, CodecError>;
    /// Decodes with prost from a shared buffer: `bytes::Bytes` fields keep parts of it.
    fn decode_protobuf_shared(&self, bytes: bytes::Bytes) -> Result<Self::Message, CodecError>;
}

impl<T: prost::Message + Default> ProstPayload for Probe<T> {
    type Message = T;
    fn has_protobuf(&self) -> bool {
        true
    }
    fn encode_protobuf(&self, message: &T, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        protobuf::encode(message, buf)
    }
    fn decode_protobuf(&self, bytes: &[u8]) -> Result<T, CodecError> {
        protobuf::decode(bytes)
    }
    fn decode_protobuf_shared(&self, bytes: bytes::Bytes) -> Result<T, CodecError> {
        protobuf::decode_shared(bytes)
    }
}

/// The fallback of [`ProstPayload`]: `T` does not implement `prost::Message`.
pub trait NoProstPayload {
    /// The message type.
    type Message;
    /// Always `false`.
    fn has_protobuf(&self) -> bool;
    /// Always [`CodecError::Unsupported`].
    fn encode_protobuf(&self, message: &Self::Message, buf: &mut Vec<u8>)
    -> Result<(), CodecError>;
    /// Always [`CodecError::Unsupported`].
    fn decode_protobuf(&self, bytes: &[u8]) -> Result<Self::Message, CodecError>;
    /// Always [`CodecError::Unsupported`].
    fn decode_protobuf_shared(&self, bytes: bytes::Bytes) -> Result<Self::Message, CodecError>;
}

impl<T: crate::Message> NoProstPayload for &Probe<T> {
    type Message = T;
    fn has_protobuf(&self) -> bool {
        false
    }
    fn encode_protobuf(&self, _: &T, _: &mut Vec<u8>) -> Result<(), CodecError> {
        Err(unsupported::<T>(Codec::Protobuf))
    }
    fn decode_protobuf(&self, _: &[u8]) -> Result<T, CodecError> {
        Err(unsupported::<T>(Codec::Protobuf))
    }
    fn decode_protobuf_shared(&self, _: bytes::Bytes) -> Result<T, CodecError> {
        Err(unsupported::<T>(Codec::Protobuf))
    }
}

/// The JSON codecs through serde; chosen when `T` implements `Serialize` and `DeserializeOwned`.
pub trait SerdePayload {
    /// The message type.
    type Message;
    /// Whether the JSON codecs are available.
    fn has_json(&self) -> bool;
    /// Encodes with serde_json.
    fn encode_json(&self, message: &Self::Message, buf: &mut Vec<u8>) -> Result<(), CodecError>;
    /// Decodes with serde_json.
    fn decode_json(&self, bytes: &[u8]) -> Result<Self::Message, CodecError>;
    /// Encodes as `python-json` in `layout`.
    fn encode_python(
        &self,
        message: &Self::Message,
        layout: PythonLayout,
        timestamp_ns: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), CodecError>;
    /// Decodes `python-json` from any layout.
    fn decode_python(&self, bytes: &[u8]) -> Result<Self::Message, CodecError>;
}

impl<T: serde::Serialize + serde::de::DeserializeOwned + crate::Message> SerdePayload for Probe<T> {
    type Message = T;
    fn has_json(&self) -> bool {
        true
    }
    fn encode_json(&self, message: &T, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        json::encode(message, buf)
    }
    fn decode_json(&self, bytes: &[u8]) -> Result<T, CodecError> {
        json::decode(bytes)
    }
    fn encode_python(
        &self,
        message: &T,
        layout: PythonLayout,
        timestamp_ns: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        python::encode(message, layout, T::NAME, timestamp_ns, buf)
    }
    fn decode_python(&self, bytes: &[u8]) -> Result<T, CodecError> {
        python::decode(bytes, T::NAME)
    }
}

/// The fallback of [`SerdePayload`]: `T` does not implement serde.
pub trait NoSerdePayload {
    /// The message type.
    type Message;
    /// Always `false`.
    fn has_json(&self) -> bool;
    /// Always [`CodecError::Unsupported`].
    fn encode_json(&self, message: &Self::Message, buf: &mut Vec<u8>) -> Result<(), CodecError>;
    /// Always [`CodecError::Unsupported`].
    fn decode_json(&self, bytes: &[u8]) -> Result<Self::Message, CodecError>;
    /// Always [`CodecError::Unsupported`].
    fn encode_python(
        &self,
        message: &Self::Message,
        layout: PythonLayout,
        timestamp_ns: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), CodecError>;
    /// Always [`CodecError::Unsupported`].
    fn decode_python(&self, bytes: &[u8]) -> Result<Self::Message, CodecError>;
}

impl<T: crate::Message> NoSerdePayload for &Probe<T> {
    type Message = T;
    fn has_json(&self) -> bool {
        false
    }
    fn encode_json(&self, _: &T, _: &mut Vec<u8>) -> Result<(), CodecError> {
        Err(unsupported::<T>(Codec::Json))
    }
    fn decode_json(&self, _: &[u8]) -> Result<T, CodecError> {
        Err(unsupported::<T>(Codec::Json))
    }
    fn encode_python(
        &self,
        _: &T,
        _: PythonLayout,
        _: u64,
        _: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        Err(unsupported::<T>(Codec::PythonJson))
    }
    fn decode_python(&self, _: &[u8]) -> Result<T, CodecError> {
        Err(unsupported::<T>(Codec::PythonJson))
    }
}

/// The JSON Schema through schemars; chosen when `T` implements `JsonSchema`.
pub trait SchemarsSchema {
    /// The schema of `T`.
    fn json_schema(&self) -> Option<schemars::Schema>;
}

impl<T: schemars::JsonSchema> SchemarsSchema for Probe<T> {
    fn json_schema(&self) -> Option<schemars::Schema> {
        Some(schemars::SchemaGenerator::default().into_root_schema_for::<T>())
    }
}

/// The fallback of [`SchemarsSchema`]: `T` has no JSON Schema.
pub trait NoSchemarsSchema {
    /// Always `None`.
    fn json_schema(&self) -> Option<schemars::Schema>;
}

impl<T> NoSchemarsSchema for &Probe<T> {
    fn json_schema(&self) -> Option<schemars::Schema> {
        None
    }
}

fn unsupported<T: crate::Message>(codec: Codec) -> CodecError {
    CodecError::Unsupported {
        codec,
        message: T::NAME,
    }
}

/// Proves at compile time that a type can use the `protobuf` codec it declares: the expansion
/// reads `<T as ProtobufCodec>::PROVEN`.
///
/// `do_not_recommend` makes rustc report this trait, with the message below, once — rather than
/// each missing supertrait of the blanket impl as an error of its own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` uses the `protobuf` codec but does not implement `prost::Message`",
    label = "the `protobuf` codec needs `prost::Message + Default`",
    note = "derive `prost::Message` on `{Self}`, or choose another codec with `#[hermes(codec = \"json\")]`"
)]
pub trait ProtobufCodec {
    /// Exists when the proof holds.
    const PROVEN: () = ();
}

#[diagnostic::do_not_recommend]
impl<T: prost::Message + Default> ProtobufCodec for T {}

/// Proves at compile time that a type can use the JSON codec it declares: the expansion reads
/// `<T as JsonCodec>::PROVEN`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` uses a JSON codec but does not implement `serde::Serialize` and `serde::Deserialize`",
    label = "the JSON codecs need `serde::Serialize + serde::de::DeserializeOwned`",
    note = "derive `serde::Serialize` and `serde::Deserialize` on `{Self}`, or choose another codec with `#[hermes(codec = \"protobuf\")]`"
)]
pub trait JsonCodec {
    /// Exists when the proof holds.
    const PROVEN: () = ();
}

#[diagnostic::do_not_recommend]
impl<T: serde::Serialize + serde::de::DeserializeOwned> JsonCodec for T {}

/// The protobuf encoding of a unit enum: a message whose field 1 (`int64`) holds the value.
///
/// Wire-compatible with a protobuf message holding one `enum` field with tag 1. Value 0 is the
/// field's default and, as in proto3, is not written.
#[derive(Clone, Copy, PartialEq, prost::Message)]
struct EnumValue {
    #[prost(int64, tag = "1")]
    value: i64,
}

/// Appends the protobuf encoding of a unit enum's value.
///
/// # Errors
///
/// Never fails; the `Result` keeps the codec signatures uniform.
pub fn encode_enum_value(value: i64, buf: &mut Vec<u8>) -> Result<(), CodecError> {
    protobuf::encode(&EnumValue { value }, buf)
}

/// Decodes the protobuf encoding of a unit enum's value; whether the value names a variant is
/// the caller's question.
///
/// # Errors
///
/// [`CodecError::Decode`] when the bytes are not a valid encoding.
pub fn decode_enum_value(bytes: &[u8]) -> Result<i64, CodecError> {
    protobuf::decode::<EnumValue>(bytes).map(|decoded| decoded.value)
}

/// The error of a decoded enum value that names no variant.
pub fn unknown_enum_value(message: &'static str, value: i64) -> CodecError {
    CodecError::Decode(format!("no variant of `{message}` has value {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_value_round_trips_and_omits_zero() {
        for value in [0, 1, -1, i64::MAX, i64::MIN] {
            let mut buf = Vec::new();
            encode_enum_value(value, &mut buf).unwrap();
            assert_eq!(decode_enum_value(&buf).unwrap(), value);
        }
        let mut buf = Vec::new();
        encode_enum_value(0, &mut buf).unwrap();
        assert!(buf.is_empty());
    }

    #[test]
    fn enum_value_matches_a_protobuf_enum_field() {
        let mut buf = Vec::new();
        encode_enum_value(2, &mut buf).unwrap();
        assert_eq!(buf, [0x08, 0x02]);
    }

    #[test]
    fn truncated_enum_value_is_an_error() {
        assert!(matches!(
            decode_enum_value(&[0x08, 0x80]),
            Err(CodecError::Decode(_))
        ));
    }
}
