//! Recordings: envelopes written to [MCAP](https://mcap.dev) files and read back.
//!
//! This module is the one place that maps Hermes envelopes to MCAP and back; `hermes record`,
//! `hermes replay` and in-process backtests all go through it. A [`Recorder`] writes every
//! [`RawEnvelope`] it is given, payload bytes unchanged, so any MCAP tool (Foxglove, the `mcap`
//! CLI, the `mcap` Python package) opens the file and decodes protobuf messages with the
//! schemas stored in it. A [`Recording`] reads a file back as the same envelopes.
//!
//! # The mapping
//!
//! - **Channels.** One per topic, origin, codec, type fingerprint and publisher epoch: a
//!   publisher that restarts (new epoch) starts a new channel, because MCAP channel records are
//!   immutable and each publisher incarnation has its own sequence numbers. The channel's
//!   `topic` is the Hermes topic; its `message_encoding` is `protobuf` or `json` (for the `json`
//!   and `python-json` codecs). Its metadata:
//!
//!   | key | value |
//!   | --- | --- |
//!   | `origin` | the publisher's name |
//!   | `codec` | `protobuf`, `json` or `python-json` |
//!   | `epoch` | the publisher's epoch, decimal (0 for `python-json`) |
//!   | `fingerprint` | the type fingerprint as 16 lowercase hex digits; absent for `python-json` |
//!
//! - **Messages.** `log_time` is the receive time (ns since the Unix epoch), `publish_time` the
//!   envelope's timestamp, `sequence` the envelope's sequence number truncated to MCAP's `u32`
//!   (the reader restores the high bits by unwrapping within a channel, exact unless 2³¹
//!   envelopes of one channel go missing between two recorded ones), `data` the payload bytes
//!   unchanged: protobuf bytes for `protobuf`, the JSON text for `json` and `python-json`.
//! - **Schemas.** Asked once per type of a [`SchemaSource`] (the runtime does not know the
//!   topology): encoding `protobuf` with a binary `FileDescriptorSet` for protobuf ports,
//!   `jsonschema` for JSON ones. Types the source does not know get schema id 0 (no schema).
//! - **Chunks.** zstd-compressed, about [`RecorderOptions::chunk_size`] bytes before
//!   compression, each written whole and flushed to the file when full and at least every
//!   [`RecorderOptions::flush_interval`]: a recorder killed without warning loses at most the
//!   chunk it was filling. [`Recorder::finish`] writes the summary (indexes and statistics).
//!
//! # Examples
//!
//! ```
//! use hermes_runtime::recording::{NoSchemas, Recorder, Recording};
//! use hermes_runtime::{Codec, RawEnvelope};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("quotes.mcap");
//! let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
//! let mut recorder = Recorder::new(file, NoSchemas)?;
//! let quote = RawEnvelope::new("quotes/kraken", "feed", Codec::Json, Some(7), 1, 0, 1_000, b"{}".to_vec());
//! recorder.record(&quote, 2_000)?;
//! recorder.finish()?;
//!
//! let envelopes: Vec<_> = Recording::open(&path)?.collect::<Result<_, _>>()?;
//! assert_eq!(envelopes, [(2_000, quote)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use foldhash::{HashMap, HashMapExt};
use mcap::records::{MessageHeader, Record};
use mcap::sans_io::linear_reader::{LinearReadEvent, LinearReader, LinearReaderOptions};

use crate::codec::Codec;
use crate::envelope::RawEnvelope;
use crate::shared_str::SharedStr;

/// Channel metadata key: the publisher's name.
pub const ORIGIN_KEY: &str = "origin";
/// Channel metadata key: the codec's name (`protobuf`, `json`, `python-json`).
pub const CODEC_KEY: &str = "codec";
/// Channel metadata key: the publisher's epoch, decimal.
pub const EPOCH_KEY: &str = "epoch";
/// Channel metadata key: the type fingerprint, 16 lowercase hex digits.
pub const FINGERPRINT_KEY: &str = "fingerprint";

