//! A SUB socket that reads envelopes of every type and both framings, for `tap` and `stats`.
//!
//! A runtime `Receiver` reads one framing (native or `python-json`), but one proxy can carry
//! both, so the tools read frames themselves and split them with the runtime's
//! [`RawEnvelope::decode`], by frame count: two frames are native, four are `python-json`.

use std::time::Duration;

use hermes_runtime::Codec;
use hermes_runtime::envelope::{RawEnvelope, subscription};

/// The largest frame set accepted, so a hostile peer cannot make the tool allocate without
/// bound.
const MAX_MESSAGE_BYTES: i64 = 16 * 1024 * 1024;

/// Envelopes queued in the socket before the tool itself starts losing them.
const RECEIVE_HWM: i32 = 100_000;

/// An envelope as it came off the wire, payload not decoded.
#[derive(Debug, Clone)]
pub struct Received {
    /// The codec its header (or framing) names.
    pub codec: Codec,
    /// The topic.
    pub topic: String,
    /// The publisher's name.
    pub origin: String,
    /// The sender's type fingerprint; `None` for `python-json`.
    pub fingerprint: Option<u64>,
    /// The publisher's epoch; 0 for `python-json`.
    pub epoch: u32,
    /// The sequence number; 0 for `python-json`.
    pub seq: u64,
    /// When it was sent, ns since the Unix epoch.
    pub timestamp_ns: u64,
    /// The encoded payload.
    pub payload: Vec<u8>,
    /// Bytes on the wire, all frames.
    pub wire_bytes: usize,
}

impl Received {
    /// How long ago it was sent (zero when the sender's clock is ahead).
    pub fn lag_ns(&self) -> u64 {
        hermes_runtime::envelope::now_ns().saturating_sub(self.timestamp_ns)
    }
}

/// What [`Listener::next`] got.
#[derive(Debug)]
pub enum Next {
    /// An envelope on a subscribed topic.
    Envelope(Received),
    /// A frame set that is not an envelope, and why.
    Malformed(String),
    /// Nothing arrived in time (or only envelopes outside the topics' segment boundaries).
    Timeout,
}

/// A SUB socket subscribed to topic prefixes, matched by whole segments.
pub struct Listener {
    socket: zmq::Socket,
    topics: Vec<String>,
    // Dropped after the socket (fields drop in order), so the context terminates last.
    _context: zmq::Context,
}

impl Listener {
    /// Connects to `endpoint` and subscribes to `topics` (all topics when empty), in both
    /// framings.
    ///
    /// # Errors
    ///
    /// A message when the socket cannot be made or the endpoint is not valid.
    pub fn connect(endpoint: &str, topics: &[String]) -> Result<Listener, String> {
        let context = zmq::Context::new();
        let socket = context
            .socket(zmq::SUB)
            .map_err(|error| format!("cannot create a socket: {error}"))?;
        let setup = || -> Result<(), zmq::Error> {
            socket.set_linger(0)?;
            socket.set_rcvhwm(RECEIVE_HWM)?;
            socket.set_maxmsgsize(MAX_MESSAGE_BYTES)?;
            if topics.is_empty() {
                socket.set_subscribe(b"")?;
            }
            for topic in topics {
                socket.set_subscribe(&subscription(Codec::Protobuf, topic))?;
                socket.set_subscribe(&subscription(Codec::PythonJson, topic))?;
            }
            Ok(())
        };
        setup().map_err(|error| format!("cannot configure the socket: {error}"))?;
        socket
            .connect(endpoint)
            .map_err(|error| format!("cannot connect to `{endpoint}`: {error}"))?;
        Ok(Listener {
            socket,
            topics: topics.to_vec(),
            _context: context,
        })
    }

    /// Waits at most `timeout` for the next envelope.
    ///
    /// # Errors
    ///
    /// A message when the socket fails.
    pub fn next(&mut self, timeout: Duration) -> Result<Next, String> {
        let millis = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        let ready = self
            .socket
            .poll(zmq::POLLIN, millis)
            .map_err(|error| format!("cannot wait for envelopes: {error}"))?;
        if ready == 0 {
            return Ok(Next::Timeout);
        }
        let frames = match self.socket.recv_multipart(zmq::DONTWAIT) {
            Ok(frames) => frames,
            Err(zmq::Error::EAGAIN) => return Ok(Next::Timeout),
            Err(error) => return Err(format!("cannot receive: {error}")),
        };
        let wire_bytes = frames.iter().map(Vec::len).sum();
        let parts: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let framing = if parts.len() == 4 {
            Codec::PythonJson
        } else {
            Codec::Protobuf
        };
        let raw = match RawEnvelope::decode(framing, &parts) {
            Ok(raw) => raw,
            Err(error) => return Ok(Next::Malformed(error.to_string())),
        };
        if !self.topics.is_empty()
            && !self
                .topics
                .iter()
                .any(|topic| hermes_core::topic::matches(topic, &raw.topic))
        {
            return Ok(Next::Timeout);
        }
        Ok(Next::Envelope(Received {
            codec: raw.codec,
            topic: raw.topic.into_owned(),
            origin: raw.origin.into_owned(),
            fingerprint: raw.fingerprint,
            epoch: raw.epoch,
            seq: raw.seq,
            timestamp_ns: raw.timestamp_ns,
            payload: raw.payload.to_vec(),
            wire_bytes,
        }))
    }
}
