//! Typed PUB sockets.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

use crate::backtest::Outbox;
use crate::codec::{Codec, PythonLayout};
use crate::context::{Context, zmq_hwm};
use crate::endpoint::{self, Attach};
use crate::envelope::{self, Frames, Header, RawEnvelope, Stamp};
use crate::error::{CodecError, Error, Result};
use crate::message::Message;
use crate::metrics::Metrics;
use crate::security::{Counters, Curve, Secured, SecurityStats};
use crate::topic;
use std::sync::Arc;

use hermes_core::Batching;

mod batcher;

use batcher::{Added, Shared};

/// Frames at least this long are handed to libzmq without copying. A zero-copy message costs
/// libzmq a separate allocation for its reference count, which is cheaper than copying only
/// for large frames; below this, libzmq copies the frame into one allocation of its own
/// (except in the band of [`hand_over`]).
const ZERO_COPY_MIN: usize = 8 * 1024;

/// What libzmq allocates besides the bytes when it copies a frame: its reference-counted
/// `content_t` (four pointers and a counter, 40 bytes on 64-bit targets).
const COPY_HEADER: usize = 40;

/// The largest request glibc serves from its lock-free fastbins (128-byte chunks).
const FASTBIN_MAX: usize = 120;

/// Whether a frame of `len` bytes goes to libzmq as our buffer instead of a copy.
///
/// A copied frame is one allocation of `COPY_HEADER + len` bytes, made by the sending thread
/// and freed by libzmq's I/O thread. Past glibc's fastbin limit the two threads contend for
/// the allocator's arena lock, and at flood rates that costs more than the bytes: raw zmq
/// sending 84-byte frames runs ~10 % slower than with 80-byte ones (hermes-runtime README).
/// Frames that only the copy's header pushes past the limit are therefore handed over:
/// two lock-free allocations (the buffer, libzmq's counter) beat one contended one. The band
/// is glibc's; other C libraries' allocators get the plain rule.
fn hand_over(len: usize) -> bool {
    let in_fastbin_band = FASTBIN_MAX - COPY_HEADER < len && len <= FASTBIN_MAX;
    len >= ZERO_COPY_MIN || (cfg!(target_env = "gnu") && in_fastbin_band)
}

/// A typed PUB socket: every envelope it sends carries an `M`.
///
/// Each envelope gets the next sequence number of its topic, so receivers count what a
/// high-water mark or a reconnect lost. A publisher is `Send` but not `Sync`: move it into the
/// thread that uses it (ZeroMQ sockets must not be used from two threads at once).
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<hermes_runtime::Publisher<serde_json::Value>>();
/// ```
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::{Context, Publisher, Receiver};
/// use serde_json::{Value, json};
///
/// let context = Context::new();
/// let mut receiver = Receiver::<Value>::builder(&context).topic("greetings").bind("inproc://doc-pub")?;
/// let mut publisher = Publisher::<Value>::builder(&context)
///     .node("alice", "greetings") // topic `greetings/alice`, origin `alice`
///     .connect("inproc://doc-pub")?;
///
/// // PUB/SUB drops what is sent before the subscription arrives: send until one lands.
/// let envelope = loop {
///     publisher.send(&json!({"hello": "world"}))?;
///     if let Ok(envelope) = receiver.recv_timeout(Duration::from_millis(10)) {
///         break envelope;
///     }
/// };
/// assert_eq!(envelope.topic, "greetings/alice");
/// assert_eq!(envelope.origin, "alice");
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
pub struct Publisher<M> {
    transport: Transport,
    /// A CURVE server's guard and authenticator registration: after `socket`, so the socket
    /// closes before the authenticator may stop.
    security: Option<Secured>,
    counters: Arc<Counters>,
    codec: Codec,
    topic: String,
    origin: String,
    epoch: u32,
    next_seq: u64,
    /// Next sequence number and `hermes_sent_total` series of each topic besides `topic`.
    other_topics: HashMap<String, OtherTopic>,
    /// The `hermes_sent_total` series of `topic`, when the context has metrics.
    sent_metric: Option<Counter>,
    metrics: Option<Metrics>,
    frames: Frames,
    endpoints: Vec<String>,
    sent: u64,
    /// The subscriptions an XPUB socket has reported (see [`PublisherBuilder::xpub`]); `None`
    /// for a PUB socket, which reports none.
    subscriptions: Option<Vec<Vec<u8>>>,
    /// The `python-json` layout chosen for this publisher; `None` for the type's own.
    python_layout: Option<PythonLayout>,
    _message: PhantomData<fn(M)>,
}

