//! Envelopes and their frames: pure encoding and decoding, no sockets.
//!
//! Native envelopes (codecs `protobuf` and `json`) are two frames:
//!
//! 1. the topic, as raw UTF-8 bytes, so ZeroMQ's prefix filtering works on it;
//! 2. a binary header (see [`Header`] and `docs/wire-format.md`) followed directly by the payload,
//!    encoded by the codec the header names.
//!
//! Header and payload share a frame because libzmq's cost at small sizes is per frame: a third
//! frame cost a third of the throughput of raw `zmq` in our benchmark.
//!
//! `python-json` envelopes are the four JSON text frames of hermes-zmq 1.3: topic, origin, data and
//! timestamp (float seconds). They carry no sequence number and no type fingerprint.
//!
//! Decoding any byte sequence returns an envelope or a [`FrameError`]; it never panics.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::codec::python::{write_float, write_string as write_python_string};
use crate::codec::{Codec, PythonLayout};
use crate::error::{CodecError, FrameError};
use crate::message::Message;
use crate::shared_str::SharedStr;

/// The native wire-format version this build writes and reads.
pub(crate) const VERSION: u8 = 1;

/// Length of the header's fixed part, before the sequence number and the origin.
pub(crate) const HEADER_LEN: usize = 22;

/// The longest origin a header carries, in bytes.
pub(crate) const MAX_ORIGIN: usize = 255;

/// The fingerprint of a receiving type that accepts any publisher's type (such as
/// `serde_json::Value` under a JSON codec).
pub(crate) use hermes_core::ANY_FINGERPRINT;

/// A message with its routing and accounting data.
///
/// # Examples
///
/// ```
/// use hermes_runtime::Envelope;
///
/// let envelope = Envelope::new("quotes/bitstamp", "bitstamp", 42u32);
/// assert_eq!(envelope.topic, "quotes/bitstamp");
/// assert_eq!(envelope.map(|n| n + 1).message, 43);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<M> {
    /// The `/`-separated topic it was published on.
    pub topic: SharedStr,
    /// The publisher's name (a node name for node publishers).
    pub origin: SharedStr,
    /// The publisher's sequence number for this topic, from 0; 0 for `python-json`.
    pub seq: u64,
    /// A number drawn when the publisher was made; a new one means the publisher restarted.
    /// Never 0 for native envelopes; 0 for `python-json`, which has none.
    pub epoch: u32,
    /// When it was sent, in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// The message itself.
    pub message: M,
}

impl<M> Envelope<M> {
    /// An envelope stamped now, with sequence number 0.
    pub fn new(
        topic: impl Into<SharedStr>,
        origin: impl Into<SharedStr>,
        message: M,
    ) -> Envelope<M> {
        Envelope {
            topic: topic.into(),
            origin: origin.into(),
            seq: 0,
            epoch: 0,
            timestamp_ns: now_ns(),
            message,
        }
    }

    /// When it was sent.
    pub fn timestamp(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.timestamp_ns)
    }

    /// How long ago it was sent (zero when the sender's clock is ahead).
    pub fn lag(&self) -> Duration {
        Duration::from_nanos(now_ns().saturating_sub(self.timestamp_ns))
    }

    /// The same envelope around another message.
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Envelope<N> {
        Envelope {
            topic: self.topic,
            origin: self.origin,
            seq: self.seq,
            epoch: self.epoch,
            timestamp_ns: self.timestamp_ns,
            message: f(self.message),
        }
    }
}

/// Nanoseconds since the Unix epoch, now: the clock envelope timestamps and lags are read on.
///
/// # Examples
///
/// ```
/// let before = hermes_runtime::now_ns();
/// let envelope = hermes_runtime::Envelope::new("ticks", "me", ());
/// assert!(envelope.timestamp_ns >= before);
/// ```
#[inline]
pub fn now_ns() -> u64 {
    // Whole seconds and nanoseconds rather than `as_nanos`: every envelope reads the clock on
    // sending and on receiving, and the 128-bit arithmetic cost about as much as the read.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            elapsed
                .as_secs()
                .saturating_mul(1_000_000_000)
                .saturating_add(u64::from(elapsed.subsec_nanos()))
        })
}