/// Errors writing or reading a recording.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordingError {
    /// Reading or writing the file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is not an MCAP file, or a record in it is malformed.
    #[error("not a valid MCAP file: {0}")]
    Format(String),
    /// An MCAP channel lacks the metadata Hermes needs to rebuild its envelopes.
    #[error("channel {channel} (`{topic}`) is not a Hermes channel: {reason}")]
    Channel {
        /// The MCAP channel id.
        channel: u16,
        /// The channel's topic.
        topic: String,
        /// What is missing or wrong.
        reason: String,
    },
    /// A message names a channel the file never declared.
    #[error("a message names channel {0}, which the file does not declare")]
    UnknownChannel(u16),
    /// The recording has more channels than MCAP's 65,535.
    #[error("too many channels: MCAP allows 65535")]
    TooManyChannels,
    /// The recorder was used after an earlier write failed.
    #[error("the recorder failed earlier and cannot write any more")]
    Failed,
}

impl From<mcap::McapError> for RecordingError {
    fn from(err: mcap::McapError) -> RecordingError {
        match err {
            mcap::McapError::Io(err) => RecordingError::Io(err),
            mcap::McapError::TooManyChannels => RecordingError::TooManyChannels,
            other => RecordingError::Format(other.to_string()),
        }
    }
}

/// A schema to store for a message type: see [`SchemaSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The message's full name, such as `trading.Quote`.
    pub name: String,
    /// `protobuf` (a binary `FileDescriptorSet`) or `jsonschema` (a JSON Schema document).
    pub encoding: String,
    /// The schema itself.
    pub data: Vec<u8>,
}

/// What a [`SchemaSource`] is asked about: the type of the envelopes of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaRequest<'a> {
    /// The topic the type was first seen on (`python-json` envelopes name no type, so their
    /// schema can only be found from the topic).
    pub topic: &'a str,
    /// The codec.
    pub codec: Codec,
    /// The type fingerprint; `None` for `python-json`.
    pub fingerprint: Option<u64>,
}

/// Where a [`Recorder`] finds the schema of each message type it meets: asked once per
/// fingerprint and codec (per topic for `python-json`, which carries no fingerprint).
///
/// Any `FnMut(&SchemaRequest<'_>) -> Option<Schema>` function or closure is one; [`NoSchemas`]
/// records without schemas.
pub trait SchemaSource {
    /// The schema for `request`'s type, or `None` when it is unknown (the channel gets schema
    /// id 0).
    fn schema(&mut self, request: &SchemaRequest<'_>) -> Option<Schema>;
}

impl<F: FnMut(&SchemaRequest<'_>) -> Option<Schema>> SchemaSource for F {
    fn schema(&mut self, request: &SchemaRequest<'_>) -> Option<Schema> {
        self(request)
    }
}

/// A [`SchemaSource`] that knows no schemas: every channel gets schema id 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSchemas;

impl SchemaSource for NoSchemas {
    fn schema(&mut self, _: &SchemaRequest<'_>) -> Option<Schema> {
        None
    }
}

/// How a [`Recorder`] cuts and flushes chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecorderOptions {
    /// Bytes of records (before compression) after which a chunk is finished and written.
    /// Default 1 MiB.
    pub chunk_size: u64,
    /// The longest a record waits in an unfinished chunk: a [`Recorder::record`] or
    /// [`Recorder::flush_if_due`] after this long finishes the chunk and flushes the file.
    /// Default one second.
    pub flush_interval: Duration,
}

impl Default for RecorderOptions {
    fn default() -> RecorderOptions {
        RecorderOptions {
            chunk_size: 1024 * 1024,
            flush_interval: Duration::from_secs(1),
        }
    }
}

impl RecorderOptions {
    /// The chunk size, in bytes before compression.
    pub fn chunk_size(mut self, bytes: u64) -> RecorderOptions {
        self.chunk_size = bytes;
        self
    }

    /// The flush interval.
    pub fn flush_interval(mut self, interval: Duration) -> RecorderOptions {
        self.flush_interval = interval;
        self
    }
}