impl<M: Message> Publisher<M> {
    /// Starts configuring a publisher on `context`.
    pub fn builder(context: &Context) -> PublisherBuilder<M> {
        PublisherBuilder {
            context: context.clone(),
            codec: M::DEFAULT_CODEC,
            topic: M::DEFAULT_TOPIC.unwrap_or_default().to_owned(),
            origin: None,
            hwm: 1000,
            linger: Duration::from_millis(500),
            xpub: false,
            python_layout: None,
            curve: None,
            liveness: crate::Liveness::DEFAULT,
            batching: None,
            _message: PhantomData,
        }
    }

    /// Sends `message` on the default topic.
    ///
    /// Never blocks: a PUB socket whose peers are at their high-water mark drops the envelope,
    /// and receivers count it as lost from the sequence gap.
    ///
    /// # Errors
    ///
    /// [`Error::Codec`] when the message does not encode; [`Error::Disconnected`] when the
    /// context is terminating; [`Error::Zmq`] otherwise.
    pub fn send(&mut self, message: &M) -> Result<()> {
        let seq = self.next_seq;
        let stamp = Stamp {
            codec: self.codec,
            topic: &self.topic,
            origin: &self.origin,
            epoch: self.epoch,
            seq,
            timestamp_ns: self.transport.now_ns(),
            python_layout: self.python_layout.unwrap_or(M::PYTHON_LAYOUT),
        };
        let dispatched = Self::dispatch(&self.transport, &stamp, message, &mut self.frames);
        if dispatched.is_ok() {
            self.next_seq += 1;
        }
        self.after_send(dispatched?)?;
        if let Some(sent) = &self.sent_metric {
            sent.inc();
        }
        Ok(())
    }

    /// Sends `message` on `topic` instead of the default topic.
    ///
    /// # Errors
    ///
    /// As [`send`](Publisher::send), and [`Error::Topic`] for an invalid topic.
    pub fn send_to(&mut self, topic: &str, message: &M) -> Result<()> {
        if topic == self.topic {
            return self.send(message);
        }
        let entry = match self.other_topics.get_mut(topic) {
            Some(entry) => entry,
            None => {
                topic::validate(topic)?;
                let sent = self
                    .metrics
                    .as_ref()
                    .map(|metrics| metrics.sent(&self.origin, topic));
                self.other_topics
                    .entry(topic.to_owned())
                    .or_insert(OtherTopic { next_seq: 0, sent })
            }
        };
        // A reference count, not a lookup: the map stays borrowed by `seq` until encoded.
        let sent = entry.sent.clone();
        let seq = &mut entry.next_seq;
        let stamp = Stamp {
            codec: self.codec,
            topic,
            origin: &self.origin,
            epoch: self.epoch,
            seq: *seq,
            timestamp_ns: self.transport.now_ns(),
            python_layout: self.python_layout.unwrap_or(M::PYTHON_LAYOUT),
        };
        let dispatched = Self::dispatch(&self.transport, &stamp, message, &mut self.frames);
        if dispatched.is_ok() {
            *seq += 1;
        }
        self.after_send(dispatched?)?;
        if let Some(sent) = sent {
            sent.inc();
        }
        Ok(())
    }

    /// Encodes the envelope `stamp` describes, into the batch when the publisher batches and
    /// the batcher takes it, else into `frames`: whether `frames` are still to be sent.
    #[inline]
    fn dispatch(
        transport: &Transport,
        stamp: &Stamp<'_>,
        message: &M,
        frames: &mut Frames,
    ) -> Result<bool> {
        if let Transport::Batched(shared) = transport
            && stamp.codec != Codec::PythonJson
        {
            let header = Header {
                codec: stamp.codec,
                fingerprint: message.fingerprint(),
                epoch: stamp.epoch,
                seq: stamp.seq,
                timestamp_ns: stamp.timestamp_ns,
            };
            let mut batcher = shared.lock();
            let added = batcher.add(stamp.topic, &header, stamp.origin, |buf| {
                Ok(message.encode(stamp.codec, buf)?)
            })?;
            if let Added::Batched = added {
                return Ok(false);
            }
        }
        envelope::encode(stamp, message, frames)?;
        Ok(true)
    }

