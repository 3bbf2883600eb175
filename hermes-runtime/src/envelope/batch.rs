//! Batches: consecutive native envelopes of one publisher and topic in one ZeroMQ message.
//!
//! A batch is two frames, like a single envelope: the topic, then a body whose first byte
//! carries wire-format version 2 (a single envelope's is 1), so receivers tell them apart and
//! proxies and subscription filters, which look at the topic frame only, need no change.
//!
//! Body layout, integers little-endian:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 1 | version (high 4 bits, 2) and codec id (low 4 bits) |
//! | 1 | 1 | origin length in bytes, n |
//! | 2 | 8 | type fingerprint |
//! | 10 | 4 | publisher epoch |
//! | 14 | 8 | the first envelope's timestamp, ns since the Unix epoch |
//! | 22 | 4 | number of envelopes, at least 1 |
//! | 26 | 1–10 | the first envelope's sequence number, unsigned LEB128 varint |
//! | … | n | origin, UTF-8 |
//!
//! then, per envelope, in sequence order (the k-th has the first's sequence number + k):
//!
//! | size | field |
//! | --- | --- |
//! | 1–10 | timestamp minus the previous envelope's, zigzag LEB128 varint |
//! | 4 | payload length in bytes, m |
//! | m | payload |

use super::{Header, MAX_ORIGIN, le_u32, le_u64, read_varint, truncate_utf8};
use crate::codec::Codec;
use crate::error::FrameError;

/// The wire-format version of a batch body.
pub(crate) const BATCH_VERSION: u8 = 2;

/// Length of the fixed part of a batch body, before the first sequence number.
const FIXED_LEN: usize = 26;

/// Where the envelope count sits in the body.
const COUNT_AT: usize = 22;

/// Whether `body` (a native envelope's second frame) is a batch.
#[inline]
pub(crate) fn is_batch(body: &[u8]) -> bool {
    body.first().is_some_and(|byte| byte >> 4 == BATCH_VERSION)
}

/// A batch body being filled by a publisher.
#[derive(Debug, Default)]
pub(crate) struct BatchWriter {
    body: Vec<u8>,
    count: u32,
    last_timestamp_ns: u64,
}

impl BatchWriter {
    /// Starts a batch in a reused buffer for envelopes with `header`'s codec, fingerprint and
    /// epoch from `origin`, the first of which has `header`'s sequence number and timestamp:
    /// [`push_with`](BatchWriter::push_with) adds it and the ones after it.
    pub(crate) fn start(&mut self, header: &Header, origin: &str) {
        let origin = truncate_utf8(origin, MAX_ORIGIN);
        self.body.clear();
        let mut fixed = [0u8; FIXED_LEN + 10];
        fixed[0] = BATCH_VERSION << 4 | header.codec.id();
        fixed[1] = u8::try_from(origin.len()).unwrap_or(u8::MAX);
        fixed[2..10].copy_from_slice(&header.fingerprint.to_le_bytes());
        fixed[10..14].copy_from_slice(&header.epoch.to_le_bytes());
        fixed[14..22].copy_from_slice(&header.timestamp_ns.to_le_bytes());
        let mut len = FIXED_LEN;
        len += write_varint(header.seq, &mut fixed[len..]);
        self.body.extend_from_slice(&fixed[..len]);
        self.body.extend_from_slice(origin.as_bytes());
        self.count = 0;
        self.last_timestamp_ns = header.timestamp_ns;
    }

    /// Appends the next envelope, its payload written by `payload`. On error the batch is as
    /// it was.
    pub(crate) fn push_with<E>(
        &mut self,
        timestamp_ns: u64,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let rollback = self.body.len();
        let delta = timestamp_ns.wrapping_sub(self.last_timestamp_ns) as i64;
        let mut varint = [0u8; 10];
        let varint_len = write_varint(zigzag(delta), &mut varint);
        self.body.extend_from_slice(&varint[..varint_len]);
        let length_at = self.body.len();
        self.body.extend_from_slice(&[0; 4]);
        if let Err(err) = payload(&mut self.body) {
            self.body.truncate(rollback);
            return Err(err);
        }
        let length = u32::try_from(self.body.len() - length_at - 4).unwrap_or(u32::MAX);
        self.body[length_at..length_at + 4].copy_from_slice(&length.to_le_bytes());
        self.count += 1;
        self.body[COUNT_AT..COUNT_AT + 4].copy_from_slice(&self.count.to_le_bytes());
        self.last_timestamp_ns = timestamp_ns;
        Ok(())
    }

    /// Envelopes in the batch.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// Bytes of the body so far.
    pub(crate) fn len(&self) -> usize {
        self.body.len()
    }