/// A writer that knows its position: the MCAP writer asks for positions (for its indexes) but,
/// with chunks assembled in memory, never seeks; asking a `BufWriter<File>` would flush it.
struct Position<W> {
    inner: W,
    /// Shared with the [`Recorder`], which cannot reach into the MCAP writer.
    position: Arc<AtomicU64>,
}

impl<W: Write> Write for Position<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.position.fetch_add(written as u64, Ordering::Relaxed);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W> Seek for Position<W> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        match to {
            std::io::SeekFrom::Current(0) => Ok(self.position.load(Ordering::Relaxed)),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "a recording is written without seeking",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ChannelKey {
    topic: SharedStr,
    origin: SharedStr,
    codec: Codec,
    fingerprint: Option<u64>,
    epoch: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SchemaKey {
    codec: Codec,
    fingerprint: Option<u64>,
    /// Only for `python-json`, whose envelopes name no type.
    topic: Option<SharedStr>,
}

/// Writes envelopes to an MCAP file: see the [module documentation](self) for the mapping.
///
/// # Examples
///
/// See the [module documentation](self).
pub struct Recorder<W: Write> {
    /// `None` once finished or failed.
    writer: Option<mcap::Writer<Position<W>>>,
    /// Bytes written to `writer`'s writer.
    position: Arc<AtomicU64>,
    schemas: Box<dyn SchemaSource + Send>,
    schema_ids: HashMap<SchemaKey, u16>,
    channels: HashMap<ChannelKey, u16>,
    options: RecorderOptions,
    last_flush: Instant,
    last_log_time: u64,
    messages: u64,
    payload_bytes: u64,
}

impl<W: Write> std::fmt::Debug for Recorder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("channels", &self.channels.len())
            .field("messages", &self.messages)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<W: Write> Recorder<W> {
    /// A recorder writing to `writer` (a `BufWriter<File>`, say; it is never asked to seek) with the default options,
    /// finding schemas in `schemas`. The MCAP header is written and flushed at once, so even a
    /// recorder killed before its first chunk leaves a file that readers recognise.
    ///
    /// # Errors
    ///
    /// [`RecordingError::Io`] when writing the header fails.
    pub fn new(
        writer: W,
        schemas: impl SchemaSource + Send + 'static,
    ) -> Result<Recorder<W>, RecordingError> {
        Recorder::with_options(writer, schemas, RecorderOptions::default())
    }

    /// As [`new`](Recorder::new), with `options`.
    ///
    /// # Errors
    ///
    /// As [`new`](Recorder::new).
    pub fn with_options(
        writer: W,
        schemas: impl SchemaSource + Send + 'static,
        options: RecorderOptions,
    ) -> Result<Recorder<W>, RecordingError> {
        let position = Arc::new(AtomicU64::new(0));
        let mut writer = mcap::WriteOptions::new()
            .compression(Some(mcap::Compression::Zstd))
            .chunk_size(Some(options.chunk_size))
            // Chunks are assembled in memory and written whole, so a killed recorder never
            // leaves a half-written chunk whose header still holds placeholder lengths.
            .disable_seeking(true)
            .library(format!("hermes-runtime {}", env!("CARGO_PKG_VERSION")))
            .create(Position {
                inner: writer,
                position: Arc::clone(&position),
            })?;
        writer.flush()?;
        Ok(Recorder {
            writer: Some(writer),
            position,
            schemas: Box::new(schemas),
            schema_ids: HashMap::new(),
            channels: HashMap::new(),
            options,
            last_flush: Instant::now(),
            last_log_time: 0,
            messages: 0,
            payload_bytes: 0,
        })
    }

    /// Records `envelope`, received at `log_time_ns` (ns since the Unix epoch).
    ///
    /// A log time earlier than the previous one (the wall clock stepped back) is recorded as the
    /// previous one, so that the file's order is its log-time order.
    ///
    /// # Errors
    ///
    /// [`RecordingError::Io`] when writing fails, after which the recorder refuses further
    /// envelopes with [`RecordingError::Failed`]; [`RecordingError::TooManyChannels`].
    pub fn record(
        &mut self,
        envelope: &RawEnvelope,
        log_time_ns: u64,
    ) -> Result<(), RecordingError> {
        let channel_id = self.channel(envelope)?;
        let log_time = log_time_ns.max(self.last_log_time);
        self.last_log_time = log_time;
        let header = MessageHeader {
            channel_id,
            // MCAP's sequence is a u32: the reader unwraps it per channel.
            sequence: envelope.seq as u32,
            log_time,
            publish_time: envelope.timestamp_ns,
        };
        let writer = self.writer.as_mut().ok_or(RecordingError::Failed)?;
        if let Err(err) = writer.write_to_known_channel(&header, &envelope.payload) {
            self.writer = None;
            return Err(err.into());
        }
        self.messages += 1;
        self.payload_bytes += envelope.payload.len() as u64;
        self.flush_if_due()
    }

    /// Finishes the current chunk and flushes the file when the flush interval has passed since
    /// the last flush: call it while no envelopes arrive, so that the last ones reach the file.
    ///
    /// # Errors
    ///
    /// As [`flush`](Recorder::flush).
    pub fn flush_if_due(&mut self) -> Result<(), RecordingError> {
        if self.last_flush.elapsed() >= self.options.flush_interval {
            self.flush()?;
        }
        Ok(())
    }

    /// Finishes the current chunk and flushes the file.
    ///
    /// # Errors
    ///
    /// [`RecordingError::Io`] when writing fails; [`RecordingError::Failed`] after an earlier
    /// failure.
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        self.last_flush = Instant::now();
        let writer = self.writer.as_mut().ok_or(RecordingError::Failed)?;
        if let Err(err) = writer.flush() {
            self.writer = None;
            return Err(err.into());
        }
        Ok(())
    }

    /// Envelopes recorded so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Payload bytes recorded so far (before compression).
    pub fn payload_bytes(&self) -> u64 {
        self.payload_bytes
    }

    /// Channels opened so far.
    pub fn channels(&self) -> usize {
        self.channels.len()
    }

    /// Writes the last chunk and the summary (schemas, channels, statistics, indexes) and
    /// returns the underlying writer, flushed.
    ///
    /// # Errors
    ///
    /// [`RecordingError::Io`] when writing fails; [`RecordingError::Failed`] after an earlier
    /// failure.
    pub fn finish(mut self) -> Result<W, RecordingError> {
        let mut writer = self.writer.take().ok_or(RecordingError::Failed)?;
        writer.finish()?;
        let mut inner = writer.into_inner().inner;
        inner.flush()?;
        Ok(inner)
    }

    /// Bytes written to the writer so far (the file's size, once flushed).
    pub fn bytes_written(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// The channel of `envelope`, declared (with its schema) the first time it is met.
    fn channel(&mut self, envelope: &RawEnvelope) -> Result<u16, RecordingError> {
        let key = ChannelKey {
            topic: envelope.topic.clone(),
            origin: envelope.origin.clone(),
            codec: envelope.codec,
            fingerprint: envelope.fingerprint,
            epoch: envelope.epoch,
        };
        if let Some(&id) = self.channels.get(&key) {
            return Ok(id);
        }
        let schema_id = self.schema_id(envelope)?;
        let mut metadata = BTreeMap::new();
        metadata.insert(ORIGIN_KEY.to_owned(), envelope.origin.to_string());
        metadata.insert(CODEC_KEY.to_owned(), envelope.codec.name().to_owned());
        metadata.insert(EPOCH_KEY.to_owned(), envelope.epoch.to_string());
        if let Some(fingerprint) = envelope.fingerprint {
            metadata.insert(FINGERPRINT_KEY.to_owned(), format!("{fingerprint:016x}"));
        }
        let writer = self.writer.as_mut().ok_or(RecordingError::Failed)?;
        let id = writer.add_channel(
            schema_id,
            &envelope.topic,
            message_encoding(envelope.codec),
            &metadata,
        )?;
        self.channels.insert(key, id);
        Ok(id)
    }

    fn schema_id(&mut self, envelope: &RawEnvelope) -> Result<u16, RecordingError> {
        let key = SchemaKey {
            codec: envelope.codec,
            fingerprint: envelope.fingerprint,
            topic: matches!(envelope.codec, Codec::PythonJson).then(|| envelope.topic.clone()),
        };
        match self.schema_ids.entry(key) {
            Entry::Occupied(entry) => Ok(*entry.get()),
            Entry::Vacant(entry) => {
                let request = SchemaRequest {
                    topic: &envelope.topic,
                    codec: envelope.codec,
                    fingerprint: envelope.fingerprint,
                };
                let id = match self.schemas.schema(&request) {
                    Some(schema) => {
                        let writer = self.writer.as_mut().ok_or(RecordingError::Failed)?;
                        writer.add_schema(&schema.name, &schema.encoding, &schema.data)?
                    }
                    None => 0,
                };
                Ok(*entry.insert(id))
            }
        }
    }
}

/// The MCAP `message_encoding` of a codec's payloads.
pub fn message_encoding(codec: Codec) -> &'static str {
    match codec {
        Codec::Protobuf => "protobuf",
        Codec::Json | Codec::PythonJson => "json",
    }
}

/// A channel of a recording, as its metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Channel {
    /// The MCAP channel id.
    pub id: u16,
    /// The topic.
    pub topic: SharedStr,
    /// The publisher's name.
    pub origin: SharedStr,
    /// The codec.
    pub codec: Codec,
    /// The publisher's epoch.
    pub epoch: u32,
    /// The type fingerprint; `None` for `python-json`.
    pub fingerprint: Option<u64>,
    /// The schema id (0: none).
    pub schema_id: u16,
}

