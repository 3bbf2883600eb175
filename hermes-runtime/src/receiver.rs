//! Typed SUB sockets.

use std::borrow::Cow;
use std::collections::HashMap;

// Keys come off the wire: foldhash is fast on short strings and seeded per map, so a peer cannot
// precompute colliding origins or topics.
use foldhash::fast::RandomState;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::codec::Codec;
use crate::context::{Context, zmq_hwm};
use crate::endpoint::{self, Attach};
use crate::envelope::batch::is_batch;
use crate::envelope::{self, Envelope, Header, RawEnvelope, WireEnvelope};
use crate::error::{CodecError, Error, FrameError, Result};
use crate::message::Message;
use crate::metrics::ReceiverMetrics;
use crate::security::{Counters, Curve, Secured, SecurityStats};
use crate::shared_str::SharedStr;
use crate::stats::{ReceiverStats, SlowSubscriber, SlowSubscriberAction};
use crate::topic::TopicFilter;
use std::sync::Arc;

/// Most publisher/topic pairs a receiver keeps sequence state for; past it, new pairs go
/// untracked, so a hostile peer cannot grow memory without bound.
const MAX_TRACKED_SEQUENCES: usize = 65_536;

/// How a [`RawReceiver`](crate::RawReceiver) is named in log lines.
const RAW_RECEIVER: &str = "raw envelopes";

mod unpacking;

pub(crate) use unpacking::Unpacking;

/// A typed SUB socket: delivers envelopes of `M` on the topics it subscribed to.
///
/// Frame sets that do not decode, carry another type's fingerprint, fall outside a topic's
/// segment boundary or come from an origin not asked for are counted in
/// [`stats`](Receiver::stats) and skipped; the receiver goes on. Gaps in each publisher's
/// per-topic sequence numbers are counted as [`lost`](ReceiverStats::lost).
///
/// Receiving follows crossbeam-channel: [`recv`](Receiver::recv) blocks,
/// [`try_recv`](Receiver::try_recv) returns [`Error::Empty`],
/// [`recv_timeout`](Receiver::recv_timeout) returns [`Error::Timeout`], and all of them return
/// [`Error::Disconnected`] once the socket is closed. A receiver is `Send` but not `Sync`.
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<hermes_runtime::Receiver<serde_json::Value>>();
/// ```
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::{Context, Error, Publisher, Receiver};
/// use serde_json::{Value, json};
///
/// let context = Context::new();
/// let mut quotes = Receiver::<Value>::builder(&context)
///     .topic("quotes")
///     .bind("tcp://127.0.0.1:0")?;
/// let endpoint = quotes.endpoints()[0].clone();
/// let mut publisher = Publisher::<Value>::builder(&context).connect(&endpoint)?;
///
/// let deadline = std::time::Instant::now() + Duration::from_secs(5);
/// let envelope = loop {
///     publisher.send_to("quotes_raw", &json!(0))?; // a byte-prefix match, not a segment match
///     publisher.send_to("quotes/kraken", &json!(1))?;
///     match quotes.recv_timeout(Duration::from_millis(10)) {
///         Ok(envelope) => break envelope,
///         Err(Error::Timeout) if std::time::Instant::now() < deadline => continue,
///         Err(err) => return Err(err),
///     }
/// };
/// assert_eq!(envelope.topic, "quotes/kraken");
/// assert!(matches!(quotes.try_recv(), Ok(_) | Err(Error::Empty)));
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
pub struct Receiver<M> {
    socket: Option<zmq::Socket>,
    /// A CURVE server's guard and authenticator registration: after `socket`, so the socket
    /// closes before the authenticator may stop.
    security: Option<Secured>,
    counters: Arc<Counters>,
    codec: Codec,
    parts: [zmq::Message; 4],
    overflow: zmq::Message,
    tracker: Tracker,
    /// The batch being handed out, if any.
    unpacking: Option<Unpacking>,
    endpoints: Vec<String>,
    _message: PhantomData<fn() -> M>,
}

impl<M: Message> Receiver<M> {
    /// Starts configuring a receiver on `context`.
    pub fn builder(context: &Context) -> ReceiverBuilder<M> {
        ReceiverBuilder {
            context: context.clone(),
            codec: M::DEFAULT_CODEC,
            topics: Vec::new(),
            origins: Vec::new(),
            hwm: 1000,
            slow_subscriber: SlowSubscriber::default(),
            max_message_size: Some(16 * 1024 * 1024),
            curve: None,
            liveness: crate::Liveness::DEFAULT,
            _message: PhantomData,
        }
    }

    /// Blocks until an envelope arrives.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the socket is closed; [`Error::Zmq`] otherwise.
    pub fn recv(&mut self) -> Result<Envelope<M>> {
        loop {
            if let Some(envelope) = self.receive_one(0)? {
                return Ok(envelope);
            }
        }
    }

