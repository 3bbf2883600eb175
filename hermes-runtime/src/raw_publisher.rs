//! A PUB socket for tools: sends [`RawEnvelope`]s exactly as they were received or recorded.

use std::time::Duration;

use crate::codec::Codec;
use crate::context::Context;
use crate::envelope::RawEnvelope;
use crate::error::Result;
use crate::payload::Payload;
use crate::publisher::{Publisher, PublisherBuilder};
use crate::security::{Curve, SecurityStats};

/// A publisher that sends [`RawEnvelope`]s as they are: topic, origin, codec, type fingerprint,
/// epoch, sequence number, timestamp and payload bytes all come from the envelope, so receivers
/// see what the original publisher sent. `hermes replay` re-publishes recordings with it.
///
/// It is an XPUB socket, so [`wait_for_subscriber`](RawPublisher::wait_for_subscriber) can wait
/// for a subscription before the first envelope. Like a [`Publisher`], it never blocks on
/// sending, and it is `Send` but not `Sync`.
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<hermes_runtime::RawPublisher>();
/// ```
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::{Codec, Context, RawEnvelope, RawPublisher, RawReceiver};
///
/// let context = Context::new();
/// let mut publisher = RawPublisher::builder(&context).bind("tcp://127.0.0.1:0")?;
/// let mut receiver = RawReceiver::builder(&context).topic("quotes").connect(&publisher.endpoints()[0])?;
/// publisher.wait_for_subscriber(Codec::Json, "quotes/kraken", Duration::from_secs(5))?;
///
/// let raw = RawEnvelope::new("quotes/kraken", "feed", Codec::Json, Some(7), 3, 41, 1_000, b"1.5".to_vec());
/// publisher.send(&raw)?;
/// assert_eq!(receiver.recv_timeout(Duration::from_secs(5))?, raw);
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
pub struct RawPublisher {
    inner: Publisher<Payload>,
}

impl RawPublisher {
    /// Starts configuring a raw publisher on `context`.
    pub fn builder(context: &Context) -> RawPublisherBuilder {
        RawPublisherBuilder {
            // The inner publisher's own topic and origin are never sent: each envelope brings
            // its own.
            inner: Publisher::<Payload>::builder(context)
                .topic("raw")
                .origin("raw")
                .xpub(),
        }
    }

    /// Sends `envelope` as it is.
    ///
    /// Never blocks: a peer at its high-water mark misses the envelope, and receivers count it
    /// as lost from the sequence gap.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`](crate::Error::Disconnected) when the context is terminating;
    /// [`Error::Zmq`](crate::Error::Zmq) otherwise.
    pub fn send(&mut self, envelope: &RawEnvelope) -> Result<()> {
        self.inner.send_raw(envelope)
    }

    /// Waits at most `timeout` until a subscriber that receives `topic` in `codec`'s framing is
    /// connected (as [`Publisher::wait_for_subscriber`] does for its default topic).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`](crate::Error::Timeout) when none came in time;
    /// [`Error::Disconnected`](crate::Error::Disconnected) when the context is terminating.
    pub fn wait_for_subscriber(
        &mut self,
        codec: Codec,
        topic: &str,
        timeout: Duration,
    ) -> Result<()> {
        self.inner.wait_for_subscriber_to(codec, topic, timeout)
    }

    /// Envelopes sent so far.
    pub fn sent(&self) -> u64 {
        self.inner.sent()
    }

    /// The endpoints bound or connected, as resolved.
    pub fn endpoints(&self) -> &[String] {
        self.inner.endpoints()
    }

    /// Also binds `endpoint`, returning it as resolved.
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`](crate::Error::Endpoint) or [`Error::Zmq`](crate::Error::Zmq).
    pub fn bind(&mut self, endpoint: &str) -> Result<String> {
        self.inner.bind(endpoint)
    }

    /// Also connects to `endpoint`.
    ///
    /// # Errors
    ///
    /// As [`bind`](RawPublisher::bind).
    pub fn connect(&mut self, endpoint: &str) -> Result<()> {
        self.inner.connect(endpoint)
    }

    /// What this publisher refused as a CURVE server (see [`Publisher::security_stats`]).
    pub fn security_stats(&self) -> SecurityStats {
        self.inner.security_stats()
    }
}

impl std::fmt::Debug for RawPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPublisher")
            .field("endpoints", &self.inner.endpoints())
            .field("sent", &self.inner.sent())
            .finish_non_exhaustive()
    }
}

/// Configures a [`RawPublisher`]; finish with [`bind`](RawPublisherBuilder::bind) or
/// [`connect`](RawPublisherBuilder::connect).
#[must_use = "a builder does nothing until `bind` or `connect`"]
pub struct RawPublisherBuilder {
    inner: PublisherBuilder<Payload>,
}

impl std::fmt::Debug for RawPublisherBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPublisherBuilder")
            .finish_non_exhaustive()
    }
}

impl RawPublisherBuilder {
    /// The send high-water mark, in envelopes; 0 means no limit. Default 1000.
    pub fn hwm(self, hwm: u32) -> Self {
        RawPublisherBuilder {
            inner: self.inner.hwm(hwm),
        }
    }

    /// How long closing waits for unsent envelopes. Default 500 ms.
    pub fn linger(self, linger: Duration) -> Self {
        RawPublisherBuilder {
            inner: self.inner.linger(linger),
        }
    }

    /// Encrypts and authenticates the socket's links with CURVE, as
    /// [`PublisherBuilder::curve`] does.
    pub fn curve(self, curve: Curve) -> Self {
        RawPublisherBuilder {
            inner: self.inner.curve(curve),
        }
    }

    /// Makes the publisher and binds `endpoint`.
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`](crate::Error::Endpoint) or [`Error::Zmq`](crate::Error::Zmq).
    pub fn bind(self, endpoint: &str) -> Result<RawPublisher> {
        self.inner
            .bind(endpoint)
            .map(|inner| RawPublisher { inner })
    }

    /// Makes the publisher and connects it to `endpoint`.
    ///
    /// # Errors
    ///
    /// As [`bind`](RawPublisherBuilder::bind).
    pub fn connect(self, endpoint: &str) -> Result<RawPublisher> {
        self.inner
            .connect(endpoint)
            .map(|inner| RawPublisher { inner })
    }
}