impl Channel {
    fn from_record(record: &mcap::records::Channel) -> Result<Channel, RecordingError> {
        let invalid = |reason: String| RecordingError::Channel {
            channel: record.id,
            topic: record.topic.clone(),
            reason,
        };
        let get = |key: &str| {
            record
                .metadata
                .get(key)
                .ok_or_else(|| invalid(format!("no `{key}` in its metadata")))
        };
        let codec_name = get(CODEC_KEY)?;
        let codec: Codec = codec_name
            .parse()
            .map_err(|_| invalid(format!("unknown codec `{codec_name}`")))?;
        let epoch_text = get(EPOCH_KEY)?;
        let epoch = epoch_text
            .parse()
            .map_err(|_| invalid(format!("expected a u32 epoch, found `{epoch_text}`")))?;
        let fingerprint = match record.metadata.get(FINGERPRINT_KEY) {
            Some(hex) => Some(u64::from_str_radix(hex, 16).map_err(|_| {
                invalid(format!("expected a hexadecimal fingerprint, found `{hex}`"))
            })?),
            None if matches!(codec, Codec::PythonJson) => None,
            None => return Err(invalid(format!("no `{FINGERPRINT_KEY}` in its metadata"))),
        };
        Ok(Channel {
            id: record.id,
            topic: SharedStr::from(record.topic.as_str()),
            origin: SharedStr::from(get(ORIGIN_KEY)?.as_str()),
            codec,
            epoch,
            fingerprint,
            schema_id: record.schema_id,
        })
    }
}