    /// Returns an envelope if one is waiting.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] when none is; otherwise as [`recv`](Receiver::recv).
    pub fn try_recv(&mut self) -> Result<Envelope<M>> {
        loop {
            if let Some(envelope) = self.receive_one(zmq::DONTWAIT)? {
                return Ok(envelope);
            }
        }
    }

    /// Waits at most `timeout` for an envelope.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when none came in time; otherwise as [`recv`](Receiver::recv).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Envelope<M>> {
        // The clock is read only once nothing is waiting: under load every call returns at
        // the first try, and a clock read per envelope was a tenth of a receiver's time.
        let mut deadline = None;
        loop {
            match self.try_recv() {
                Err(Error::Empty) => {}
                other => return other,
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert_with(|| now + timeout);
            let left = deadline.saturating_duration_since(now);
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            let socket = self.socket.as_ref().ok_or(Error::Disconnected)?;
            // Round up so a sub-millisecond wait does not spin.
            let millis = i64::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i64::MAX);
            socket
                .poll(zmq::POLLIN, millis)
                .map_err(|err| map_recv_error(err, "poll"))?;
        }
    }

    /// A blocking iterator over envelopes; it ends when the receiver is disconnected.
    pub fn iter(&mut self) -> impl Iterator<Item = Envelope<M>> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// An iterator over the envelopes waiting now.
    pub fn try_iter(&mut self) -> impl Iterator<Item = Envelope<M>> + '_ {
        std::iter::from_fn(move || self.try_recv().ok())
    }

    /// What this receiver has counted so far.
    pub fn stats(&self) -> ReceiverStats {
        self.tracker.stats
    }

    /// Why the last frame set counted in [`decode_errors`](ReceiverStats::decode_errors) was
    /// refused; `None` before the first.
    pub fn last_decode_error(&self) -> Option<&FrameError> {
        self.tracker.last_decode_error.as_ref()
    }

    /// The endpoints bound or connected, as resolved.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Also binds `endpoint`, returning it as resolved.
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`], [`Error::Zmq`], or [`Error::Disconnected`] after a disconnect.
    pub fn bind(&mut self, endpoint: &str) -> Result<String> {
        endpoint::attach_recorded(
            self.socket.as_ref(),
            &mut self.endpoints,
            Attach::Bind,
            endpoint,
        )
    }

    /// Also connects to `endpoint`.
    ///
    /// # Errors
    ///
    /// As [`bind`](Receiver::bind).
    pub fn connect(&mut self, endpoint: &str) -> Result<()> {
        endpoint::attach_recorded(
            self.socket.as_ref(),
            &mut self.endpoints,
            Attach::Connect,
            endpoint,
        )
        .map(drop)
    }

    /// The codec this receiver's framing expects.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Names the node this receiver belongs to in its metrics, for [`Node`](crate::Node).
    pub(crate) fn set_metrics_node(&mut self, node: &str) {
        self.tracker.default_metrics_node(node);
    }

    /// The socket, while connected; nodes poll it.
    pub(crate) fn socket(&self) -> Option<&zmq::Socket> {
        self.socket.as_ref()
    }

    /// A receiver with no socket, fed by a backtest's engine with
    /// [`accept_envelope`](Receiver::accept_envelope); its lag is measured on the virtual clock.
    pub(crate) fn in_memory(
        codec: Codec,
        topic: &str,
        policy: SlowSubscriber,
    ) -> Result<Receiver<M>> {
        let mut tracker = Tracker::new(vec![TopicFilter::new(topic)?], Vec::new(), policy, None);
        tracker.virtual_clock = true;
        Ok(Receiver {
            socket: None,
            security: None,
            counters: Arc::default(),
            codec,
            parts: std::array::from_fn(|_| zmq::Message::new()),
            overflow: zmq::Message::new(),
            tracker,
            unpacking: None,
            endpoints: Vec::new(),
            _message: PhantomData,
        })
    }

    /// Takes an envelope handed over by a backtest's engine, as if its frames had been read
    /// off the socket; `Ok(None)` when it was counted and skipped.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the slow-subscriber policy closes the receiver.
    pub(crate) fn accept_envelope(&mut self, raw: &RawEnvelope) -> Result<Option<Envelope<M>>> {
        self.tracker.accept_envelope::<M>(raw)
    }

    /// Reads one frame set; `Ok(None)` when it was counted and skipped.
    fn receive_one(&mut self, flags: i32) -> Result<Option<Envelope<M>>> {
        if let Some(batch) = &mut self.unpacking {
            let outcome = self.tracker.next_batched::<M>(batch);
            if batch.is_done() {
                self.unpacking = None;
            }
            return self.closing_on_disconnect(outcome);
        }
        let socket = self.socket.as_ref().ok_or(Error::Disconnected)?;
        let count = read_frame_set(socket, &mut self.parts, &mut self.overflow, flags)?;
        if let Some(secured) = self.security.as_mut()
            && !admit(secured, &mut self.parts[0])
        {
            return Ok(None);
        }
        // Only the frames this message has: each look at a frame is two calls into libzmq,
        // so each is looked at once.
        let mut slices: [&[u8]; 4] = [&[]; 4];
        for (slice, part) in slices.iter_mut().zip(&self.parts).take(count) {
            *slice = part;
        }
        let native_pair = count == 2 && self.codec != Codec::PythonJson;
        if native_pair && is_batch(slices[1]) {
            let [topic, body, ..] = &mut self.parts;
            self.unpacking = self.tracker.open_batch(topic, body, M::NAME);
            return Ok(None);
        }
        // A type that keeps parts of its payload gets the frame itself, not a copy, unless
        // the frame is small enough that copying costs less than sharing it.
        if !(M::SHARES_PAYLOAD && native_pair && slices[1].len() >= SHARE_MIN) {
            let outcome = self.tracker.accept::<M>(self.codec, &slices, count, None);
            return self.closing_on_disconnect(outcome);
        }
        let body = std::mem::replace(&mut self.parts[1], zmq::Message::new());
        let frame = bytes::Bytes::from_owner(Frame(body));
        let slices: [&[u8]; 4] = [&self.parts[0], &frame, &[], &[]];
        let outcome = self
            .tracker
            .accept::<M>(self.codec, &slices, count, Some(&frame));
        self.closing_on_disconnect(outcome)
    }

    /// Closes the socket, freeing its queue, when the slow-subscriber policy said so.
    fn closing_on_disconnect<T>(&mut self, outcome: Result<T>) -> Result<T> {
        if let Err(Error::Disconnected) = outcome {
            self.socket = None;
            self.unpacking = None;
        }
        outcome
    }

    /// Whether envelopes of a batch already received are waiting: a poll of the socket does
    /// not show them.
    pub(crate) fn has_unpacked(&self) -> bool {
        self.unpacking.is_some()
    }
}

/// Whether a CURVE server may pass on the envelope whose first frame is `first`: its sender
/// (the frame's ZAP `User-Id`) declared its topic. Counts and logs it when not.
pub(crate) fn admit(secured: &mut Secured, first: &mut zmq::Message) -> bool {
    let user = first.gets("User-Id").map(str::to_owned);
    secured.guard.admit_publication(user.as_deref(), first)
}

impl<M> Receiver<M> {
    /// What this receiver refused: envelopes on topics their publisher did not declare (as
    /// a CURVE server) and connections from keys not admitted. All zeros without CURVE.
    pub fn security_stats(&self) -> SecurityStats {
        match &self.security {
            // Handshake failures are read from the socket's monitor here, on its owner's thread.
            Some(secured) => secured.stats(),
            None => self.counters.snapshot(),
        }
    }

    /// This receiver carrying `N` instead: for the node driver, which makes sockets from a port
    /// table before generated code names their types.
    pub(crate) fn retype<N: Message>(self) -> Result<Receiver<N>> {
        if !N::supports(self.codec) {
            return Err(Error::Codec(CodecError::Unsupported {
                codec: self.codec,
                message: N::NAME,
            }));
        }
        Ok(Receiver {
            socket: self.socket,
            security: self.security,
            counters: self.counters,
            codec: self.codec,
            parts: self.parts,
            overflow: self.overflow,
            tracker: self.tracker,
            unpacking: self.unpacking,
            endpoints: self.endpoints,
            _message: PhantomData,
        })
    }
}

impl<M> std::fmt::Debug for Receiver<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("codec", &self.codec)
            .field("topics", &self.tracker.topics)
            .field("endpoints", &self.endpoints)
            .field("stats", &self.tracker.stats)
            .finish_non_exhaustive()
    }
}

/// The smallest frame a receiver shares with a type that keeps parts of its payload: below
/// it, the reference-counted owner (an allocation, and the frame not reused) costs more than
/// copying the few bytes.
const SHARE_MIN: usize = 512;

/// A received ZeroMQ frame as the owner of a `bytes::Bytes`.
pub(crate) struct Frame(pub(crate) zmq::Message);

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Reads the frames of one multipart message; returns how many there were.
pub(crate) fn read_frame_set(
    socket: &zmq::Socket,
    parts: &mut [zmq::Message; 4],
    overflow: &mut zmq::Message,
    flags: i32,
) -> Result<usize> {
    socket
        .recv(&mut parts[0], flags)
        .map_err(|err| map_recv_error(err, "receive"))?;
    let mut count = 1;
    let mut more = parts[0].get_more();
    // A multipart message arrives whole: the remaining frames are already here.
    while more {
        let slot = parts.get_mut(count).unwrap_or(&mut *overflow);
        socket
            .recv(slot, 0)
            .map_err(|err| map_recv_error(err, "receive"))?;
        more = slot.get_more();
        count += 1;
    }
    Ok(count)
}

pub(crate) fn map_recv_error(err: zmq::Error, context: &'static str) -> Error {
    match err {
        zmq::Error::EAGAIN => Error::Empty,
        zmq::Error::ETERM => Error::Disconnected,
        other => Error::zmq(context)(other),
    }
}

/// Sequence state of one publisher on one topic.
struct Sequence {
    epoch: u32,
    next: u64,
}

/// A publisher the receiver has heard from: its interned name and the topics it used.
struct OriginState {
    name: SharedStr,
    topics: HashMap<SharedStr, TopicState, RandomState>,
}

/// One topic of one publisher: its interned name and where its sequence state is.
struct TopicState {
    name: SharedStr,
    slot: usize,
}

/// The publisher/topic pair of the last envelope that passed the filters, so a stream from one
/// publisher on one topic (the usual case) skips the UTF-8 checks, the filters and both hash
/// lookups.
struct LastPair {
    origin: SharedStr,
    topic: SharedStr,
    slot: usize,
}

/// Filters, sequence tracking, slow-subscriber policy and counters: everything between the
/// frames and the application, kept apart from the socket so the frames can be borrowed.
pub(crate) struct Tracker {
    topics: Vec<TopicFilter>,
    origins: Vec<String>,
    slow_subscriber: SlowSubscriber,
    /// `slow_subscriber.max_lag` in ns, saturated.
    max_lag_ns: u64,
    /// Origin → topic → sequence slot, looked up by `&str`; the keys double as the interned
    /// names envelopes carry, so receiving allocates nothing for topics and origins.
    publishers: HashMap<SharedStr, OriginState, RandomState>,
    /// Sequence state of each tracked publisher/topic pair (at most
    /// [`MAX_TRACKED_SEQUENCES`]), indexed by [`TopicState::slot`].
    sequences: Vec<Option<Sequence>>,
    last: Option<LastPair>,
    pub(crate) stats: ReceiverStats,
    /// Why the last frame set counted in `stats.decode_errors` was refused.
    pub(crate) last_decode_error: Option<FrameError>,
    /// When the last slow-subscriber warning was logged, ns since the Unix epoch (the clock
    /// the lag is measured on, already read for each envelope).
    last_lag_warning_ns: Option<u64>,
    /// The Prometheus series, when the context has metrics.
    metrics: Option<ReceiverMetrics>,
    /// Whether lag is measured on a backtest's virtual clock instead of the wall clock.
    virtual_clock: bool,
}

impl Tracker {
    pub(crate) fn new(
        topics: Vec<TopicFilter>,
        origins: Vec<String>,
        policy: SlowSubscriber,
        metrics: Option<ReceiverMetrics>,
    ) -> Tracker {
        Tracker {
            topics,
            origins,
            max_lag_ns: u64::try_from(policy.max_lag.as_nanos()).unwrap_or(u64::MAX),
            slow_subscriber: policy,
            publishers: HashMap::default(),
            sequences: Vec::new(),
            last: None,
            stats: ReceiverStats::default(),
            last_decode_error: None,
            last_lag_warning_ns: None,
            metrics,
            virtual_clock: false,
        }
    }

    /// Names the node in the metrics' `node` label, unless the builder did.
    pub(crate) fn default_metrics_node(&mut self, node: &str) {
        if let Some(metrics) = &mut self.metrics {
            metrics.default_node(node);
        }
    }

    /// The topic filters, for the receiver's `Debug`.
    pub(crate) fn topics(&self) -> &[TopicFilter] {
        &self.topics
    }

    /// As [`accept`](Tracker::accept), for a receiver of every type and both framings (four
    /// frames are `python-json`, any other count native): the envelope with its payload left
    /// encoded, or `None` when it was counted and skipped.
    pub(crate) fn accept_raw(
        &mut self,
        slices: &[&[u8]; 4],
        count: usize,
    ) -> Result<Option<RawEnvelope>> {
        let raw = if count > slices.len() {
            Err(FrameError::FrameCount {
                expected: 2,
                found: count,
            })
        } else {
            let framing = if count == 4 {
                Codec::PythonJson
            } else {
                Codec::Protobuf
            };
            WireEnvelope::decode(framing, &slices[..count])
        };
        let raw = match raw {
            Ok(raw) => raw,
            Err(err) => {
                self.reject(err, RAW_RECEIVER, None);
                return Ok(None);
            }
        };
        if !self.passes_filters(&raw) {
            self.stats.filtered += 1;
            return Ok(None);
        }
        let (origin, topic, slot) = self.track(&raw);
        if !self.apply_lag_policy(&raw, RAW_RECEIVER, slot)? {
            return Ok(None);
        }
        self.count_received(slot);
        Ok(Some(RawEnvelope {
            topic,
            origin,
            codec: raw.codec,
            fingerprint: raw.fingerprint,
            epoch: raw.epoch,
            seq: raw.seq,
            timestamp_ns: raw.timestamp_ns,
            payload: raw.payload.to_vec(),
            wire_size: slices[..count].iter().map(|slice| slice.len()).sum(),
        }))
    }

    /// As [`accept`](Tracker::accept), for an envelope a backtest's engine hands over instead
    /// of frames off a socket: filters, sequence tracking, lag policy, type check and decoding
    /// are the same.
    fn accept_envelope<M: Message>(&mut self, raw: &RawEnvelope) -> Result<Option<Envelope<M>>> {
        let wire = raw.as_wire();
        if !self.passes_filters(&wire) {
            self.stats.filtered += 1;
            return Ok(None);
        }
        let (origin, topic, slot) = self.track(&wire);
        let message = self.deliver::<M>(&wire, slot, None)?;
        Ok(message.map(|message| Envelope {
            topic,
            origin,
            seq: wire.seq,
            epoch: wire.epoch,
            timestamp_ns: wire.timestamp_ns,
            message,
        }))
    }

    /// Counts a frame set that is not an envelope, keeps why, and logs it now and then.
    fn reject(&mut self, err: FrameError, receiver: &str, slot: Option<usize>) {
        self.stats.decode_errors += 1;
        if let Some(metrics) = &mut self.metrics {
            metrics.pair(slot).decode_errors.inc();
        }
        log_rejected(receiver, "decode error", self.stats.decode_errors, &err);
        self.last_decode_error = Some(err);
    }

    /// Whether the envelope's topic and origin are ones asked for.
    fn passes_filters(&self, raw: &WireEnvelope<'_>) -> bool {
        self.topics.iter().any(|filter| filter.matches(&raw.topic))
            && (self.origins.is_empty() || self.origins.iter().any(|o| *o == raw.origin))
    }

    /// `frame`, when given, holds `slices[1]`: the second frame as received.
    fn accept<M: Message>(
        &mut self,
        codec: Codec,
        slices: &[&[u8]; 4],
        count: usize,
        frame: Option<&bytes::Bytes>,
    ) -> Result<Option<Envelope<M>>> {
        // A native envelope from the publisher and topic of the last one (the usual case): its
        // names are known to be valid and to pass the filters, and its sequence slot is known.
        if codec != Codec::PythonJson
            && count == 2
            && let Some((header, payload, origin, topic, slot)) = self.repeat(slices[0], slices[1])
        {
            let raw = WireEnvelope {
                codec: header.codec,
                topic: Cow::Borrowed(&topic),
                origin: Cow::Borrowed(&origin),
                fingerprint: Some(header.fingerprint),
                epoch: header.epoch,
                seq: header.seq,
                timestamp_ns: header.timestamp_ns,
                payload,
            };
            self.count_sequence(slot, &raw);
            let message = self.deliver::<M>(&raw, Some(slot), frame)?;
            return Ok(message.map(|message| Envelope {
                topic,
                origin,
                seq: header.seq,
                epoch: header.epoch,
                timestamp_ns: header.timestamp_ns,
                message,
            }));
        }
        let raw = if count > slices.len() {
            Err(FrameError::FrameCount {
                expected: if codec == Codec::PythonJson { 4 } else { 3 },
                found: count,
            })
        } else {
            WireEnvelope::decode(codec, &slices[..count])
        };
        let raw = match raw {
            Ok(raw) => raw,
            Err(err) => {
                self.reject(err, M::NAME, None);
                return Ok(None);
            }
        };
        if !self.passes_filters(&raw) {
            self.stats.filtered += 1;
            return Ok(None);
        }
        let (origin, topic, slot) = self.track(&raw);
        let message = self.deliver::<M>(&raw, slot, frame)?;
        Ok(message.map(|message| Envelope {
            topic,
            origin,
            seq: raw.seq,
            epoch: raw.epoch,
            timestamp_ns: raw.timestamp_ns,
            message,
        }))
    }

    /// The header, payload, interned names and sequence slot of a native envelope whose topic
    /// and origin are those of the last envelope; `None` for any other (or a malformed) one.
    fn repeat<'a>(
        &self,
        topic: &[u8],
        body: &'a [u8],
    ) -> Option<(Header, &'a [u8], SharedStr, SharedStr, usize)> {
        let last = self.last.as_ref()?;
        if last.topic.as_bytes() != topic {
            return None;
        }
        let (header, origin, payload) = Header::read_unchecked(body).ok()?;
        if last.origin.as_bytes() != origin {
            return None;
        }
        Some((
            header,
            payload,
            last.origin.clone(),
            last.topic.clone(),
            last.slot,
        ))
    }

    /// Lag and the slow-subscriber policy, then the codec and the payload: the message, or
    /// `None` when the envelope was counted and skipped.
    fn deliver<M: Message>(
        &mut self,
        raw: &WireEnvelope<'_>,
        slot: Option<usize>,
        frame: Option<&bytes::Bytes>,
    ) -> Result<Option<M>> {
        if !self.apply_lag_policy(raw, M::NAME, slot)? {
            return Ok(None);
        }
        if !M::supports(raw.codec) {
            let err = FrameError::Payload(CodecError::Unsupported {
                codec: raw.codec,
                message: M::NAME,
            });
            self.stats.type_mismatches += 1;
            if let Some(metrics) = &mut self.metrics {
                metrics.pair(slot).type_mismatches.inc();
            }
            log_rejected(M::NAME, "codec mismatch", self.stats.type_mismatches, &err);
            return Ok(None);
        }
        match raw.decode_message_in::<M>(frame) {
            Ok(message) => {
                self.count_received(slot);
                Ok(Some(message))
            }
            Err(err @ FrameError::Fingerprint { .. }) => {
                self.stats.type_mismatches += 1;
                if let Some(metrics) = &mut self.metrics {
                    metrics.pair(slot).type_mismatches.inc();
                }
                log_rejected(M::NAME, "type mismatch", self.stats.type_mismatches, &err);
                Ok(None)
            }
            Err(err) => {
                self.reject(err, M::NAME, slot);
                Ok(None)
            }
        }
    }

    /// Measures the envelope's lag and applies the slow-subscriber policy: whether to deliver
    /// it (`false` when the `drop` action discarded it).
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the `disconnect` action closes the receiver.
    #[inline]
    fn apply_lag_policy(
        &mut self,
        raw: &WireEnvelope<'_>,
        receiver: &str,
        slot: Option<usize>,
    ) -> Result<bool> {
        let now_ns = if self.virtual_clock {
            crate::backtest::clock_ns()
        } else {
            envelope::now_ns()
        };
        let lag_ns = now_ns.saturating_sub(raw.timestamp_ns);
        self.stats.max_lag_ns = self.stats.max_lag_ns.max(lag_ns);
        let metrics = self.metrics.as_mut().map(|metrics| metrics.pair(slot));
        if let Some(metrics) = metrics {
            metrics.lag.observe_ns(lag_ns);
        }
        if lag_ns > self.max_lag_ns {
            self.stats.lagging += 1;
            if let Some(metrics) = metrics {
                metrics.slow_subscriber_actions.inc();
            }
            match self.slow_subscriber.action {
                SlowSubscriberAction::Warn => self.warn_lag(now_ns, lag_ns, raw),
                SlowSubscriberAction::Drop => {
                    self.stats.stale_dropped += 1;
                    return Ok(false);
                }
                SlowSubscriberAction::Disconnect => {
                    self.stats.disconnected = true;
                    tracing::warn!(
                        topic = %raw.topic,
                        lag_ms = lag_ns / 1_000_000,
                        "receiver of `{receiver}` cannot keep up; disconnecting as its policy says",
                    );
                    return Err(Error::Disconnected);
                }
            }
        }
        Ok(true)
    }

    /// Counts gaps, restarts and reordering in the envelope's sequence, and returns the
    /// interned origin and topic names.
    fn track(&mut self, raw: &WireEnvelope<'_>) -> (SharedStr, SharedStr, Option<usize>) {
        let (origin, topic, slot) = self.names(raw);
        if let Some(slot) = slot {
            self.count_sequence(slot, raw);
        }
        (origin, topic, slot)
    }

    /// The interned origin and topic names of the envelope's publisher/topic pair and its
    /// sequence slot (`None` past [`MAX_TRACKED_SEQUENCES`]).
    fn names(&mut self, raw: &WireEnvelope<'_>) -> (SharedStr, SharedStr, Option<usize>) {
        let slot = match &self.last {
            Some(last) if *last.topic == *raw.topic && *last.origin == *raw.origin => {
                Some((last.origin.clone(), last.topic.clone(), last.slot))
            }
            _ => None,
        };
        let (origin, topic, slot) = match slot {
            Some(hit) => hit,
            None => match self.lookup(raw) {
                Ok(found) => {
                    self.last = Some(LastPair {
                        origin: found.0.clone(),
                        topic: found.1.clone(),
                        slot: found.2,
                    });
                    found
                }
                Err((origin, topic)) => return (origin, topic, None),
            },
        };
        (origin, topic, Some(slot))
    }

    /// Counts an envelope handed to the application.
    fn count_received(&mut self, slot: Option<usize>) {
        self.stats.received += 1;
        if let Some(metrics) = &mut self.metrics {
            metrics.pair(slot).received.inc();
        }
    }

    /// Counts a gap, restart or reordering in the sequence of pair `slot`.
    fn count_sequence(&mut self, slot: usize, raw: &WireEnvelope<'_>) {
        // python-json envelopes (epoch 0) carry no sequence numbers.
        if raw.epoch != 0
            && let Some(state) = self.sequences.get_mut(slot)
        {
            let start = Sequence {
                epoch: raw.epoch,
                next: raw.seq.wrapping_add(1),
            };
            match state {
                // A late joiner's first envelope is a start, not a gap.
                None => {
                    self.stats.missed_at_start += raw.seq;
                    *state = Some(start);
                }
                Some(sequence) if sequence.epoch != raw.epoch => {
                    self.stats.publisher_restarts += 1;
                    self.stats.missed_at_start += raw.seq;
                    *sequence = start;
                }
                Some(sequence) if raw.seq >= sequence.next => {
                    let lost = raw.seq - sequence.next;
                    self.stats.lost += lost;
                    if lost > 0
                        && let Some(metrics) = &mut self.metrics
                    {
                        metrics.pair(Some(slot)).lost.inc_by(lost);
                    }
                    sequence.next = start.next;
                }
                Some(_) => self.stats.out_of_order += 1,
            }
        }
    }

    /// Finds (or starts tracking) the envelope's publisher/topic pair: the interned names and
    /// the sequence slot, or, past [`MAX_TRACKED_SEQUENCES`], the names of an untracked pair.
    fn lookup(
        &mut self,
        raw: &WireEnvelope<'_>,
    ) -> std::result::Result<(SharedStr, SharedStr, usize), (SharedStr, SharedStr)> {
        let untracked = || {
            Err((
                SharedStr::from(raw.origin.as_ref()),
                SharedStr::from(raw.topic.as_ref()),
            ))
        };
        let room = self.sequences.len() < MAX_TRACKED_SEQUENCES;
        if !self.publishers.contains_key(raw.origin.as_ref()) {
            if !room {
                return untracked();
            }
            let name = SharedStr::from(raw.origin.as_ref());
            let state = OriginState {
                name: name.clone(),
                topics: HashMap::default(),
            };
            self.publishers.insert(name, state);
        }
        let Some(origin) = self.publishers.get_mut(raw.origin.as_ref()) else {
            return untracked();
        };
        if !origin.topics.contains_key(raw.topic.as_ref()) {
            if !room {
                return Err((origin.name.clone(), SharedStr::from(raw.topic.as_ref())));
            }
            let name = SharedStr::from(raw.topic.as_ref());
            let state = TopicState {
                name: name.clone(),
                slot: self.sequences.len(),
            };
            if let Some(metrics) = &mut self.metrics {
                metrics.add_pair(state.slot, &origin.name, &name);
            }
            self.sequences.push(None);
            origin.topics.insert(name, state);
        }
        let Some(topic) = origin.topics.get(raw.topic.as_ref()) else {
            return Err((origin.name.clone(), SharedStr::from(raw.topic.as_ref())));
        };
        Ok((origin.name.clone(), topic.name.clone(), topic.slot))
    }

    /// Logs a lagging envelope, at most once a second (a step of the wall clock either way
    /// counts as a second passed).
    fn warn_lag(&mut self, now_ns: u64, lag_ns: u64, raw: &WireEnvelope<'_>) {
        const SECOND_NS: u64 = 1_000_000_000;
        if self
            .last_lag_warning_ns
            .is_none_or(|last| now_ns.abs_diff(last) >= SECOND_NS)
        {
            self.last_lag_warning_ns = Some(now_ns);
            tracing::warn!(
                topic = %raw.topic,
                origin = %raw.origin,
                lag_ms = lag_ns / 1_000_000,
                lagging = self.stats.lagging,
                "slow subscriber: envelopes arrive later than the configured limit"
            );
        }
    }
}

/// Logs a rejected frame set at counts 1, 2, 4, 8, … so hostile traffic cannot flood the log.
fn log_rejected(receiver: &str, what: &str, count: u64, err: &FrameError) {
    if count.is_power_of_two() {
        tracing::warn!(receiver, count, "{what}: {err}");
    }
}

/// Configures a [`Receiver`]; finish with [`bind`](ReceiverBuilder::bind) or
/// [`connect`](ReceiverBuilder::connect).
#[must_use = "a builder does nothing until `bind` or `connect`"]
pub struct ReceiverBuilder<M> {
    context: Context,
    codec: Codec,
    topics: Vec<String>,
    origins: Vec<String>,
    hwm: u32,
    slow_subscriber: SlowSubscriber,
    max_message_size: Option<i64>,
    curve: Option<Curve>,
    liveness: crate::Liveness,
    _message: PhantomData<fn() -> M>,
}

impl<M: Message> ReceiverBuilder<M> {
    /// Heartbeats and TCP keepalive on the socket's connections; default
    /// [`Liveness::DEFAULT`](crate::Liveness::DEFAULT) (on).
    pub fn liveness(mut self, liveness: crate::Liveness) -> Self {
        self.liveness = liveness;
        self
    }

    /// Subscribes to `prefix` (segment semantics); call again for more topics. Without any,
    /// the receiver subscribes to the type's `#[hermes(topic)]`, or to every topic.
    pub fn topic(mut self, prefix: impl Into<String>) -> Self {
        self.topics.push(prefix.into());
        self
    }

    /// Subscribes to each of `prefixes`.
    pub fn topics<I: IntoIterator<Item = S>, S: Into<String>>(mut self, prefixes: I) -> Self {
        self.topics.extend(prefixes.into_iter().map(Into::into));
        self
    }

    /// Accepts envelopes only from `origin`; call again for more. Without any, every origin.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// The codec (envelope framing); default: the type's.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// The receive high-water mark, in envelopes; 0 means no limit. Default 1000.
    pub fn hwm(mut self, hwm: u32) -> Self {
        self.hwm = hwm;
        self
    }

    /// The slow-subscriber policy; default: warn past one second.
    pub fn slow_subscriber(mut self, policy: SlowSubscriber) -> Self {
        self.slow_subscriber = policy;
        self
    }

    /// The largest message (all frames) a peer may send, in bytes; a larger one closes that
    /// peer's connection (`ZMQ_MAXMSGSIZE`). `None` means no limit. Default 16 MiB.
    pub fn max_message_size(mut self, bytes: Option<u64>) -> Self {
        self.max_message_size = bytes.map(|bytes| i64::try_from(bytes).unwrap_or(i64::MAX));
        self
    }

    /// Encrypts and authenticates the socket's links with CURVE.
    ///
    /// A [`Curve::Server`] (a receiver that binds) admits only the keys of its
    /// [`Access`](crate::Access) and drops, counting them in [`Receiver::security_stats`],
    /// envelopes on topics their publisher did not declare. A [`Curve::Client`] (a receiver that
    /// connects, to a proxy or a bound publisher) authenticates with its key pair to the
    /// server's public key.
    pub fn curve(mut self, curve: Curve) -> Self {
        self.curve = Some(curve);
        self
    }

    /// Makes the receiver and binds `endpoint`.
    ///
    /// # Errors
    ///
    /// [`Error::Codec`] when `M` does not support the codec; [`Error::Topic`],
    /// [`Error::Endpoint`] or [`Error::Zmq`].
    pub fn bind(self, endpoint: &str) -> Result<Receiver<M>> {
        let mut receiver = self.build()?;
        receiver.bind(endpoint)?;
        Ok(receiver)
    }

    /// Makes the receiver and connects it to `endpoint`.
    ///
    /// # Errors
    ///
    /// As [`bind`](ReceiverBuilder::bind).
    pub fn connect(self, endpoint: &str) -> Result<Receiver<M>> {
        let mut receiver = self.build()?;
        receiver.connect(endpoint)?;
        Ok(receiver)
    }

    /// Makes the receiver without binding or connecting it.
    ///
    /// # Errors
    ///
    /// As [`bind`](ReceiverBuilder::bind).
    pub fn build(mut self) -> Result<Receiver<M>> {
        if !M::supports(self.codec) {
            return Err(Error::Codec(CodecError::Unsupported {
                codec: self.codec,
                message: M::NAME,
            }));
        }
        if self.topics.is_empty() {
            self.topics
                .push(M::DEFAULT_TOPIC.unwrap_or_default().to_owned());
        }
        let topics = self
            .topics
            .into_iter()
            .map(|topic| TopicFilter::new(topic).map_err(Error::from))
            .collect::<Result<Vec<_>>>()?;
        let subscriptions = topics
            .iter()
            .map(|filter| envelope::subscription(self.codec, filter.prefix()));
        let socket = sub_socket(
            &self.context,
            self.hwm,
            self.max_message_size,
            self.liveness,
            subscriptions,
        )?;
        let counters = Arc::new(Counters::default());
        let security = crate::security::configure(
            &self.context,
            &socket,
            self.curve.as_ref(),
            Arc::clone(&counters),
            "receiver",
        )?;
        Ok(Receiver {
            socket: Some(socket),
            security,
            counters,
            codec: self.codec,
            parts: std::array::from_fn(|_| zmq::Message::new()),
            overflow: zmq::Message::new(),
            tracker: Tracker::new(
                topics,
                self.origins,
                self.slow_subscriber,
                receiver_metrics(&self.context, self.slow_subscriber),
            ),
            unpacking: None,
            endpoints: Vec::new(),
            _message: PhantomData,
        })
    }
}

