//! The JSON payload codec (serde_json), shared by `json` and `python-json`.

use crate::error::CodecError;

/// Appends the JSON text of `message` to `buf`.
///
/// # Errors
///
/// [`CodecError::Encode`] when serde refuses the value (a map with non-string keys, say).
pub fn encode<M: serde::Serialize>(message: &M, buf: &mut Vec<u8>) -> Result<(), CodecError> {
    serde_json::to_writer(buf, message).map_err(|err| CodecError::Encode(err.to_string()))
}

/// Decodes a JSON payload.
///
/// # Errors
///
/// [`CodecError::Decode`] when the bytes are not JSON of `M`'s shape.
pub fn decode<M: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<M, CodecError> {
    serde_json::from_slice(bytes).map_err(|err| CodecError::Decode(err.to_string()))
}
