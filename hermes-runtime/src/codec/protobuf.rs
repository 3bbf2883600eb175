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
    M::decode(Input(bytes)).map_err(|err| CodecError::Decode(err.to_string()))
}

/// Decodes a payload held in a shared buffer: prost takes `bytes::Bytes` fields as slices of
/// it, without a copy.
///
/// # Errors
///
/// [`CodecError::Decode`] when the bytes are not a valid `M`.
pub fn decode_shared<M: prost::Message + Default>(bytes: bytes::Bytes) -> Result<M, CodecError> {
    M::decode(bytes).map_err(|err| CodecError::Decode(err.to_string()))
}

/// The payload as prost reads it: a byte slice whose `copy_to_bytes` (how prost takes every
/// `bytes` and `string` field) is one allocation and one `memcpy`, where the slice's own goes
/// through a `BytesMut` and a generic copy loop.
struct Input<'a>(&'a [u8]);

impl prost::bytes::Buf for Input<'_> {
    #[inline]
    fn remaining(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn chunk(&self) -> &[u8] {
        self.0
    }

    #[inline]
    fn advance(&mut self, count: usize) {
        // prost checks lengths before advancing; saturate rather than panic all the same.
        self.0 = self.0.get(count..).unwrap_or_default();
    }

    #[inline]
    fn copy_to_bytes(&mut self, len: usize) -> prost::bytes::Bytes {
        let (taken, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        prost::bytes::Bytes::copy_from_slice(taken)
    }
}