/// How much file a [`Recording`] asks for at once: bounds the allocation a garbage length in a
/// record header can cause.
const READ_BLOCK: usize = 256 * 1024;

/// A recording being read: an iterator over its envelopes as `(log_time_ns, RawEnvelope)`, in
/// file order, which for files a [`Recorder`] wrote is log-time order.
///
/// The file is streamed, never loaded whole. A file whose writer died before
/// [`Recorder::finish`] (no summary) is read up to its last complete record, and then
/// [`truncated`](Recording::truncated) says so; anything that is not MCAP, or not a Hermes
/// recording, is an error item, never a panic. After an error the iterator ends.
///
/// # Examples
///
/// See the [module documentation](self).
pub struct Recording<R: Read = File> {
    source: R,
    reader: LinearReader,
    channels: HashMap<u16, Channel>,
    /// The last full sequence number per channel, to unwrap MCAP's u32.
    last_seq: HashMap<u16, u64>,
    started: bool,
    truncated: bool,
    done: bool,
}

impl<R: Read> std::fmt::Debug for Recording<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("channels", &self.channels.len())
            .field("truncated", &self.truncated)
            .finish_non_exhaustive()
    }
}

impl Recording<File> {
    /// Opens the recording at `path`.
    ///
    /// # Errors
    ///
    /// [`RecordingError::Io`] when the file cannot be opened. Its contents are checked as
    /// they are read.
    pub fn open(path: impl AsRef<Path>) -> Result<Recording<File>, RecordingError> {
        let file = File::open(path)?;
        let limit = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        Ok(Recording::with_limit(file, limit))
    }
}