    /// Sends the frames of an envelope that did not go into a batch, and counts it.
    fn after_send(&mut self, frames_waiting: bool) -> Result<()> {
        if frames_waiting {
            self.transmit()
        } else {
            self.sent += 1;
            if self.subscriptions.is_some() || self.security.is_some() {
                self.read_subscriptions()?;
            }
            Ok(())
        }
    }

    /// Sends the batch being filled now, instead of when it fills or its first envelope has
    /// waited the batching delay. Nothing to do for a publisher that does not batch.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the context is terminating; [`Error::Zmq`] otherwise.
    pub fn flush(&mut self) -> Result<()> {
        match &self.transport {
            Transport::Batched(shared) => shared.lock().flush(),
            Transport::Socket(_) | Transport::Memory(_) => Ok(()),
        }
    }

    /// Sends `raw` as it is: its topic, origin, codec, fingerprint, epoch, sequence number,
    /// timestamp and payload, whatever this publisher's own are. For
    /// [`RawPublisher`](crate::RawPublisher).
    pub(crate) fn send_raw(&mut self, raw: &RawEnvelope) -> Result<()> {
        raw.write_frames(&mut self.frames);
        self.transmit()
    }

    fn transmit(&mut self) -> Result<()> {
        if self.security.is_some() {
            // Subscriptions are applied only when read: read them before sending.
            self.read_subscriptions()?;
        }
        match &self.transport {
            Transport::Socket(socket) => send_frames(socket, &mut self.frames)?,
            Transport::Batched(shared) => shared.lock().send_frames(&mut self.frames)?,
            Transport::Memory(outbox) => {
                outbox.send(self.frames.parts())?;
                self.sent += 1;
                return Ok(());
            }
        }
        self.sent += 1;
        if self.subscriptions.is_some() {
            // Keeps libzmq's queue of subscription messages from growing.
            self.read_subscriptions()?;
        }
        Ok(())
    }

    /// Waits until a subscriber that receives the default topic is connected, at most
    /// `timeout`: PUB/SUB drops what is sent before a subscription arrives, so a publisher that
    /// sends once waits for one first instead of sleeping a guessed time.
    ///
    /// Subscriptions count as ZeroMQ matches them, by byte prefix: one to `quotes` is a
    /// subscriber of `quotes_raw` too. Only a publisher built with
    /// [`xpub`](PublisherBuilder::xpub) sees subscriptions.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when none came in time; [`Error::Zmq`] with `ENOTSUP` on a publisher
    /// built without `xpub`; [`Error::Disconnected`] when the context is terminating.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use hermes_runtime::{Context, Error, Publisher, Receiver};
    /// use serde_json::{Value, json};
    ///
    /// let context = Context::new();
    /// let mut publisher = Publisher::<Value>::builder(&context)
    ///     .topic("greetings")
    ///     .xpub()
    ///     .bind("tcp://127.0.0.1:0")?;
    /// let endpoint = publisher.endpoints()[0].clone();
    /// let timeout = Duration::from_millis(50);
    /// assert!(matches!(publisher.wait_for_subscriber(timeout), Err(Error::Timeout)));
    ///
    /// let mut receiver = Receiver::<Value>::builder(&context).topic("greetings").connect(&endpoint)?;
    /// publisher.wait_for_subscriber(Duration::from_secs(5))?;
    /// publisher.send(&json!("hello"))?; // not lost: the subscription is in place
    /// assert_eq!(receiver.recv_timeout(Duration::from_secs(5))?.message, "hello");
    /// # Ok::<(), hermes_runtime::Error>(())
    /// ```
    pub fn wait_for_subscriber(&mut self, timeout: Duration) -> Result<()> {
        let topic = std::mem::take(&mut self.topic);
        let waited = self.wait_for_subscriber_to(self.codec, &topic, timeout);
        self.topic = topic;
        waited
    }

    /// As [`wait_for_subscriber`](Publisher::wait_for_subscriber), for a subscriber that
    /// receives `topic` in `codec`'s framing.
    pub(crate) fn wait_for_subscriber_to(
        &mut self,
        codec: Codec,
        topic: &str,
        timeout: Duration,
    ) -> Result<()> {
        if self.subscriptions.is_none() {
            return Err(Error::Zmq {
                context: "wait for a subscriber: the publisher was built without `xpub()`".into(),
                source: zmq::Error::ENOTSUP,
            });
        }
        let mut topic_frame = envelope::subscription(codec, topic);
        if codec == Codec::PythonJson {
            topic_frame.push(b'"');
        }
        let deadline = Instant::now() + timeout;
        loop {
            self.read_subscriptions()?;
            let subscribed = self
                .subscriptions
                .iter()
                .flatten()
                .any(|prefix| topic_frame.starts_with(prefix));
            if subscribed {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            let millis = i64::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i64::MAX);
            self.transport
                .with_socket(|socket| socket.poll(zmq::POLLIN, millis))
                .ok_or(Error::Disconnected)?
                .map_err(|err| match err {
                    zmq::Error::ETERM => Error::Disconnected,
                    other => Error::zmq("wait for a subscriber")(other),
                })?;
        }
    }

