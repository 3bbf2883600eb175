//! A SUB socket for tools: envelopes of every type and both framings, payloads left encoded.

use std::time::{Duration, Instant};

use crate::codec::Codec;
use crate::context::Context;
use crate::endpoint::{self, Attach};
use crate::envelope::batch::is_batch;
use crate::envelope::{self, RawEnvelope};
use crate::error::{Error, FrameError, Result};
use crate::receiver::{
    Tracker, Unpacking, admit, map_recv_error, read_frame_set, receiver_metrics, sub_socket,
};
use crate::security::{Counters, Curve, Secured, SecurityStats};
use crate::stats::{ReceiverStats, SlowSubscriber};
use crate::topic::TopicFilter;
use std::sync::Arc;

/// A SUB socket that delivers every envelope on its topics as a [`RawEnvelope`], whatever its
/// type and framing: native (`protobuf`, `json`) and `python-json` alike, as one proxy may
/// carry both. Tools such as `hermes tap` and `hermes stats` decode the payloads with types
/// known only at run time.
///
/// It filters topics by whole segments and origins, counts sequence gaps and applies the
/// slow-subscriber policy as a [`Receiver`](crate::Receiver) does. Frame sets that are not
/// envelopes are counted in [`decode_errors`](ReceiverStats::decode_errors), the last one's
/// reason kept in [`last_decode_error`](RawReceiver::last_decode_error), and skipped.
///
/// Receiving follows crossbeam-channel, as [`Receiver`](crate::Receiver) does:
/// [`recv`](RawReceiver::recv) blocks, [`try_recv`](RawReceiver::try_recv) returns
/// [`Error::Empty`], [`recv_timeout`](RawReceiver::recv_timeout) returns [`Error::Timeout`]. A
/// raw receiver is `Send` but not `Sync`.
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<hermes_runtime::RawReceiver>();
/// ```
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use hermes_runtime::{Codec, Context, Error, Publisher, RawReceiver};
/// use serde_json::{Value, json};
///
/// let context = Context::new();
/// let mut tap = RawReceiver::builder(&context).topic("quotes").bind("tcp://127.0.0.1:0")?;
/// let endpoint = tap.endpoints()[0].clone();
/// let mut native = Publisher::<Value>::builder(&context).codec(Codec::Json).connect(&endpoint)?;
/// let mut python = Publisher::<Value>::builder(&context).codec(Codec::PythonJson).connect(&endpoint)?;
///
/// let mut codecs = Vec::new();
/// let deadline = Instant::now() + Duration::from_secs(5);
/// while codecs.len() < 2 {
///     if !codecs.contains(&Codec::Json) {
///         native.send_to("quotes/kraken", &json!(1))?;
///     }
///     if !codecs.contains(&Codec::PythonJson) {
///         python.send_to("quotes/bitstamp", &json!(2))?;
///     }
///     match tap.recv_timeout(Duration::from_millis(10)) {
///         Ok(raw) if !codecs.contains(&raw.codec) => codecs.push(raw.codec),
///         Ok(_) => {}
///         Err(Error::Timeout) if Instant::now() < deadline => {}
///         Err(err) => return Err(err),
///     }
/// }
/// assert_eq!(tap.stats().decode_errors, 0);
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
pub struct RawReceiver {
    /// `None` once the slow-subscriber policy disconnected it.
    socket: Option<zmq::Socket>,
    /// A CURVE server's guard and registration, after `socket` so that it closes first.
    security: Option<Secured>,
    counters: Arc<Counters>,
    parts: [zmq::Message; 4],
    overflow: zmq::Message,
    tracker: Tracker,
    /// The batch being handed out, if any.
    unpacking: Option<Unpacking>,
    endpoints: Vec<String>,
}

impl RawReceiver {
    /// Starts configuring a raw receiver on `context`.
    pub fn builder(context: &Context) -> RawReceiverBuilder {
        RawReceiverBuilder {
            context: context.clone(),
            topics: Vec::new(),
            origins: Vec::new(),
            hwm: 1000,
            slow_subscriber: SlowSubscriber::default(),
            max_message_size: Some(16 * 1024 * 1024),
            curve: None,
        }
    }

    /// Blocks until an envelope arrives.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the context is terminating or the slow-subscriber policy
    /// disconnected the receiver; [`Error::Zmq`] otherwise.
    pub fn recv(&mut self) -> Result<RawEnvelope> {
        loop {
            if let Some(raw) = self.receive_one(0)? {
                return Ok(raw);
            }
        }
    }