/// The metadata at the start of a native envelope's second frame, before the payload.
///
/// Layout, integers little-endian:
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 1 | version (high 4 bits, 1) and codec id (low 4 bits: 1 protobuf, 2 json) |
/// | 1 | 1 | origin length in bytes, n |
/// | 2 | 8 | type fingerprint |
/// | 10 | 4 | publisher epoch |
/// | 14 | 8 | timestamp, ns since the Unix epoch |
/// | 22 | 1–10 | sequence number, unsigned LEB128 varint |
/// | … | n | origin, UTF-8 |
/// | … | rest | payload |
///
/// Every byte counts: on loopback TCP, raw zmq carrying these extra bytes (as cheaply as
/// libzmq allows) reaches only 0.93 of its 64-byte throughput in our benchmark, so the header
/// is packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The payload's codec.
    pub codec: Codec,
    /// The sender's type fingerprint.
    pub fingerprint: u64,
    /// The publisher's epoch.
    pub epoch: u32,
    /// The sequence number.
    pub seq: u64,
    /// The send time, ns since the Unix epoch.
    pub timestamp_ns: u64,
}

impl Header {
    /// Appends the header and `origin` to `buf`.
    ///
    /// Origins longer than 255 bytes are cut at a character boundary below that.
    pub(crate) fn write(&self, origin: &str, buf: &mut Vec<u8>) {
        let origin = truncate_utf8(origin, MAX_ORIGIN);
        // Assembled on the stack and appended at once: one capacity check instead of one per
        // byte pushed.
        let mut fixed = [0u8; HEADER_LEN + 10];
        fixed[0] = VERSION << 4 | self.codec.id();
        fixed[1] = u8::try_from(origin.len()).unwrap_or(u8::MAX);
        fixed[2..10].copy_from_slice(&self.fingerprint.to_le_bytes());
        fixed[10..14].copy_from_slice(&self.epoch.to_le_bytes());
        fixed[14..22].copy_from_slice(&self.timestamp_ns.to_le_bytes());
        let mut len = HEADER_LEN;
        let mut seq = self.seq;
        // A u64 takes at most ten 7-bit groups: `len` stays below `fixed.len()`.
        while seq >= 0x80 {
            fixed[len] = (seq as u8) | 0x80;
            seq >>= 7;
            len += 1;
        }
        fixed[len] = seq as u8;
        len += 1;
        buf.reserve(len + origin.len());
        buf.extend_from_slice(&fixed[..len]);
        buf.extend_from_slice(origin.as_bytes());
    }

    /// Reads the header at the start of `frame`, returning the header, the origin and the
    /// bytes after them (the payload).
    ///
    /// # Errors
    ///
    /// [`FrameError`] when the frame is short, of another version, names an unknown codec,
    /// has an overlong sequence number or carries an origin that is not UTF-8.
    #[inline]
    pub(crate) fn read(frame: &[u8]) -> Result<(Header, &str, &[u8]), FrameError> {
        let (header, origin, payload) = Header::read_unchecked(frame)?;
        let origin = std::str::from_utf8(origin).map_err(|err| text_error("origin", err))?;
        Ok((header, origin, payload))
    }

    /// As [`read`](Header::read), with the origin's bytes not checked for UTF-8 yet: a
    /// receiver that already knows them (the same publisher as the last envelope) skips it.
    #[inline]
    pub(crate) fn read_unchecked(frame: &[u8]) -> Result<(Header, &[u8], &[u8]), FrameError> {
        let short = |expected: usize| FrameError::ShortHeader {
            expected,
            found: frame.len(),
        };
        let fixed = frame
            .get(..HEADER_LEN)
            .ok_or_else(|| short(HEADER_LEN + 1))?;
        let version = fixed[0] >> 4;
        if version != VERSION {
            return Err(FrameError::Version(version));
        }
        let codec_id = fixed[0] & 0x0f;
        let codec = Codec::from_id(codec_id)
            .filter(|codec| !matches!(codec, Codec::PythonJson))
            .ok_or(FrameError::UnknownCodec(codec_id))?;
        let origin_len = usize::from(fixed[1]);
        let epoch = le_u32(fixed, 10);
        let (seq, varint_len) =
            read_varint(&frame[HEADER_LEN..]).ok_or_else(|| short(HEADER_LEN + 1))?;
        let origin_at = HEADER_LEN + varint_len;
        let origin = frame
            .get(origin_at..origin_at + origin_len)
            .ok_or_else(|| short(origin_at + origin_len))?;
        let header = Header {
            codec,
            fingerprint: le_u64(fixed, 2),
            epoch,
            seq,
            timestamp_ns: le_u64(fixed, 14),
        };
        Ok((header, origin, &frame[origin_at + origin_len..]))
    }
}