    /// Reads the subscription messages an XPUB socket has queued into `subscriptions`; on a
    /// CURVE server, applies those the subscriber may make and drops the rest.
    fn read_subscriptions(&mut self) -> Result<()> {
        let Some(subscriptions) = self.subscriptions.as_mut() else {
            return Ok(());
        };
        let security = &mut self.security;
        self.transport
            .with_socket(|socket| read_subscriptions(socket, subscriptions, security))
            .unwrap_or(Ok(()))
    }

    /// What this publisher refused: subscriptions not declared by their subscriber (as a
    /// CURVE server) and connections from keys not admitted. All zeros without CURVE.
    pub fn security_stats(&self) -> SecurityStats {
        match &self.security {
            // Handshake failures are read from the socket's monitor here, on its owner's thread.
            Some(secured) => secured.stats(),
            None => self.counters.snapshot(),
        }
    }

    /// Also binds `endpoint`, returning it as resolved (the real port of `tcp://host:0`).
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`] or [`Error::Zmq`].
    pub fn bind(&mut self, endpoint: &str) -> Result<String> {
        let endpoints = &mut self.endpoints;
        self.transport
            .with_socket(|socket| {
                endpoint::attach_recorded(Some(socket), endpoints, Attach::Bind, endpoint)
            })
            .unwrap_or_else(|| endpoint::attach_recorded(None, endpoints, Attach::Bind, endpoint))
    }

    /// Also connects to `endpoint`.
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`] or [`Error::Zmq`].
    pub fn connect(&mut self, endpoint: &str) -> Result<()> {
        let endpoints = &mut self.endpoints;
        self.transport
            .with_socket(|socket| {
                endpoint::attach_recorded(Some(socket), endpoints, Attach::Connect, endpoint)
            })
            .unwrap_or_else(|| {
                endpoint::attach_recorded(None, endpoints, Attach::Connect, endpoint)
            })
            .map(drop)
    }

    /// The endpoints bound or connected, as resolved.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The default topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The origin written into every envelope.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The `python-json` layout this publisher writes.
    pub fn python_layout(&self) -> PythonLayout {
        self.python_layout.unwrap_or(M::PYTHON_LAYOUT)
    }

    /// The epoch drawn for this publisher; receivers see a new one as a restart.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Envelopes handed to the socket so far (including ones a high-water mark then dropped).
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

impl<M> Publisher<M> {
    /// This publisher carrying `N` instead: for the node driver, which makes sockets from a
    /// port table before generated code names their types.
    pub(crate) fn retype<N: Message>(self) -> Result<Publisher<N>> {
        if !N::supports(self.codec) {
            return Err(Error::Codec(CodecError::Unsupported {
                codec: self.codec,
                message: N::NAME,
            }));
        }
        Ok(Publisher {
            transport: self.transport,
            security: self.security,
            counters: self.counters,
            codec: self.codec,
            topic: self.topic,
            origin: self.origin,
            epoch: self.epoch,
            next_seq: self.next_seq,
            other_topics: self.other_topics,
            sent_metric: self.sent_metric,
            metrics: self.metrics,
            frames: self.frames,
            endpoints: self.endpoints,
            sent: self.sent,
            subscriptions: self.subscriptions,
            python_layout: self.python_layout,
            _message: PhantomData,
        })
    }
}

