//! The typed messages the Hermes side sends, sized so that the encoded payload has the
//! requested number of bytes, the same number the raw side sends.

use hermes_runtime::{Codec, Context, HermesMessage, Message, Runtime};

use crate::options::Transport;

/// A message the benchmark can size and timestamp.
pub(crate) trait BenchMessage: Message + Send + 'static {
    /// A message whose encoding under `codec` is `payload` bytes (or as close above as the
    /// codec's fixed overhead allows).
    fn sized(payload: usize, codec: Codec) -> Self;
    /// The send time written by the source, ns since the Unix epoch.
    fn stamp(&self) -> u64;
    /// Sets the send time.
    fn set_stamp(&mut self, ns: u64);
    /// The length of the variable part, so receiving reads the message.
    fn data_len(&self) -> usize;
    /// Starts the `pipeline` scenario's two relay nodes on `context`, reading `upstream` and
    /// binding on `transport`; returns their runtime and where the sink connects.
    ///
    /// # Errors
    ///
    /// The relays are generated for [`Blob`] only: any other message type is an error.
    fn relays(
        context: &Context,
        transport: Transport,
        upstream: &str,
    ) -> Result<(Runtime, String), String> {
        let _ = (context, transport, upstream);
        Err(format!(
            "the pipeline scenario carries `{}` only, not `{}`",
            Blob::NAME,
            Self::NAME
        ))
    }
}

/// The protobuf payload, a timestamp and a blob of bytes: generated from
/// `pipeline/messages.yaml`, so the generated relays of the `pipeline` scenario carry it.
pub(crate) use crate::pipeline::Blob;

/// The JSON payload (for `json` and `python-json`): a timestamp and a string.
#[derive(Clone, PartialEq, Debug, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "bench.Text", codec = "json")]
pub(crate) struct Text {
    pub sent_ns: u64,
    pub data: String,
}

/// Grows the variable part until the encoding reaches `payload` bytes.
fn fit<M: Message>(payload: usize, codec: Codec, mut make: impl FnMut(usize) -> M) -> M {
    let mut len = 0;
    let mut buf = Vec::new();
    // Two passes settle it: the second corrects for a length prefix that grew.
    for _ in 0..3 {
        buf.clear();
        if make(len).encode(codec, &mut buf).is_err() {
            break;
        }
        if buf.len() == payload {
            break;
        }
        len = (len + payload).saturating_sub(buf.len());
    }
    make(len)
}

/// A timestamp with as many digits as a real one, so JSON sizes come out right.
const TYPICAL_STAMP: u64 = 1_700_000_000_000_000_000;

impl BenchMessage for Blob {
    fn sized(payload: usize, codec: Codec) -> Self {
        fit(payload, codec, |len| Blob {
            sent_ns: TYPICAL_STAMP,
            data: vec![0x5a; len].into(),
        })
    }

    fn stamp(&self) -> u64 {
        self.sent_ns
    }

    fn set_stamp(&mut self, ns: u64) {
        self.sent_ns = ns;
    }

    fn data_len(&self) -> usize {
        self.data.len()
    }

    fn relays(
        context: &Context,
        transport: Transport,
        upstream: &str,
    ) -> Result<(Runtime, String), String> {
        crate::pipeline::relays(context, transport, upstream, crate::path::endpoint)
    }
}

impl BenchMessage for Text {
    fn sized(payload: usize, codec: Codec) -> Self {
        fit(payload, codec, |len| Text {
            sent_ns: TYPICAL_STAMP,
            data: "z".repeat(len),
        })
    }

    fn stamp(&self) -> u64 {
        self.sent_ns
    }

    fn set_stamp(&mut self, ns: u64) {
        self.sent_ns = ns;
    }

    fn data_len(&self) -> usize {
        self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded_len<M: Message>(message: &M, codec: Codec) -> usize {
        let mut buf = Vec::new();
        message.encode(codec, &mut buf).map_or(0, |()| buf.len())
    }

    #[test]
    fn messages_encode_to_the_requested_size() {
        for payload in [16, 64, 127, 128, 130, 1024, 65_536] {
            assert_eq!(
                encoded_len(&Blob::sized(payload, Codec::Protobuf), Codec::Protobuf),
                payload
            );
        }
        for payload in [64, 1024, 65_536] {
            assert_eq!(
                encoded_len(&Text::sized(payload, Codec::Json), Codec::Json),
                payload
            );
        }
    }
}
