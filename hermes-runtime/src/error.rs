//! Typed errors of the runtime.

use std::borrow::Cow;

use crate::codec::Codec;

/// A payload could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The message type does not support this codec.
    #[error("message `{message}` does not support the `{codec}` codec")]
    Unsupported {
        /// The codec asked for.
        codec: Codec,
        /// The message type's name.
        message: &'static str,
    },
    /// The codec refused to encode the value.
    #[error("cannot encode payload: {0}")]
    Encode(String),
    /// The payload bytes are not a valid encoding.
    #[error("cannot decode payload: {0}")]
    Decode(String),
}

/// A frame set off the wire is not a valid envelope.
///
/// Every byte sequence decodes to an envelope or to one of these; decoding never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The multipart message has the wrong number of frames.
    #[error("expected {expected} frames, found {found}")]
    FrameCount {
        /// Frames the codec's envelope has.
        expected: usize,
        /// Frames received.
        found: usize,
    },
    /// The header frame is shorter than its fixed part or its origin.
    #[error("header frame too short: expected at least {expected} bytes, found {found}")]
    ShortHeader {
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The header names a wire-format version this build does not read.
    #[error("unsupported envelope version {0}, expected 1 (an envelope) or 2 (a batch)")]
    Version(u8),
    /// A batch of envelopes (wire-format version 2) is malformed; the envelopes before the
    /// malformed one were delivered.
    #[error("malformed batch: {0}")]
    Batch(String),
    /// A batch where one envelope was expected, by a reader of single envelopes such as
    /// [`RawEnvelope::from_frames`](crate::RawEnvelope::from_frames).
    #[error("a batch of {0} envelopes where one was expected; receivers unpack batches")]
    Batched(u32),
    /// The header names an unknown codec id.
    #[error("unknown codec id {0}")]
    UnknownCodec(u8),
    /// The envelope was encoded with another codec than the receiver's.
    #[error("expected codec `{expected}`, found `{found}`")]
    CodecMismatch {
        /// The receiver's codec.
        expected: Codec,
        /// The envelope's codec.
        found: Codec,
    },
    /// The publisher's type differs from the receiver's.
    #[error("expected fingerprint {expected:#018x} of `{message}`, found {found:#018x}")]
    Fingerprint {
        /// The receiving type's name.
        message: &'static str,
        /// The receiving type's fingerprint.
        expected: u64,
        /// The fingerprint in the envelope.
        found: u64,
    },
    /// A text frame (topic, origin, python-json frames) is not valid.
    #[error("invalid {frame} frame: {reason}")]
    Text {
        /// Which frame.
        frame: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The payload does not decode as the receiving type.
    #[error(transparent)]
    Payload(#[from] CodecError),
}

/// Everything that can go wrong in the runtime.
///
/// The expected outcomes of receiving — [`Error::Empty`], [`Error::Timeout`] and
/// [`Error::Disconnected`] — are variants, so callers match on them instead of on strings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `try_recv` found nothing waiting.
    #[error("no message waiting")]
    Empty,
    /// `recv_timeout` found nothing before its deadline.
    #[error("timed out waiting for a message")]
    Timeout,
    /// The socket was closed: the runtime stopped, or the slow-subscriber policy disconnected it.
    #[error("disconnected")]
    Disconnected,
    /// An endpoint string is not a valid ZMQ endpoint.
    #[error("invalid endpoint `{endpoint}`: {reason}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// Why it is not valid.
        reason: String,
    },
    /// Batching settings out of range.
    #[error("invalid batching: {reason}")]
    Batching {
        /// Which bound and its limits.
        reason: String,
    },
    /// A topic is not valid (it contains a NUL byte, say).
    #[error("invalid topic `{topic}`: {reason}")]
    Topic {
        /// The topic as given.
        topic: String,
        /// Why it is not valid.
        reason: String,
    },
    /// libzmq reported an error.
    #[error("zmq: {context}: {source}")]
    Zmq {
        /// What the runtime was doing.
        context: Cow<'static, str>,
        /// libzmq's error.
        source: zmq::Error,
    },
    /// A message could not be encoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A node's handler failed.
    #[error("node `{node}` failed: {reason}")]
    Node {
        /// The node's name.
        node: String,
        /// What its handler reported.
        reason: String,
    },
    /// A thread could not be started.
    #[error("cannot start thread `{name}`: {source}")]
    Thread {
        /// The thread's name.
        name: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A CURVE key could not be read or written.
    #[error(transparent)]
    Key(#[from] crate::security::KeyError),
    /// Security is on and something it needs does not hold (a key that disagrees with its pin).
    #[error("security: {reason}")]
    Security {
        /// What does not hold.
        reason: String,
    },
    /// A [`Backtest`](crate::backtest::Backtest) cannot take a node, or cannot go on.
    #[error("backtest: {reason}")]
    Backtest {
        /// What went wrong.
        reason: String,
    },
    /// The metrics server could not listen where it was asked to.
    #[error("cannot serve metrics on `{address}`: {source}")]
    Metrics {
        /// The address asked for.
        address: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps a libzmq error with what was being done; cheap enough for hot paths.
    pub(crate) fn zmq(context: &'static str) -> impl FnOnce(zmq::Error) -> Error {
        move |source| Error::Zmq {
            context: Cow::Borrowed(context),
            source,
        }
    }

    /// Wraps a libzmq error met while doing something to an endpoint.
    pub(crate) fn zmq_at(action: &'static str, endpoint: &str) -> impl FnOnce(zmq::Error) -> Error {
        move |source| Error::Zmq {
            context: Cow::Owned(format!("{action} `{endpoint}`")),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