impl<M> std::fmt::Debug for Publisher<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("topic", &self.topic)
            .field("origin", &self.origin)
            .field("codec", &self.codec)
            .field("endpoints", &self.endpoints)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Publisher`]; finish with [`bind`](PublisherBuilder::bind) or
/// [`connect`](PublisherBuilder::connect).
#[must_use = "a builder does nothing until `bind` or `connect`"]
pub struct PublisherBuilder<M> {
    context: Context,
    codec: Codec,
    topic: String,
    origin: Option<String>,
    hwm: u32,
    linger: Duration,
    xpub: bool,
    python_layout: Option<PythonLayout>,
    curve: Option<Curve>,
    liveness: crate::Liveness,
    batching: Option<Batching>,
    _message: PhantomData<fn(M)>,
}

impl<M: Message> PublisherBuilder<M> {
    /// Heartbeats and TCP keepalive on the socket's connections; default
    /// [`Liveness::DEFAULT`](crate::Liveness::DEFAULT) (on).
    pub fn liveness(mut self, liveness: crate::Liveness) -> Self {
        self.liveness = liveness;
        self
    }

    /// Batches native envelopes under load (see [`Batching`](crate::Batching)); default: off.
    /// `python-json` envelopes are never batched.
    ///
    /// An envelope goes out at once unless it and the two before it each came less than
    /// `max_delay_us` after the one before; such envelopes go out as one ZeroMQ message once
    /// `max_bytes` are waiting, or `max_delay_us` after the first of them, whichever comes first (a thread of
    /// the process keeps that bound when the publisher sends nothing more).
    /// [`flush`](Publisher::flush) sends a batch at once. Receivers unpack batches with
    /// per-envelope sequence numbers, so loss accounting is unchanged; a receiver built
    /// before batching (wire-format version 1 only) counts each batch as a decode error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use hermes_runtime::{Batching, Context, Publisher, Receiver};
    /// use serde_json::{Value, json};
    ///
    /// let context = Context::new();
    /// let mut publisher = Publisher::<Value>::builder(&context)
    ///     .topic("ticks")
    ///     .xpub()
    ///     .batching(Batching::DEFAULT)
    ///     .bind("inproc://doc-batching")?;
    /// let mut receiver = Receiver::<Value>::builder(&context).topic("ticks").connect("inproc://doc-batching")?;
    /// publisher.wait_for_subscriber(Duration::from_secs(5))?;
    /// for n in 0..1000 {
    ///     publisher.send(&json!(n))?; // most go out in batches of many
    /// }
    /// publisher.flush()?;
    /// for n in 0..1000 {
    ///     assert_eq!(receiver.recv_timeout(Duration::from_secs(5))?.message, json!(n));
    /// }
    /// assert_eq!(receiver.stats().lost, 0);
    /// # Ok::<(), hermes_runtime::Error>(())
    /// ```
    pub fn batching(mut self, batching: Batching) -> Self {
        self.batching = Some(batching);
        self
    }

    /// The default topic for [`Publisher::send`]; default: the type's `#[hermes(topic)]`, or empty.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = topic.into();
        self
    }

    /// The origin in every envelope; default: the program's name and process id.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Publishing on `channel` from node `node`, as hermes-zmq did: topic `channel/node`,
    /// origin `node`.
    pub fn node(self, node: &str, channel: &str) -> Self {
        self.topic(format!("{channel}/{node}")).origin(node)
    }

    /// The codec; default: the type's.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// How `python-json` lays out the fields of the messages sent; default: the type's
    /// [`Message::PYTHON_LAYOUT`], the `[dtype, ts, fields…]` array Python's `hermes.Message`
    /// writes unless the type says otherwise. The native codecs ignore it.
    ///
    /// ```
    /// use hermes_runtime::{Codec, Context, Publisher, PythonLayout};
    ///
    /// let context = Context::new();
    /// let publisher = Publisher::<serde_json::Value>::builder(&context)
    ///     .codec(Codec::PythonJson)
    ///     .python_layout(PythonLayout::Object)
    ///     .build()?;
    /// assert_eq!(publisher.python_layout(), PythonLayout::Object);
    /// # Ok::<(), hermes_runtime::Error>(())
    /// ```
    pub fn python_layout(mut self, layout: PythonLayout) -> Self {
        self.python_layout = Some(layout);
        self
    }

    /// The send high-water mark, in envelopes per peer; 0 means no limit. Default 1000.
    pub fn hwm(mut self, hwm: u32) -> Self {
        self.hwm = hwm;
        self
    }

    /// How long queued envelopes may still be flushed after the publisher is dropped.
    /// Default 500 ms.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// Uses an XPUB socket, which sees subscriptions arrive, instead of a PUB socket: needed by
    /// [`Publisher::wait_for_subscriber`]. Each send then also reads, without waiting, the
    /// subscription messages libzmq has queued, so they do not pile up.
    pub fn xpub(mut self) -> Self {
        self.xpub = true;
        self
    }

    /// Encrypts and authenticates the socket's links with CURVE.
    ///
    /// A [`Curve::Server`] (a publisher that binds) admits only the keys of its
    /// [`Access`](crate::Access), and uses an XPUB socket that applies a subscription only when
    /// its subscriber declared it (`ZMQ_XPUB_MANUAL`); the others are dropped and counted in
    /// [`Publisher::security_stats`]. Subscriptions are read and applied when the publisher
    /// sends (or waits for a subscriber). A [`Curve::Client`] (a publisher that connects, to a
    /// proxy or a bound receiver) authenticates with its key pair to the server's public key.
    pub fn curve(mut self, curve: Curve) -> Self {
        self.curve = Some(curve);
        self
    }

    /// Makes the publisher and binds `endpoint`.
    ///
    /// # Errors
    ///
    /// [`Error::Codec`] when `M` does not support the codec; [`Error::Endpoint`],
    /// [`Error::Topic`] or [`Error::Zmq`].
    pub fn bind(self, endpoint: &str) -> Result<Publisher<M>> {
        let mut publisher = self.build()?;
        publisher.bind(endpoint)?;
        Ok(publisher)
    }

    /// Makes the publisher and connects it to `endpoint`.
    ///
    /// # Errors
    ///
    /// As [`bind`](PublisherBuilder::bind).
    pub fn connect(self, endpoint: &str) -> Result<Publisher<M>> {
        let mut publisher = self.build()?;
        publisher.connect(endpoint)?;
        Ok(publisher)
    }

    /// Makes the publisher without binding or connecting it.
    ///
    /// # Errors
    ///
    /// As [`bind`](PublisherBuilder::bind).
    pub fn build(self) -> Result<Publisher<M>> {
        if !M::supports(self.codec) {
            return Err(Error::Codec(CodecError::Unsupported {
                codec: self.codec,
                message: M::NAME,
            }));
        }
        topic::validate(&self.topic)?;
        let server = matches!(self.curve, Some(Curve::Server { .. }));
        let xpub = self.xpub || server;
        let kind = if xpub { zmq::XPUB } else { zmq::PUB };
        let mut socket = self.context.socket(kind)?;
        if server {
            zmq_ext::set_xpub_manual(&mut socket, true).map_err(Error::zmq("set XPUB manual"))?;
        }
        crate::liveness::apply(&socket, self.liveness)?;
        let counters = Arc::new(Counters::default());
        let security = crate::security::configure(
            &self.context,
            &socket,
            self.curve.as_ref(),
            Arc::clone(&counters),
            &format!("publisher {}", self.topic),
        )?;
        socket
            .set_sndhwm(zmq_hwm(self.hwm))
            .map_err(Error::zmq("set send high-water mark"))?;
        let linger = i32::try_from(self.linger.as_millis()).unwrap_or(i32::MAX);
        socket
            .set_linger(linger)
            .map_err(Error::zmq("set linger"))?;
        let origin = self.origin.unwrap_or_else(default_origin);
        let metrics = self.context.metrics();
        let sent_metric = metrics
            .as_ref()
            .map(|metrics| metrics.sent(&origin, &self.topic));
        let transport = match self.batching {
            Some(batching) if self.codec != Codec::PythonJson => {
                batching
                    .validate()
                    .map_err(|reason| Error::Batching { reason })?;
                Transport::Batched(Shared::new(socket, batching))
            }
            _ => Transport::Socket(socket),
        };
        Ok(Publisher {
            transport,
            security,
            counters,
            codec: self.codec,
            topic: self.topic,
            origin,
            epoch: new_epoch(),
            next_seq: 0,
            other_topics: HashMap::new(),
            sent_metric,
            metrics,
            frames: Frames::new(),
            endpoints: Vec::new(),
            sent: 0,
            subscriptions: xpub.then(Vec::new),
            python_layout: self.python_layout,
            _message: PhantomData,
        })
    }
}