    /// The body, to send; the writer is empty afterwards and keeps `room` bytes of capacity.
    pub(crate) fn take(&mut self, room: usize) -> Vec<u8> {
        self.count = 0;
        std::mem::replace(&mut self.body, Vec::with_capacity(room))
    }
}

/// What a batch body's fixed part says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchHeader {
    /// The payloads' codec.
    pub codec: Codec,
    /// The sender's type fingerprint.
    pub fingerprint: u64,
    /// The publisher's epoch.
    pub epoch: u32,
    /// Envelopes in the batch.
    pub count: u32,
    /// Where the batch's envelopes are read from next.
    pub cursor: BatchCursor,
}

/// A position among a batch's envelopes: kept by a receiver between calls, as an offset into
/// the body it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchCursor {
    at: usize,
    seq: u64,
    timestamp_ns: u64,
    left: u32,
}

/// One envelope of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchEntry {
    /// Its sequence number.
    pub seq: u64,
    /// Its send time, ns since the Unix epoch.
    pub timestamp_ns: u64,
    /// Where its encoded payload is in the body.
    pub payload: std::ops::Range<usize>,
}

/// Reads a batch body's fixed part and origin.
///
/// # Errors
///
/// [`FrameError`] when the body is short, not a batch, names an unknown codec, counts fewer
/// no envelopes or carries an origin that is not UTF-8.
pub(crate) fn read(body: &[u8]) -> Result<(BatchHeader, &str), FrameError> {
    let short = |expected: usize| FrameError::ShortHeader {
        expected,
        found: body.len(),
    };
    let fixed = body.get(..FIXED_LEN).ok_or_else(|| short(FIXED_LEN + 1))?;
    let version = fixed[0] >> 4;
    if version != BATCH_VERSION {
        return Err(FrameError::Version(version));
    }
    let codec_id = fixed[0] & 0x0f;
    let codec = Codec::from_id(codec_id)
        .filter(|codec| !matches!(codec, Codec::PythonJson))
        .ok_or(FrameError::UnknownCodec(codec_id))?;
    let count = le_u32(fixed, COUNT_AT);
    if count == 0 {
        return Err(FrameError::Batch(
            "expected at least 1 envelope, found 0".to_owned(),
        ));
    }
    let (seq, varint_len) = read_varint(&body[FIXED_LEN..]).ok_or_else(|| short(FIXED_LEN + 1))?;
    let origin_at = FIXED_LEN + varint_len;
    let origin_len = usize::from(fixed[1]);
    let origin = body
        .get(origin_at..origin_at + origin_len)
        .ok_or_else(|| short(origin_at + origin_len))?;
    let origin = std::str::from_utf8(origin).map_err(|err| super::text_error("origin", err))?;
    let header = BatchHeader {
        codec,
        fingerprint: le_u64(fixed, 2),
        epoch: le_u32(fixed, 10),
        count,
        cursor: BatchCursor {
            at: origin_at + origin_len,
            seq,
            timestamp_ns: le_u64(fixed, 14),
            left: count,
        },
    };
    Ok((header, origin))
}

impl BatchCursor {
    /// Whether every envelope has been read.
    pub(crate) fn is_done(&self) -> bool {
        self.left == 0
    }

    /// Reads the next envelope of `body`, the batch this cursor came from; `None` after the
    /// last. An error ends the batch: what follows a malformed entry cannot be found.
    pub(crate) fn next(&mut self, body: &[u8]) -> Option<Result<BatchEntry, FrameError>> {
        if self.left == 0 {
            return None;
        }
        let entry = self.read_entry(body);
        match entry {
            Ok(_) => self.left -= 1,
            Err(_) => self.left = 0,
        }
        Some(entry)
    }

    fn read_entry(&mut self, body: &[u8]) -> Result<BatchEntry, FrameError> {
        let truncated = || FrameError::Batch(format!("entry truncated at byte {}", body.len()));
        let rest = body.get(self.at..).ok_or_else(truncated)?;
        let (delta, delta_len) = read_varint(rest).ok_or_else(truncated)?;
        let length_at = delta_len;
        if rest.len() < length_at + 4 {
            return Err(truncated());
        }
        let length = le_u32(rest, length_at);
        let payload_at = length_at + 4;
        let length = usize::try_from(length).map_err(|_| truncated())?;
        if rest.len() < payload_at + length {
            return Err(truncated());
        }
        let payload = self.at + payload_at..self.at + payload_at + length;
        // The first entry's delta is 0: the header carries its timestamp and sequence number.
        let timestamp_ns = self.timestamp_ns.wrapping_add(unzigzag(delta) as u64);
        let entry = BatchEntry {
            seq: self.seq,
            timestamp_ns,
            payload,
        };
        self.timestamp_ns = timestamp_ns;
        self.seq = self.seq.wrapping_add(1);
        self.at += payload_at + length;
        Ok(entry)
    }