impl<R: Read> Recording<R> {
    /// Reads a recording from `source`, such as a byte slice.
    pub fn from_reader(source: R) -> Recording<R> {
        Recording::with_limit(source, 1 << 30)
    }

    fn with_limit(source: R, record_length_limit: usize) -> Recording<R> {
        let options = LinearReaderOptions::default()
            .with_validate_chunk_crcs(true)
            .with_record_length_limit(record_length_limit.max(64));
        Recording {
            source,
            reader: LinearReader::new_with_options(options),
            channels: HashMap::new(),
            last_seq: HashMap::new(),
            started: false,
            truncated: false,
            done: false,
        }
    }

    /// Whether the file ended before its footer (its writer was killed, or it is still being
    /// written): the envelopes read are those of its complete chunks. Meaningful once the
    /// iterator has ended.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The channels read so far, by MCAP channel id.
    pub fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.values()
    }

    fn next_envelope(&mut self) -> Result<Option<(u64, RawEnvelope)>, RecordingError> {
        loop {
            let Some(event) = self.reader.next_event() else {
                return Ok(None);
            };
            let (opcode, data) = match event {
                Ok(LinearReadEvent::ReadRequest(need)) => {
                    let buffer = self.reader.insert(need.clamp(1, READ_BLOCK));
                    let read = loop {
                        match self.source.read(buffer) {
                            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                            other => break other?,
                        }
                    };
                    self.reader.notify_read(read);
                    continue;
                }
                Ok(LinearReadEvent::Record { opcode, data }) => (opcode, data),
                Err(mcap::McapError::UnexpectedEof) if self.started => {
                    self.truncated = true;
                    return Ok(None);
                }
                Err(mcap::McapError::UnexpectedEof) => {
                    return Err(RecordingError::Format(
                        "the file ends before its MCAP header".to_owned(),
                    ));
                }
                Err(err) => return Err(err.into()),
            };
            match mcap::parse_record(opcode, data)? {
                Record::Header(_) => self.started = true,
                Record::Channel(record) => {
                    // The summary repeats each channel: the first record counts.
                    if let Entry::Vacant(entry) = self.channels.entry(record.id) {
                        entry.insert(Channel::from_record(&record)?);
                    }
                }
                Record::Message { header, data } => {
                    let channel = self
                        .channels
                        .get(&header.channel_id)
                        .ok_or(RecordingError::UnknownChannel(header.channel_id))?;
                    let seq = unwrap_sequence(
                        self.last_seq.get(&header.channel_id).copied(),
                        header.sequence,
                    );
                    self.last_seq.insert(header.channel_id, seq);
                    let raw = RawEnvelope::new(
                        channel.topic.clone(),
                        channel.origin.clone(),
                        channel.codec,
                        channel.fingerprint,
                        channel.epoch,
                        seq,
                        header.publish_time,
                        data.into_owned(),
                    );
                    return Ok(Some((header.log_time, raw)));
                }
                _ => {}
            }
        }
    }
}

impl<R: Read> Iterator for Recording<R> {
    type Item = Result<(u64, RawEnvelope), RecordingError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_envelope().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

/// The full sequence number whose low 32 bits are `low`, nearest to the channel's previous one.
fn unwrap_sequence(previous: Option<u64>, low: u32) -> u64 {
    let Some(previous) = previous else {
        return u64::from(low);
    };
    let candidate = (previous & !0xffff_ffff) | u64::from(low);
    // Sequence numbers rise: a low part far below the previous one has wrapped.
    if candidate + (1 << 31) < previous {
        candidate + (1 << 32)
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests;