/// Reads the subscription messages `socket` (an XPUB) has queued into `subscriptions`; on a
/// CURVE server, applies those the subscriber may make and drops the rest.
fn read_subscriptions(
    socket: &zmq::Socket,
    subscriptions: &mut Vec<Vec<u8>>,
    security: &mut Option<Secured>,
) -> Result<()> {
    let mut message = zmq::Message::new();
    loop {
        match socket.recv(&mut message, zmq::DONTWAIT) {
            Ok(()) => {}
            Err(zmq::Error::EAGAIN) => return Ok(()),
            Err(zmq::Error::ETERM) => return Err(Error::Disconnected),
            Err(other) => return Err(Error::zmq("read subscriptions")(other)),
        }
        let user = message.gets("User-Id").map(str::to_owned);
        // libzmq reports a subscription as 1 and an unsubscription as 0, then the prefix.
        match message.split_first() {
            Some((1, prefix)) => {
                if let Some(secured) = security.as_mut() {
                    if !secured.guard.admit_subscription(user.as_deref(), prefix) {
                        continue;
                    }
                    socket
                        .set_subscribe(prefix)
                        .map_err(Error::zmq("apply a subscription"))?;
                }
                if !subscriptions.iter().any(|known| known == prefix) {
                    subscriptions.push(prefix.to_vec());
                }
            }
            Some((0, prefix)) => {
                if let Some(secured) = security.as_ref() {
                    // Without a user, the subscriber is gone and libzmq dropped its
                    // subscriptions itself; a refused one was never applied.
                    if user.is_none() || !secured.guard.may_subscribe(user.as_deref(), prefix) {
                        continue;
                    }
                    socket
                        .set_unsubscribe(prefix)
                        .map_err(Error::zmq("apply an unsubscription"))?;
                }
                subscriptions.retain(|known| known != prefix);
            }
            _ => {}
        }
    }
}