    /// Returns an envelope if one is waiting.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] when none is; otherwise as [`recv`](RawReceiver::recv).
    pub fn try_recv(&mut self) -> Result<RawEnvelope> {
        loop {
            if let Some(raw) = self.receive_one(zmq::DONTWAIT)? {
                return Ok(raw);
            }
        }
    }

    /// Waits at most `timeout` for an envelope.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when none came in time; otherwise as [`recv`](RawReceiver::recv).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<RawEnvelope> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.try_recv() {
                Err(Error::Empty) => {}
                other => return other,
            }
            let left = deadline.saturating_duration_since(Instant::now());
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

    /// A blocking iterator over envelopes; it ends at the first error.
    pub fn iter(&mut self) -> impl Iterator<Item = RawEnvelope> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// An iterator over the envelopes waiting now.
    pub fn try_iter(&mut self) -> impl Iterator<Item = RawEnvelope> + '_ {
        std::iter::from_fn(move || self.try_recv().ok())
    }

    /// What this receiver refused as a CURVE server (see [`Receiver::security_stats`](crate::Receiver::security_stats)).
    pub fn security_stats(&self) -> SecurityStats {
        match &self.security {
            // Handshake failures are read from the socket's monitor here, on its owner's thread.
            Some(secured) => secured.stats(),
            None => self.counters.snapshot(),
        }
    }

    /// What this receiver has counted so far; frame sets that are not envelopes are in
    /// [`decode_errors`](ReceiverStats::decode_errors).
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
    /// As [`bind`](RawReceiver::bind).
    pub fn connect(&mut self, endpoint: &str) -> Result<()> {
        endpoint::attach_recorded(
            self.socket.as_ref(),
            &mut self.endpoints,
            Attach::Connect,
            endpoint,
        )
        .map(drop)
    }

    /// Reads one frame set; `Ok(None)` when it was counted and skipped.
    fn receive_one(&mut self, flags: i32) -> Result<Option<RawEnvelope>> {
        if let Some(batch) = &mut self.unpacking {
            let outcome = self.tracker.next_batched_raw(batch);
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
        // Each look at a frame is two calls into libzmq, so each is looked at once.
        let mut slices: [&[u8]; 4] = [&[]; 4];
        for (slice, part) in slices.iter_mut().zip(&self.parts).take(count) {
            *slice = part;
        }
        if count == 2 && is_batch(slices[1]) {
            let [topic, body, ..] = &mut self.parts;
            self.unpacking = self.tracker.open_batch(topic, body, "raw envelopes");
            return Ok(None);
        }
        let outcome = self.tracker.accept_raw(&slices, count);
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
}

impl std::fmt::Debug for RawReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawReceiver")
            .field("topics", &self.tracker.topics())
            .field("endpoints", &self.endpoints)
            .field("stats", &self.tracker.stats)
            .finish_non_exhaustive()
    }
}

/// Configures a [`RawReceiver`]; finish with [`bind`](RawReceiverBuilder::bind) or
/// [`connect`](RawReceiverBuilder::connect).
#[must_use = "a builder does nothing until `bind` or `connect`"]
pub struct RawReceiverBuilder {
    context: Context,
    topics: Vec<String>,
    origins: Vec<String>,
    hwm: u32,
    slow_subscriber: SlowSubscriber,
    max_message_size: Option<i64>,
    curve: Option<Curve>,
}

impl RawReceiverBuilder {
    /// Encrypts and authenticates the socket's links with CURVE, as
    /// [`ReceiverBuilder::curve`](crate::ReceiverBuilder::curve) does: tools connect as a
    /// [`Curve::Client`] with an operator's key pair.
    pub fn curve(mut self, curve: Curve) -> Self {
        self.curve = Some(curve);
        self
    }

    /// Subscribes to `prefix` (segment semantics) in both framings; call again for more
    /// topics. Without any, the receiver takes every topic.
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

    /// Makes the receiver and binds `endpoint`.
    ///
    /// # Errors
    ///
    /// [`Error::Topic`], [`Error::Endpoint`] or [`Error::Zmq`].
    pub fn bind(self, endpoint: &str) -> Result<RawReceiver> {
        let mut receiver = self.build()?;
        receiver.bind(endpoint)?;
        Ok(receiver)
    }

