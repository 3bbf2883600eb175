//! The protobuf payload codec (prost).

use crate::error::CodecError;

/// Appends the protobuf encoding of `message` to `buf`.
///
/// # Errors
///
/// Never fails today (a `Vec` grows as needed); the `Result` keeps the codec signatures uniform.
pub fn encode<M: prost::Message>(message: &M, buf: &mut Vec<u8>) -> Result<(), CodecError> {
    // No `reserve(encoded_len())` first: `encode` computes the length itself, and envelope
    // buffers are reused, so after the first few sends they already have the room.
    message
        .encode(buf)
        .map_err(|err| CodecError::Encode(err.to_string()))
}

/// Decodes a protobuf payload.
///
/// # Errors
///
/// [`CodecError::Decode`] when the bytes are not a valid encoding of `M`.
pub fn decode<M: prost::Message + Default>(bytes: &[u8]) -> Result<M, CodecError> {
    M::decode(bytes).map_err(|err| CodecError::Decode(err.to_string()))
}