/// The little-endian `u64` at `at` of `bytes`, which holds it.
fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut le = [0u8; 8];
    le.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(le)
}

/// The little-endian `u32` at `at` of `bytes`, which holds it.
fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut le = [0u8; 4];
    le.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(le)
}

/// Reads an unsigned LEB128 varint of at most ten bytes: the value and its length.
#[inline]
fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The frames of one envelope, ready to send; reused from send to send to avoid allocation.
#[derive(Debug, Default)]
pub struct Frames {
    parts: [Vec<u8>; 4],
    count: usize,
}

impl Frames {
    /// Empty frames.
    pub fn new() -> Frames {
        Frames::default()
    }

    /// The frames written by the last [`encode`].
    pub fn parts(&self) -> &[Vec<u8>] {
        &self.parts[..self.count]
    }

    /// Takes frame `index` out (to hand it to libzmq without copying), leaving an empty buffer
    /// with room for as many bytes in its place; `None` past the frames written.
    pub(crate) fn take_part(&mut self, index: usize) -> Option<Vec<u8>> {
        let part = self.parts[..self.count].get_mut(index)?;
        let room = Vec::with_capacity(part.len());
        Some(std::mem::replace(part, room))
    }
}

/// Where and how an envelope is sent: everything but the message.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// The codec.
    pub codec: Codec,
    /// The topic.
    pub topic: &'a str,
    /// The publisher's name.
    pub origin: &'a str,
    /// The publisher's epoch.
    pub epoch: u32,
    /// The sequence number.
    pub seq: u64,
    /// The send time, ns since the Unix epoch.
    pub timestamp_ns: u64,
    /// How `python-json` lays out the message's fields; ignored by the native codecs.
    pub python_layout: PythonLayout,
}

/// Encodes `message` into `frames` as the envelope `stamp` describes.
///
/// # Errors
///
/// [`CodecError`] when the message does not support the codec or the codec refuses it.
pub fn encode<M: Message>(
    stamp: &Stamp<'_>,
    message: &M,
    frames: &mut Frames,
) -> Result<(), CodecError> {
    encode_with(
        stamp,
        message.fingerprint(),
        frames,
        |codec, payload| match codec {
            Codec::Protobuf | Codec::Json => message.encode(codec, payload),
            Codec::PythonJson => {
                message.encode_python(stamp.python_layout, stamp.timestamp_ns, payload)
            }
        },
    )
}

/// The one envelope encoder: writes the frames `stamp` describes around the payload that
/// `payload` appends (to the header frame for native codecs, to the data frame for
/// `python-json`).
fn encode_with<E>(
    stamp: &Stamp<'_>,
    fingerprint: u64,
    frames: &mut Frames,
    payload: impl FnOnce(Codec, &mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    for part in &mut frames.parts {
        part.clear();
    }
    frames.count = 0;
    let [topic, second, third, fourth] = &mut frames.parts;
    match stamp.codec {
        Codec::Protobuf | Codec::Json => {
            topic.extend_from_slice(stamp.topic.as_bytes());
            Header {
                codec: stamp.codec,
                fingerprint,
                epoch: stamp.epoch,
                seq: stamp.seq,
                timestamp_ns: stamp.timestamp_ns,
            }
            .write(stamp.origin, second);
            payload(stamp.codec, second)?;
            frames.count = 2;
        }
        Codec::PythonJson => {
            write_python_string(stamp.topic, topic);
            write_python_string(stamp.origin, second);
            payload(stamp.codec, third)?;
            write_python_timestamp(stamp.timestamp_ns, fourth);
            frames.count = 4;
        }
    }
    Ok(())
}

/// An envelope off the wire whose payload is not decoded yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireEnvelope<'a> {
    /// The codec it was sent with.
    pub codec: Codec,
    /// The topic.
    pub topic: Cow<'a, str>,
    /// The publisher's name.
    pub origin: Cow<'a, str>,
    /// The sender's type fingerprint; `None` for `python-json`, which has none.
    pub fingerprint: Option<u64>,
    /// The publisher's epoch (0 for `python-json`).
    pub epoch: u32,
    /// The sequence number (0 for `python-json`).
    pub seq: u64,
    /// The send time, ns since the Unix epoch.
    pub timestamp_ns: u64,
    /// The encoded payload.
    pub payload: &'a [u8],
}