/// A receiver's metrics handles, when `context` has metrics.
pub(crate) fn receiver_metrics(
    context: &Context,
    policy: SlowSubscriber,
) -> Option<ReceiverMetrics> {
    context
        .metrics()
        .map(|metrics| ReceiverMetrics::new(metrics, None, policy.action))
}

/// A SUB socket with a receiver's options, subscribed to each of `subscriptions`.
pub(crate) fn sub_socket(
    context: &Context,
    hwm: u32,
    max_message_size: Option<i64>,
    liveness: crate::Liveness,
    subscriptions: impl IntoIterator<Item = Vec<u8>>,
) -> Result<zmq::Socket> {
    let socket = context.socket(zmq::SUB)?;
    crate::liveness::apply(&socket, liveness)?;
    socket
        .set_rcvhwm(zmq_hwm(hwm))
        .map_err(Error::zmq("set receive high-water mark"))?;
    socket.set_linger(0).map_err(Error::zmq("set linger"))?;
    if let Some(bytes) = max_message_size {
        socket
            .set_maxmsgsize(bytes)
            .map_err(Error::zmq("set maximum message size"))?;
    }
    for subscription in subscriptions {
        socket
            .set_subscribe(&subscription)
            .map_err(Error::zmq("subscribe"))?;
    }
    Ok(socket)
}
