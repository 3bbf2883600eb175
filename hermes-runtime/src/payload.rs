//! [`Payload`]: a message kept as encoded bytes, for tools that decode at run time.

use crate::codec::Codec;
use crate::envelope::ANY_FINGERPRINT;
use crate::error::CodecError;
use crate::message::Message;

/// An envelope's payload as bytes, with the codec and type fingerprint it travelled with.
///
/// A `Receiver<Payload>` accepts envelopes of every type in its codec's framing and still
/// filters topics and origins, counts sequence gaps and applies the slow-subscriber policy;
/// the application then decodes the bytes with types known only at run time. Tools that read
/// both framings off one socket, as `hermes tap` does, use a [`RawReceiver`](crate::RawReceiver).
/// A `Publisher<Payload>` sends bytes encoded elsewhere under the fingerprint they carry, so
/// typed receivers accept them; `hermes pub` sends this way.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{Codec, Message, Payload};
///
/// let payload = Payload::new(Codec::Json, 0x1234, br#"{"price":1.5}"#.to_vec());
/// let mut buf = Vec::new();
/// payload.encode(Codec::Json, &mut buf)?;
/// assert_eq!(buf, br#"{"price":1.5}"#);
/// assert_eq!(payload.fingerprint(), 0x1234);
/// // Bytes encoded for JSON cannot go out as protobuf.
/// assert!(payload.encode(Codec::Protobuf, &mut buf).is_err());
/// # Ok::<(), hermes_runtime::CodecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The codec the bytes are encoded with.
    pub codec: Codec,
    /// The sender's type fingerprint; 0 when unknown (`python-json`).
    pub fingerprint: u64,
    /// The encoded message.
    pub bytes: Vec<u8>,
}

impl Payload {
    /// Bytes encoded with `codec` for the type whose fingerprint is `fingerprint`.
    pub fn new(codec: Codec, fingerprint: u64, bytes: Vec<u8>) -> Payload {
        Payload {
            codec,
            fingerprint,
            bytes,
        }
    }
}

impl Message for Payload {
    const NAME: &'static str = "hermes.Payload";
    const FINGERPRINT: u64 = ANY_FINGERPRINT;

    fn supports(_: Codec) -> bool {
        true
    }

    fn encode(&self, codec: Codec, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        // `json` and `python-json` share the payload encoding.
        if codec == self.codec || (codec.is_json() && self.codec.is_json()) {
            buf.extend_from_slice(&self.bytes);
            Ok(())
        } else {
            Err(CodecError::Encode(format!(
                "payload bytes are encoded as `{}`, not `{codec}`",
                self.codec
            )))
        }
    }

    fn decode(codec: Codec, bytes: &[u8]) -> Result<Self, CodecError> {
        Ok(Payload::new(codec, ANY_FINGERPRINT, bytes.to_vec()))
    }

    fn decode_with_fingerprint(
        codec: Codec,
        fingerprint: Option<u64>,
        bytes: &[u8],
    ) -> Result<Self, CodecError> {
        Ok(Payload::new(
            codec,
            fingerprint.unwrap_or(ANY_FINGERPRINT),
            bytes.to_vec(),
        ))
    }

    fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
}
