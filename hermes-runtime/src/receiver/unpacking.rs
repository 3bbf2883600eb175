//! Batches off the wire, handed out one envelope at a time.

use std::borrow::Cow;

use super::{RAW_RECEIVER, Tracker};
use crate::codec::Codec;
use crate::envelope::batch::{self, BatchCursor, BatchEntry};
use crate::envelope::{Envelope, RawEnvelope, WireEnvelope};
use crate::error::{FrameError, Result};
use crate::message::Message;
use crate::shared_str::SharedStr;

/// A batch a receiver is handing out: its frames as received, and the next envelope's place.
pub(crate) struct Unpacking {
    /// The batch's second frame, which a type that shares its payload keeps parts of.
    body: bytes::Bytes,
    codec: Codec,
    fingerprint: u64,
    epoch: u32,
    cursor: BatchCursor,
    origin: SharedStr,
    topic: SharedStr,
    slot: Option<usize>,
    /// Bytes on the wire per envelope, for [`RawEnvelope::wire_size`]: the batch's, shared out.
    wire_size: usize,
}

impl Unpacking {
    /// Whether every envelope of the batch has been handed out.
    pub(crate) fn is_done(&self) -> bool {
        self.cursor.is_done()
    }
}

impl Tracker {
    /// Starts unpacking a batch whose frames are `topic` and `body`, taking them (they are
    /// replaced by empty messages); `None` when it is counted and skipped: malformed, or
    /// filtered out by topic or origin.
    pub(crate) fn open_batch(
        &mut self,
        topic: &mut zmq::Message,
        body: &mut zmq::Message,
        receiver: &str,
    ) -> Option<Unpacking> {
        let opened = (|| {
            let topic_name = std::str::from_utf8(topic)
                .map_err(|err| crate::envelope::text_error("topic", err))?;
            let (header, origin) = batch::read(body)?;
            Ok::<_, FrameError>((topic_name, header, origin))
        })();
        let (topic_name, header, origin) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                self.reject(err, receiver, None);
                return None;
            }
        };
        let wire = WireEnvelope {
            codec: header.codec,
            topic: Cow::Borrowed(topic_name),
            origin: Cow::Borrowed(origin),
            fingerprint: Some(header.fingerprint),
            epoch: header.epoch,
            seq: 0,
            timestamp_ns: 0,
            payload: &[],
        };
        if !self.passes_filters(&wire) {
            self.stats.filtered += u64::from(header.count);
            return None;
        }
        let (origin, topic_name, slot) = self.names(&wire);
        let wire_size = (topic.len() + body.len()).div_ceil(header.count as usize);
        Some(Unpacking {
            body: bytes::Bytes::from_owner(super::Frame(std::mem::replace(
                body,
                zmq::Message::new(),
            ))),
            codec: header.codec,
            fingerprint: header.fingerprint,
            epoch: header.epoch,
            cursor: header.cursor,
            origin,
            topic: topic_name,
            slot,
            wire_size,
        })
    }

    /// The next envelope of `batch` decoded as `M`; `Ok(None)` when it was counted and
    /// skipped, or the batch is done.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`](crate::Error::Disconnected) when the slow-subscriber policy
    /// closes the receiver.
    pub(crate) fn next_batched<M: Message>(
        &mut self,
        batch: &mut Unpacking,
    ) -> Result<Option<Envelope<M>>> {
        let Some(entry) = self.next_entry(batch, M::NAME) else {
            return Ok(None);
        };
        let wire = batch.wire(entry);
        let message = self.deliver::<M>(&wire, batch.slot, Some(&batch.body))?;
        Ok(message.map(|message| Envelope {
            topic: batch.topic.clone(),
            origin: batch.origin.clone(),
            seq: wire.seq,
            epoch: wire.epoch,
            timestamp_ns: wire.timestamp_ns,
            message,
        }))
    }

    /// As [`next_batched`](Tracker::next_batched), for a raw receiver.
    ///
    /// # Errors
    ///
    /// As [`next_batched`](Tracker::next_batched).
    pub(crate) fn next_batched_raw(
        &mut self,
        batch: &mut Unpacking,
    ) -> Result<Option<RawEnvelope>> {
        let Some(entry) = self.next_entry(batch, RAW_RECEIVER) else {
            return Ok(None);
        };
        let wire = batch.wire(entry);
        if !self.apply_lag_policy(&wire, RAW_RECEIVER, batch.slot)? {
            return Ok(None);
        }
        self.count_received(batch.slot);
        Ok(Some(wire.to_raw(batch.wire_size)))
    }

    /// The next entry of `batch`, its sequence number counted; `None` when the batch is done
    /// or the entry is malformed (counted as a decode error, which ends the batch).
    fn next_entry(&mut self, batch: &mut Unpacking, receiver: &str) -> Option<BatchEntry> {
        let entry = match batch.cursor.next(&batch.body)? {
            Ok(entry) => entry,
            Err(err) => {
                self.reject(err, receiver, batch.slot);
                return None;
            }
        };
        let trailing = batch.cursor.trailing_bytes(&batch.body);
        if trailing > 0 {
            let err = FrameError::Batch(format!("{trailing} bytes after its last envelope"));
            self.reject(err, receiver, batch.slot);
        }
        if let Some(slot) = batch.slot {
            let wire = batch.wire(entry.clone());
            self.count_sequence(slot, &wire);
        }
        Some(entry)
    }
}

impl Unpacking {
    /// The envelope of `entry`, borrowing the batch's bytes and names.
    fn wire(&self, entry: BatchEntry) -> WireEnvelope<'_> {
        WireEnvelope {
            codec: self.codec,
            topic: Cow::Borrowed(&self.topic),
            origin: Cow::Borrowed(&self.origin),
            fingerprint: Some(self.fingerprint),
            epoch: self.epoch,
            seq: entry.seq,
            timestamp_ns: entry.timestamp_ns,
            payload: &self.body[entry.payload],
        }
    }
}