    /// Makes the receiver and connects it to `endpoint`.
    ///
    /// # Errors
    ///
    /// As [`bind`](RawReceiverBuilder::bind).
    pub fn connect(self, endpoint: &str) -> Result<RawReceiver> {
        let mut receiver = self.build()?;
        receiver.connect(endpoint)?;
        Ok(receiver)
    }

    /// Makes the receiver without binding or connecting it.
    ///
    /// # Errors
    ///
    /// As [`bind`](RawReceiverBuilder::bind).
    pub fn build(mut self) -> Result<RawReceiver> {
        if self.topics.is_empty() {
            self.topics.push(String::new());
        }
        let topics = self
            .topics
            .into_iter()
            .map(|topic| TopicFilter::new(topic).map_err(Error::from))
            .collect::<Result<Vec<_>>>()?;
        // Each prefix in both framings; the empty prefix once, as it takes everything.
        let subscriptions = topics.iter().flat_map(|filter| {
            let native = envelope::subscription(Codec::Protobuf, filter.prefix());
            let python = envelope::subscription(Codec::PythonJson, filter.prefix());
            if native.is_empty() {
                vec![native]
            } else {
                vec![native, python]
            }
        });
        let socket = sub_socket(
            &self.context,
            self.hwm,
            self.max_message_size,
            crate::Liveness::DEFAULT,
            subscriptions,
        )?;
        let counters = Arc::new(Counters::default());
        let security = crate::security::configure(
            &self.context,
            &socket,
            self.curve.as_ref(),
            Arc::clone(&counters),
            "raw receiver",
        )?;
        Ok(RawReceiver {
            socket: Some(socket),
            security,
            counters,
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
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::{Codec, Context, Error, Publisher, RawReceiver};
    use serde_json::json;

    /// One raw receiver reads native and python-json envelopes off one socket, filters topics
    /// by segment, counts sequence gaps, and counts frame sets that are not envelopes.
    #[test]
    fn reads_both_framings_and_counts_what_is_not_an_envelope() {
        let context = Context::new();
        let endpoint = "inproc://raw-receiver-both-framings";
        let mut tap = RawReceiver::builder(&context)
            .topic("quotes")
            .bind(endpoint)
            .unwrap();
        let mut native = Publisher::<serde_json::Value>::builder(&context)
            .codec(Codec::Json)
            .connect(endpoint)
            .unwrap();
        let mut python = Publisher::<serde_json::Value>::builder(&context)
            .codec(Codec::PythonJson)
            .connect(endpoint)
            .unwrap();
        let garbage = context.as_zmq().socket(zmq::PUB).unwrap();
        garbage.connect(endpoint).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let (mut native_seen, mut python_seen, mut garbage_seen) = (false, false, false);
        while !(native_seen && python_seen && garbage_seen) {
            assert!(Instant::now() < deadline, "{:?}", tap.stats());
            native.send_to("quotes/kraken", &json!(1)).unwrap();
            native.send_to("quotes_raw", &json!(0)).unwrap();
            python.send_to("quotes/bitstamp", &json!(2)).unwrap();
            garbage
                .send_multipart([&b"quotes"[..], b"x", b"y"], 0)
                .unwrap();
            while let Ok(raw) = tap.recv_timeout(Duration::from_millis(10)) {
                assert!(raw.topic.starts_with("quotes/"), "{raw:?}");
                match raw.codec {
                    Codec::Json => {
                        assert_eq!(raw.payload, b"1");
                        assert_eq!(raw.type_fingerprint(), None);
                        assert_eq!(raw.decode::<serde_json::Value>().unwrap().message, 1);
                        native_seen = true;
                    }
                    Codec::PythonJson => {
                        assert_eq!(raw.payload, b"2");
                        assert_eq!((raw.fingerprint, raw.epoch), (None, 0));
                        python_seen = true;
                    }
                    Codec::Protobuf => panic!("nothing was sent as protobuf: {raw:?}"),
                }
                assert!(raw.wire_size > raw.payload.len());
            }
            garbage_seen = tap.stats().decode_errors > 0;
        }
        let stats = tap.stats();
        assert!(stats.filtered > 0, "`quotes_raw` is not under `quotes`");
        assert_eq!(stats.lost, 0, "{stats:?}");
        assert_eq!(
            tap.last_decode_error().map(ToString::to_string).as_deref(),
            Some("expected 2 frames, found 3")
        );
        assert!(matches!(tap.try_recv(), Ok(_) | Err(Error::Empty)));
    }
}