impl<'a> WireEnvelope<'a> {
    /// Splits a frame set received by a socket whose codec is `codec`.
    ///
    /// A native receiver (`protobuf` or `json`) accepts native envelopes of either codec; the
    /// payload's codec is read from the header.
    ///
    /// # Errors
    ///
    /// [`FrameError`] for a wrong frame count or any malformed frame.
    #[inline]
    pub(crate) fn decode(codec: Codec, parts: &[&'a [u8]]) -> Result<WireEnvelope<'a>, FrameError> {
        match codec {
            Codec::Protobuf | Codec::Json => Self::decode_native(parts),
            Codec::PythonJson => Self::decode_python(parts),
        }
    }

    #[inline]
    fn decode_native(parts: &[&'a [u8]]) -> Result<WireEnvelope<'a>, FrameError> {
        let &[topic, body] = parts else {
            return Err(FrameError::FrameCount {
                expected: 2,
                found: parts.len(),
            });
        };
        let topic = std::str::from_utf8(topic).map_err(|err| text_error("topic", err))?;
        if batch::is_batch(body) {
            let (batch, _) = batch::read(body)?;
            return Err(FrameError::Batched(batch.count));
        }
        let (header, origin, payload) = Header::read(body)?;
        Ok(WireEnvelope {
            codec: header.codec,
            topic: Cow::Borrowed(topic),
            origin: Cow::Borrowed(origin),
            fingerprint: Some(header.fingerprint),
            epoch: header.epoch,
            seq: header.seq,
            timestamp_ns: header.timestamp_ns,
            payload,
        })
    }

    fn decode_python(parts: &[&'a [u8]]) -> Result<WireEnvelope<'a>, FrameError> {
        let &[topic, origin, data, ts] = parts else {
            return Err(FrameError::FrameCount {
                expected: 4,
                found: parts.len(),
            });
        };
        Ok(WireEnvelope {
            codec: Codec::PythonJson,
            topic: read_json_string("topic", topic)?,
            origin: read_json_string("origin", origin)?,
            fingerprint: None,
            epoch: 0,
            seq: 0,
            timestamp_ns: read_python_timestamp(ts)?,
            payload: data,
        })
    }

    /// Decodes the payload as `M`, checking the fingerprint first.
    ///
    /// # Errors
    ///
    /// [`FrameError::Fingerprint`] when the sender's type is not `M`;
    /// [`FrameError::Payload`] when the payload does not decode.
    #[cfg(test)]
    pub(crate) fn into_envelope<M: Message>(self) -> Result<Envelope<M>, FrameError> {
        let message = self.decode_message::<M>()?;
        Ok(Envelope {
            topic: self.topic.into(),
            origin: self.origin.into(),
            seq: self.seq,
            epoch: self.epoch,
            timestamp_ns: self.timestamp_ns,
            message,
        })
    }

    /// Decodes the payload as `M`, checking the fingerprint first.
    ///
    /// # Errors
    ///
    /// As [`into_envelope`](WireEnvelope::into_envelope).
    pub(crate) fn decode_message<M: Message>(&self) -> Result<M, FrameError> {
        self.decode_message_in::<M>(None)
    }

    /// As [`decode_message`](WireEnvelope::decode_message), the payload being part of
    /// `frame` when given: a type that [shares its payload](Message::SHARES_PAYLOAD) keeps
    /// parts of the frame instead of copying them.
    ///
    /// # Errors
    ///
    /// As [`into_envelope`](WireEnvelope::into_envelope).
    #[inline]
    pub(crate) fn decode_message_in<M: Message>(
        &self,
        frame: Option<&bytes::Bytes>,
    ) -> Result<M, FrameError> {
        if let Some(found) = self.fingerprint
            && M::FINGERPRINT != ANY_FINGERPRINT
            && found != M::FINGERPRINT
        {
            return Err(FrameError::Fingerprint {
                message: M::NAME,
                expected: M::FINGERPRINT,
                found,
            });
        }
        if M::SHARES_PAYLOAD
            && let Some(frame) = frame
        {
            let payload = frame.slice_ref(self.payload);
            return Ok(M::decode_shared(self.codec, self.fingerprint, payload)?);
        }
        Ok(M::decode_with_fingerprint(
            self.codec,
            self.fingerprint,
            self.payload,
        )?)
    }
}

/// An envelope of any type with its payload still encoded, for tools that learn types at run
/// time: what [`RawReceiver`](crate::RawReceiver) delivers and [`from_frames`](RawEnvelope::from_frames)
/// reads.
///
/// Both framings are one type: native envelopes (codecs `protobuf` and `json`, two frames) and
/// `python-json` ones (four JSON text frames, with no fingerprint, epoch or sequence number).
/// The wire format is described in `docs/wire-format.md`.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{Codec, RawEnvelope};
///
/// // The four frames of a hermes-zmq 1.3 (python-json) envelope.
/// let frames: [&[u8]; 4] = [b"\"quotes/bitstamp\"", b"\"bitstamp\"", b"[1,2]", b"1700000000.5"];
/// let raw = RawEnvelope::from_frames(&frames)?;
/// assert_eq!(raw.topic, "quotes/bitstamp");
/// assert_eq!(raw.codec, Codec::PythonJson);
/// assert_eq!(raw.timestamp_ns, 1_700_000_000_500_000_000);
/// assert_eq!(raw.payload, b"[1,2]");
/// assert_eq!(raw.wire_size, 44);
/// assert_eq!(raw.type_fingerprint(), None);
/// let envelope = raw.decode::<serde_json::Value>()?;
/// assert_eq!(envelope.message, serde_json::json!([1, 2]));
///
/// // Anything else is a typed error, never a panic.
/// assert!(RawEnvelope::from_frames(&[b"quotes"]).is_err());
/// # Ok::<(), hermes_runtime::FrameError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawEnvelope {
    /// The `/`-separated topic it was published on.
    pub topic: SharedStr,
    /// The publisher's name.
    pub origin: SharedStr,
    /// The payload's codec, from the header (native) or the framing (`python-json`).
    pub codec: Codec,
    /// The fingerprint in the header: `None` for `python-json`, `Some(0)` from a publisher whose
    /// type takes any payload (such as `Publisher<serde_json::Value>`); see
    /// [`type_fingerprint`](RawEnvelope::type_fingerprint).
    pub fingerprint: Option<u64>,
    /// The publisher's epoch; 0 for `python-json`.
    pub epoch: u32,
    /// The publisher's sequence number for this topic; 0 for `python-json`.
    pub seq: u64,
    /// When it was sent, in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// The encoded payload.
    pub payload: Vec<u8>,
    /// Bytes on the wire, every frame counted.
    pub wire_size: usize,
}

impl RawEnvelope {
    /// Reads the frames of one multipart message: four frames are a `python-json` envelope, any
    /// other count a native one.
    ///
    /// # Errors
    ///
    /// [`FrameError`] for a wrong frame count or any malformed frame.
    pub fn from_frames(frames: &[&[u8]]) -> Result<RawEnvelope, FrameError> {
        let framing = if frames.len() == 4 {
            Codec::PythonJson
        } else {
            Codec::Protobuf
        };
        let wire_size = frames.iter().map(|frame| frame.len()).sum();
        WireEnvelope::decode(framing, frames).map(|wire| wire.to_raw(wire_size))
    }

    /// The fingerprint of the type the sender named, if it named one: `None` for `python-json`
    /// envelopes and for publishers whose type takes any payload.
    pub fn type_fingerprint(&self) -> Option<u64> {
        self.fingerprint
            .filter(|&fingerprint| fingerprint != ANY_FINGERPRINT)
    }

    /// Decodes the payload as `M`, checking the fingerprint first, as a
    /// [`Receiver<M>`](crate::Receiver) does.
    ///
    /// # Errors
    ///
    /// [`FrameError::Fingerprint`] when the sender's type is not `M`;
    /// [`FrameError::Payload`] when the payload does not decode as `M`.
    pub fn decode<M: Message>(&self) -> Result<Envelope<M>, FrameError> {
        let message = self.as_wire().decode_message::<M>()?;
        Ok(Envelope {
            topic: self.topic.clone(),
            origin: self.origin.clone(),
            seq: self.seq,
            epoch: self.epoch,
            timestamp_ns: self.timestamp_ns,
            message,
        })
    }

    /// When it was sent.
    pub fn timestamp(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.timestamp_ns)
    }

    /// How long ago it was sent (zero when the sender's clock is ahead).
    pub fn lag(&self) -> Duration {
        Duration::from_nanos(now_ns().saturating_sub(self.timestamp_ns))
    }

    /// An envelope with every field given, its [`wire_size`](RawEnvelope::wire_size) computed
    /// by encoding it: for tools that rebuild envelopes, such as
    /// [`recording`](crate::recording)'s reader.
    ///
    /// `python-json` envelopes carry no fingerprint, epoch or sequence number: those arguments
    /// are ignored for them and read back as `None`, 0 and 0.
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per field of the envelope"
    )]
    pub fn new(
        topic: impl Into<SharedStr>,
        origin: impl Into<SharedStr>,
        codec: Codec,
        fingerprint: Option<u64>,
        epoch: u32,
        seq: u64,
        timestamp_ns: u64,
        payload: Vec<u8>,
    ) -> RawEnvelope {
        let python = matches!(codec, Codec::PythonJson);
        let mut raw = RawEnvelope {
            topic: topic.into(),
            origin: origin.into(),
            codec,
            fingerprint: if python {
                None
            } else {
                Some(fingerprint.unwrap_or(ANY_FINGERPRINT))
            },
            epoch: if python { 0 } else { epoch },
            seq: if python { 0 } else { seq },
            timestamp_ns,
            payload,
            wire_size: 0,
        };
        raw.wire_size = raw.to_frames().iter().map(Vec::len).sum();
        raw
    }

    /// The frames this envelope travels as, encoded by the same encoder publishers use: what
    /// [`from_frames`](RawEnvelope::from_frames) reads back into an equal envelope (origins
    /// longer than 255 bytes are cut, as publishers cut them).
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_runtime::{Codec, RawEnvelope};
    ///
    /// let raw = RawEnvelope::new("quotes", "feed", Codec::Json, Some(7), 3, 41, 1_700_000_000_000_000_000, b"1".to_vec());
    /// let frames = raw.to_frames();
    /// let parts: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    /// assert_eq!(RawEnvelope::from_frames(&parts)?, raw);
    /// # Ok::<(), hermes_runtime::FrameError>(())
    /// ```
    pub fn to_frames(&self) -> Vec<Vec<u8>> {
        let mut frames = Frames::new();
        self.write_frames(&mut frames);
        frames.parts().to_vec()
    }

    /// This envelope as the receivers' decoding sees one off the wire, borrowing its fields.
    pub(crate) fn as_wire(&self) -> WireEnvelope<'_> {
        WireEnvelope {
            codec: self.codec,
            topic: Cow::Borrowed(&self.topic),
            origin: Cow::Borrowed(&self.origin),
            fingerprint: self.fingerprint,
            epoch: self.epoch,
            seq: self.seq,
            timestamp_ns: self.timestamp_ns,
            payload: &self.payload,
        }
    }

    /// Encodes this envelope into `frames`, reused from send to send.
    pub(crate) fn write_frames(&self, frames: &mut Frames) {
        let stamp = Stamp {
            codec: self.codec,
            topic: &self.topic,
            origin: &self.origin,
            epoch: self.epoch,
            seq: self.seq,
            timestamp_ns: self.timestamp_ns,
            python_layout: PythonLayout::default(),
        };
        let fingerprint = self.fingerprint.unwrap_or(ANY_FINGERPRINT);
        let written: Result<(), std::convert::Infallible> =
            encode_with(&stamp, fingerprint, frames, |_, payload| {
                payload.extend_from_slice(&self.payload);
                Ok(())
            });
        let Ok(()) = written;
    }
}

impl WireEnvelope<'_> {
    /// An owned copy, for tools.
    pub(crate) fn to_raw(&self, wire_size: usize) -> RawEnvelope {
        RawEnvelope {
            topic: SharedStr::from(self.topic.as_ref()),
            origin: SharedStr::from(self.origin.as_ref()),
            codec: self.codec,
            fingerprint: self.fingerprint,
            epoch: self.epoch,
            seq: self.seq,
            timestamp_ns: self.timestamp_ns,
            payload: self.payload.to_vec(),
            wire_size,
        }
    }
}