    /// Bytes of the body past its last entry, once the cursor is done (0 before).
    pub(crate) fn trailing_bytes(&self, body: &[u8]) -> usize {
        if self.left == 0 {
            body.len().saturating_sub(self.at)
        } else {
            0
        }
    }
}

/// Writes `value` as an unsigned LEB128 varint into `out` (at least 10 bytes); returns its
/// length.
fn write_varint(mut value: u64, out: &mut [u8]) -> usize {
    let mut len = 0;
    while value >= 0x80 {
        out[len] = (value as u8) | 0x80;
        value >>= 7;
        len += 1;
    }
    out[len] = value as u8;
    len + 1
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(seq: u64, timestamp_ns: u64) -> Header {
        Header {
            codec: Codec::Protobuf,
            fingerprint: 0x1234,
            epoch: 7,
            seq,
            timestamp_ns,
        }
    }

    fn batch_of(payloads: &[&[u8]], timestamps: &[u64]) -> Vec<u8> {
        let mut writer = BatchWriter::default();
        writer.start(&header(300, timestamps[0]), "feed");
        for (payload, &timestamp) in payloads.iter().zip(timestamps) {
            writer
                .push_with(timestamp, |buf| {
                    buf.extend_from_slice(payload);
                    Ok::<(), ()>(())
                })
                .unwrap();
        }
        writer.take(0)
    }

    fn read_all(body: &[u8]) -> Result<Vec<(u64, u64, Vec<u8>)>, FrameError> {
        let (header, _) = read(body)?;
        let mut cursor = header.cursor;
        let mut out = Vec::new();
        while let Some(entry) = cursor.next(body) {
            let entry = entry?;
            out.push((entry.seq, entry.timestamp_ns, body[entry.payload].to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn a_batch_reads_back_with_consecutive_sequence_numbers_and_each_timestamp() {
        // Timestamps may step back (the wall clock does): deltas are signed.
        let body = batch_of(&[b"one", b"", b"three"], &[1_000, 5_000, 4_000]);
        assert!(is_batch(&body));
        let (header, origin) = read(&body).unwrap();
        assert_eq!(
            (header.count, header.epoch, header.fingerprint),
            (3, 7, 0x1234)
        );
        assert_eq!(origin, "feed");
        assert_eq!(
            read_all(&body).unwrap(),
            [
                (300, 1_000, b"one".to_vec()),
                (301, 5_000, Vec::new()),
                (302, 4_000, b"three".to_vec()),
            ]
        );
    }

    #[test]
    fn a_failed_payload_leaves_the_batch_as_it_was() {
        let mut writer = BatchWriter::default();
        writer.start(&header(0, 10), "feed");
        writer
            .push_with(10, |buf| {
                buf.extend_from_slice(b"a");
                Ok::<(), ()>(())
            })
            .unwrap();
        writer
            .push_with(20, |buf| {
                buf.extend_from_slice(b"partial");
                Err(())
            })
            .unwrap_err();
        assert_eq!(writer.count(), 1);
        writer
            .push_with(30, |buf| {
                buf.extend_from_slice(b"b");
                Ok::<(), ()>(())
            })
            .unwrap();
        let body = writer.take(0);
        let entries = read_all(&body).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1], (1, 30, b"b".to_vec()));
    }

    #[test]
    fn every_truncation_of_a_batch_is_an_error_or_fewer_envelopes_never_a_panic() {
        let body = batch_of(&[b"alpha", b"beta", b"gamma"], &[1, 2, 3]);
        for cut in 0..body.len() {
            assert!(read_all(&body[..cut]).is_err(), "cut at {cut}");
        }
        // And every single-byte corruption reads or fails without panicking.
        for at in 0..body.len() {
            let mut bad = body.clone();
            bad[at] ^= 0xff;
            let _ = read_all(&bad);
        }
    }

    #[test]
    fn a_batch_of_no_envelopes_is_refused() {
        let mut body = batch_of(&[b"a", b"b"], &[1, 2]);
        body[COUNT_AT..COUNT_AT + 4].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(read(&body), Err(FrameError::Batch(_))));
    }

    #[test]
    fn bytes_after_the_last_entry_are_noticed() {
        let mut body = batch_of(&[b"a", b"b"], &[1, 2]);
        body.push(0);
        let (header, _) = read(&body).unwrap();
        let mut cursor = header.cursor;
        while let Some(entry) = cursor.next(&body) {
            entry.unwrap();
        }
        assert_eq!(cursor.trailing_bytes(&body), 1);
    }
}