/// Sends `frames` as one multipart message, handing large frames to libzmq without a copy.
fn send_frames(socket: &zmq::Socket, frames: &mut Frames) -> Result<()> {
    let count = frames.parts().len();
    for i in 0..count {
        let flags = if i + 1 < count { zmq::SNDMORE } else { 0 };
        let taken = if hand_over(frames.parts()[i].len()) {
            frames.take_part(i)
        } else {
            None
        };
        match taken {
            // libzmq takes the buffer itself and frees it once the message is delivered.
            Some(buffer) => socket.send(buffer, flags),
            None => socket.send(frames.parts()[i].as_slice(), flags),
        }
        .map_err(send_error)?;
    }
    Ok(())
}

fn send_error(err: zmq::Error) -> Error {
    match err {
        zmq::Error::ETERM => Error::Disconnected,
        other => Error::zmq("send")(other),
    }
}

/// Where a publisher's frames go.
enum Transport {
    /// A PUB or XPUB socket; envelopes are stamped with the wall clock.
    Socket(zmq::Socket),
    /// As `Socket`, with native envelopes batched under load; shared with the flusher thread.
    Batched(Arc<Shared>),
    /// A [`Backtest`](crate::backtest::Backtest)'s engine; envelopes are stamped with its
    /// virtual clock.
    Memory(Outbox),
}

impl Transport {
    /// Calls `use_socket` with the socket, unless the publisher is a backtest's.
    fn with_socket<R>(&self, use_socket: impl FnOnce(&zmq::Socket) -> R) -> Option<R> {
        match self {
            Transport::Socket(socket) => Some(use_socket(socket)),
            Transport::Batched(shared) => Some(use_socket(shared.lock().socket())),
            Transport::Memory(_) => None,
        }
    }

    /// The time to stamp an envelope with.
    #[inline]
    fn now_ns(&self) -> u64 {
        match self {
            Transport::Socket(_) | Transport::Batched(_) => envelope::now_ns(),
            Transport::Memory(_) => crate::backtest::clock_ns(),
        }
    }
}

impl<M> Publisher<M> {
    /// A publisher whose frames go to a backtest's engine through `outbox` instead of a socket:
    /// the same encoding, sequence numbers and type checks, no ZeroMQ. Its epoch is 1, so
    /// runs repeat exactly.
    pub(crate) fn in_memory(
        outbox: Outbox,
        topic: &str,
        origin: &str,
        codec: Codec,
        python_layout: Option<PythonLayout>,
    ) -> Result<Publisher<M>> {
        topic::validate(topic)?;
        Ok(Publisher {
            transport: Transport::Memory(outbox),
            security: None,
            counters: Arc::default(),
            codec,
            topic: topic.to_owned(),
            origin: origin.to_owned(),
            epoch: 1,
            next_seq: 0,
            other_topics: HashMap::new(),
            sent_metric: None,
            metrics: None,
            frames: Frames::new(),
            endpoints: Vec::new(),
            sent: 0,
            subscriptions: None,
            python_layout,
            _message: PhantomData,
        })
    }
}

/// A topic a publisher sent to with [`Publisher::send_to`].
struct OtherTopic {
    next_seq: u64,
    sent: Option<Counter>,
}