/// The bytes a SUB socket subscribes to for topic prefix `prefix` under `codec`.
///
/// Native frames start with the raw topic; `python-json` topic frames start with a `"`, so the
/// prefix is the JSON string without its closing quote.
pub(crate) fn subscription(codec: Codec, prefix: &str) -> Vec<u8> {
    match codec {
        Codec::Protobuf | Codec::Json => prefix.as_bytes().to_vec(),
        Codec::PythonJson => {
            let mut bytes = Vec::with_capacity(prefix.len() + 2);
            write_python_string(prefix, &mut bytes);
            bytes.pop();
            bytes
        }
    }
}

/// Writes a timestamp as `json.dumps(time.time())` would for the same instant: float seconds in
/// Python's `repr` (`1700000000.123456`, `1700000000.5`).
fn write_python_timestamp(timestamp_ns: u64, out: &mut Vec<u8>) {
    write_float(crate::codec::python::seconds(timestamp_ns), out);
}

fn read_json_string<'a>(frame: &'static str, bytes: &'a [u8]) -> Result<Cow<'a, str>, FrameError> {
    let text = std::str::from_utf8(bytes).map_err(|err| text_error(frame, err))?;
    // Most topics and origins have no escapes: borrow them.
    if let Some(inner) = text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        && !inner.contains(['\\', '"'])
        && !inner.chars().any(char::is_control)
    {
        return Ok(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(text)
        .map(Cow::Owned)
        .map_err(|err| text_error(frame, format!("expected a JSON string: {err}")))
}

/// Reads float seconds (`1700000000.123456`, or any JSON number) into ns since the epoch.
fn read_python_timestamp(bytes: &[u8]) -> Result<u64, FrameError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|err| text_error("timestamp", err))?
        .trim();
    let exact = text
        .split_once('.')
        .map_or(Some((text, "")), Some)
        .and_then(|(whole, fraction)| {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
                return None;
            }
            let seconds: u64 = whole.parse().ok()?;
            let mut nanos = 0u64;
            for (i, digit) in fraction.bytes().take(9).enumerate() {
                nanos += u64::from(digit - b'0') * 10u64.pow(8 - i as u32);
            }
            seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
        });
    if let Some(ns) = exact {
        return Ok(ns);
    }
    let seconds: f64 = serde_json::from_str(text)
        .map_err(|err| text_error("timestamp", format!("expected a JSON number: {err}")))?;
    if !(0.0..=18_446_744_073.0).contains(&seconds) {
        return Err(text_error(
            "timestamp",
            format!("expected seconds since the Unix epoch, found {seconds}"),
        ));
    }
    Ok((seconds * 1e9) as u64)
}

pub(crate) fn text_error(frame: &'static str, reason: impl ToString) -> FrameError {
    FrameError::Text {
        frame,
        reason: reason.to_string(),
    }
}

fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub(crate) mod batch;
#[cfg(test)]
mod tests;