fn default_origin() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "hermes".to_owned());
    format!("{program}.{}", std::process::id())
}

/// A number that differs between publishers and between runs of the same program.
pub(crate) fn new_epoch() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(envelope::now_ns());
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    // Zero is reserved for "no epoch" (python-json envelopes).
    (hasher.finish() as u32).max(1)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::{Codec, Context, Error, Payload, Publisher, Receiver};

    /// A python-json topic frame is a JSON string: the subscription `"greetings` must count
    /// as a subscriber of topic `greetings`, and one to another topic must not.
    #[test]
    fn wait_for_subscriber_matches_subscriptions_as_libzmq_does() {
        let context = Context::new();
        let endpoint = "inproc://publisher-wait-for-subscriber";
        let mut publisher = Publisher::<serde_json::Value>::builder(&context)
            .codec(Codec::PythonJson)
            .topic("greetings")
            .xpub()
            .bind(endpoint)
            .unwrap();
        let _elsewhere = Receiver::<serde_json::Value>::builder(&context)
            .codec(Codec::PythonJson)
            .topic("farewells")
            .connect(endpoint)
            .unwrap();
        let short = Duration::from_millis(100);
        assert!(matches!(
            publisher.wait_for_subscriber(short),
            Err(Error::Timeout)
        ));
        let mut receiver = Receiver::<serde_json::Value>::builder(&context)
            .codec(Codec::PythonJson)
            .topic("greetings")
            .connect(endpoint)
            .unwrap();
        publisher
            .wait_for_subscriber(Duration::from_secs(5))
            .unwrap();
        publisher.send(&serde_json::json!(1)).unwrap();
        let envelope = receiver.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(envelope.topic, "greetings");
    }

    #[test]
    fn wait_for_subscriber_on_a_pub_socket_is_an_error_not_a_wait() {
        let context = Context::new();
        let mut publisher = Publisher::<serde_json::Value>::builder(&context)
            .build()
            .unwrap();
        let started = Instant::now();
        let error = publisher
            .wait_for_subscriber(Duration::from_secs(5))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(error.to_string().contains("without `xpub()`"), "{error}");
    }

    /// Frames past `ZERO_COPY_MIN` or in the fastbin band go to libzmq without copying; the
    /// buffer left in their place must serve the next envelopes, larger, smaller or small again.
    #[test]
    fn handed_over_frames_arrive_whole_one_after_another() {
        let context = Context::new();
        let mut receiver = Receiver::<Payload>::builder(&context)
            .codec(Codec::Json)
            .bind("inproc://publisher-large-frames")
            .unwrap();
        let mut publisher = Publisher::<Payload>::builder(&context)
            .codec(Codec::Json)
            .hwm(0)
            .connect("inproc://publisher-large-frames")
            .unwrap();
        let payload = |len: usize, fill: u8| Payload::new(Codec::Json, 7, vec![fill; len]);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            publisher.send(&payload(10, 0)).unwrap();
            match receiver.recv_timeout(Duration::from_millis(10)) {
                Ok(_) => break,
                Err(Error::Timeout) if Instant::now() < deadline => {}
                Err(err) => panic!("{err}"),
            }
        }
        while receiver.recv_timeout(Duration::from_millis(20)).is_ok() {}
        let large = [100_000, 100_000, 300_000, 9_000, 20, 64 * 1024, 0, 70_000];
        // Frames around both edges of the fastbin band (80 | 81..=120 | 121), as payload sizes.
        let header = crate::envelope::HEADER_LEN + 1 + publisher.origin().len();
        let edges = [80, 81, 120, 121, 100, 81, 80];
        if cfg!(target_env = "gnu") {
            let band = [false, true, true, false, true, true, false];
            assert_eq!(edges.map(super::hand_over), band);
        }
        let sizes: Vec<usize> = large
            .into_iter()
            .chain(edges.map(|frame| frame - header))
            .chain([9_000, 50])
            .collect();
        for (n, &len) in sizes.iter().enumerate() {
            publisher.send(&payload(len, n as u8 + 1)).unwrap();
        }
        for (n, &len) in sizes.iter().enumerate() {
            let envelope = receiver.recv_timeout(Duration::from_secs(5)).unwrap();
            assert_eq!(
                envelope.message.bytes,
                vec![n as u8 + 1; len],
                "envelope {n}"
            );
        }
        assert_eq!(receiver.stats().lost, 0);
    }
}
