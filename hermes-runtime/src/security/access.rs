//! Who may connect, publish and subscribe: the topology's declarations as a value.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hermes_core::topic::matches;

use super::keys::{KeyPair, PublicKey};

/// A peer a secured socket admits: its name (the ZAP `User-Id`), its public key, and the topics
/// it declared.
///
/// A peer may publish a topic equal to or below (by whole `/` segments) one of `publish`, and
/// may subscribe to a prefix equal to or below one of `subscribe`; an `operator` may subscribe
/// to anything. `publish: vec![String::new()]` allows every topic.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{KeyPair, Peer};
///
/// let trader = Peer::new("trader", KeyPair::generate()?.public())
///     .publishes(["orders"])
///     .subscribes(["quotes"]);
/// assert!(trader.may_publish("orders/bitstamp"));
/// assert!(!trader.may_publish("orders_raw"));
/// assert!(trader.may_subscribe("quotes/bitstamp"));
/// assert!(!trader.may_subscribe("")); // everything: operators only
/// # Ok::<(), hermes_runtime::KeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Peer {
    /// The peer's name: a node's name, or an operator's.
    pub name: String,
    /// Its CURVE public key.
    pub key: PublicKey,
    /// Topics it declared it publishes.
    pub publish: Vec<String>,
    /// Topics it declared it subscribes to.
    pub subscribe: Vec<String>,
    /// Whether it is an operator (tap, stats, record), which may subscribe to anything.
    pub operator: bool,
}

impl Peer {
    /// A peer that may connect but neither publish nor subscribe.
    pub fn new(name: impl Into<String>, key: PublicKey) -> Peer {
        Peer {
            name: name.into(),
            key,
            publish: Vec::new(),
            subscribe: Vec::new(),
            operator: false,
        }
    }

    /// An operator: may subscribe to anything.
    pub fn operator(name: impl Into<String>, key: PublicKey) -> Peer {
        Peer {
            operator: true,
            ..Peer::new(name, key)
        }
    }

    /// Adds topics it publishes.
    pub fn publishes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, topics: I) -> Peer {
        self.publish.extend(topics.into_iter().map(Into::into));
        self
    }

    /// Adds topics it subscribes to.
    pub fn subscribes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, topics: I) -> Peer {
        self.subscribe.extend(topics.into_iter().map(Into::into));
        self
    }

    /// Whether it may publish on `topic`.
    pub fn may_publish(&self, topic: &str) -> bool {
        self.publish.iter().any(|declared| matches(declared, topic))
    }

    /// Whether it may subscribe to the topic prefix `prefix`.
    pub fn may_subscribe(&self, prefix: &str) -> bool {
        self.operator
            || self
                .subscribe
                .iter()
                .any(|declared| matches(declared, prefix))
    }
}

/// The peers one secured socket admits; any other key is refused at the handshake.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{Access, KeyPair, Peer};
///
/// let key = KeyPair::generate()?.public();
/// let access = Access::new([Peer::new("trader", key).publishes(["orders"])]);
/// assert_eq!(access.peers().len(), 1);
/// assert_eq!(access.peer("trader").map(|peer| peer.key), Some(key));
/// # Ok::<(), hermes_runtime::KeyError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    peers: Vec<Peer>,
}

impl Access {
    /// Admits exactly `peers`.
    pub fn new(peers: impl IntoIterator<Item = Peer>) -> Access {
        Access {
            peers: peers.into_iter().collect(),
        }
    }

    /// The peers admitted.
    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// The peer named `name`.
    pub fn peer(&self, name: &str) -> Option<&Peer> {
        self.peers.iter().find(|peer| peer.name == name)
    }

    /// The peer whose key is `key`.
    pub(crate) fn peer_with_key(&self, key: &[u8]) -> Option<&Peer> {
        self.peers.iter().find(|peer| peer.key.as_bytes() == key)
    }
}

/// How a socket uses CURVE: as a server that admits the peers of an [`Access`], or as a
/// client that knows its server's public key.
///
/// Binding sockets (a proxy's, a node's bound port) are servers; connecting ones are clients.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::{Access, Context, Curve, KeyPair, Peer, Publisher, Receiver};
/// use serde_json::{Value, json};
///
/// let context = Context::new();
/// let (server, client) = (KeyPair::generate()?, KeyPair::generate()?);
/// let access = Access::new([Peer::new("ticker", client.public()).publishes(["ticks"])]);
/// let mut receiver = Receiver::<Value>::builder(&context)
///     .topic("ticks")
///     .curve(Curve::Server { keys: server.clone(), access })
///     .bind("tcp://127.0.0.1:0")?;
/// let mut publisher = Publisher::<Value>::builder(&context)
///     .topic("ticks")
///     .curve(Curve::Client { keys: client, server: server.public() })
///     .connect(&receiver.endpoints()[0])?;
/// let envelope = loop {
///     publisher.send(&json!(1))?;
///     if let Ok(envelope) = receiver.recv_timeout(Duration::from_millis(20)) {
///         break envelope;
///     }
/// };
/// assert_eq!(envelope.topic, "ticks");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Curve {
    /// A CURVE server: its own key pair, and the peers it admits.
    Server {
        /// The server's key pair.
        keys: KeyPair,
        /// Who may connect, and what each may publish and subscribe to.
        access: Access,
    },
    /// A CURVE client: its own key pair, and the public key of the server it connects to.
    Client {
        /// The client's key pair.
        keys: KeyPair,
        /// The server's public key.
        server: PublicKey,
    },
}

/// The keys and access of a secured [`Proxy`](crate::Proxy): each of its sockets is a CURVE
/// server with its own [`Access`].
///
/// # Examples
///
/// ```
/// use hermes_runtime::{Access, KeyPair, Peer, ProxySecurity};
///
/// let operator = Peer::operator("ops", KeyPair::generate()?.public());
/// let security = ProxySecurity::new(KeyPair::generate()?)
///     .frontend(Access::new([]))
///     .backend(Access::new([operator.clone()]))
///     .capture(Access::new([operator]));
/// assert_eq!(security.backend.peers().len(), 1);
/// # Ok::<(), hermes_runtime::KeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxySecurity {
    /// The proxy's key pair, the same on its three sockets.
    pub keys: KeyPair,
    /// Who may connect to the frontend: the nodes that publish through the proxy.
    pub frontend: Access,
    /// Who may connect to the backend: the nodes that subscribe through it, and operators.
    pub backend: Access,
    /// Who may connect to the capture socket: operators.
    pub capture: Access,
}

impl ProxySecurity {
    /// Security with these keys, admitting nobody yet.
    pub fn new(keys: KeyPair) -> ProxySecurity {
        ProxySecurity {
            keys,
            frontend: Access::default(),
            backend: Access::default(),
            capture: Access::default(),
        }
    }

    /// Who may connect to the frontend.
    pub fn frontend(mut self, access: Access) -> ProxySecurity {
        self.frontend = access;
        self
    }

    /// Who may connect to the backend.
    pub fn backend(mut self, access: Access) -> ProxySecurity {
        self.backend = access;
        self
    }

    /// Who may connect to the capture socket.
    pub fn capture(mut self, access: Access) -> ProxySecurity {
        self.capture = access;
        self
    }
}

/// What a secured socket (or all of a proxy's) refused, counted.
///
/// # Examples
///
/// ```
/// let stats = hermes_runtime::SecurityStats::default();
/// assert_eq!(stats.refused_connections + stats.dropped_publications + stats.dropped_subscriptions, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct SecurityStats {
    /// Connections refused at the CURVE handshake: keys the ZAP handler refused, and
    /// handshakes that failed before it was asked (no CURVE, the wrong server key, a peer
    /// that left mid-handshake), as the socket's monitor reports them. Each is counted once.
    pub refused_connections: u64,
    /// Envelopes dropped because their sender may not publish their topic.
    pub dropped_publications: u64,
    /// Subscriptions not applied because the subscriber may not subscribe to them.
    pub dropped_subscriptions: u64,
}

impl SecurityStats {
    /// Adds another socket's counts to these.
    pub fn merge(&mut self, other: &SecurityStats) {
        self.refused_connections += other.refused_connections;
        self.dropped_publications += other.dropped_publications;
        self.dropped_subscriptions += other.dropped_subscriptions;
    }
}

/// The counters behind [`SecurityStats`], shared by a socket's owner and the ZAP handler.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    refused_connections: AtomicU64,
    dropped_publications: AtomicU64,
    dropped_subscriptions: AtomicU64,
}

impl Counters {
    pub(crate) fn refused_connection(&self) -> u64 {
        self.refused_connections.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn dropped_publication(&self) -> u64 {
        self.dropped_publications.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn dropped_subscription(&self) -> u64 {
        self.dropped_subscriptions.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn snapshot(&self) -> SecurityStats {
        SecurityStats {
            refused_connections: self.refused_connections.load(Ordering::Relaxed),
            dropped_publications: self.dropped_publications.load(Ordering::Relaxed),
            dropped_subscriptions: self.dropped_subscriptions.load(Ordering::Relaxed),
        }
    }
}

/// Logs at most once a second per key (a peer's name or address).
#[derive(Debug, Default)]
pub(crate) struct LogLimiter {
    last: HashMap<String, Instant>,
}

impl LogLimiter {
    /// Whether something about `key` may be logged now; if so, remembers that it was.
    pub(crate) fn allow(&mut self, key: &str) -> bool {
        let now = Instant::now();
        match self.last.get_mut(key) {
            Some(last) if now.duration_since(*last) < Duration::from_secs(1) => false,
            Some(last) => {
                *last = now;
                true
            }
            None => {
                if self.last.len() > 4096 {
                    // A flood of addresses must not grow the map without bound.
                    self.last.clear();
                }
                self.last.insert(key.to_owned(), now);
                true
            }
        }
    }
}

/// The topic of an envelope from its first frame: a JSON string under `python-json` (it starts
/// with `"`), the raw UTF-8 topic otherwise. `None` when it is neither.
pub(crate) fn frame_topic(frame: &[u8]) -> Option<Cow<'_, str>> {
    if frame.first() == Some(&b'"') {
        serde_json::from_slice::<String>(frame).ok().map(Cow::Owned)
    } else {
        std::str::from_utf8(frame).ok().map(Cow::Borrowed)
    }
}

/// The topic prefix a subscription's bytes ask for, under either framing (a `python-json`
/// subscription is a JSON string without its closing quote). `None` when it is neither.
pub(crate) fn subscription_topic(prefix: &[u8]) -> Option<String> {
    if prefix.first() == Some(&b'"') {
        let mut closed = prefix.to_vec();
        closed.push(b'"');
        serde_json::from_slice::<String>(&closed).ok()
    } else {
        std::str::from_utf8(prefix).ok().map(str::to_owned)
    }
}

/// One secured server socket's view: its access, its counters, its log limiter.
#[derive(Debug)]
pub(crate) struct Guard {
    pub(crate) access: Arc<Access>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) label: String,
    /// A topic nobody may publish here, whatever they declared (a proxy's reports).
    reserved: Option<&'static str>,
    limiter: LogLimiter,
}

impl Guard {
    pub(crate) fn new(access: Arc<Access>, counters: Arc<Counters>, label: String) -> Guard {
        Guard {
            access,
            counters,
            label,
            reserved: None,
            limiter: LogLimiter::default(),
        }
    }

    /// Refuses every publication on `topic` and below, declared or not.
    pub(crate) fn reserve(&mut self, topic: &'static str) {
        self.reserved = Some(topic);
    }

    /// Whether the peer named `user` (the message's `User-Id`) may publish the envelope whose
    /// first frame is `topic_frame`; counts and logs it when not.
    pub(crate) fn admit_publication(&mut self, user: Option<&str>, topic_frame: &[u8]) -> bool {
        let topic = frame_topic(topic_frame);
        let peer = user.and_then(|user| self.access.peer(user));
        let allowed = match (peer, &topic) {
            (Some(peer), Some(topic)) => {
                peer.may_publish(topic)
                    && !self
                        .reserved
                        .is_some_and(|reserved| matches(reserved, topic))
            }
            _ => false,
        };
        if !allowed {
            let count = self.counters.dropped_publication();
            let who = user.unwrap_or("<unknown>");
            if self.limiter.allow(who) {
                tracing::warn!(
                    socket = %self.label,
                    peer = who,
                    topic = topic.as_deref().unwrap_or("<not text>"),
                    dropped_publications = count,
                    "dropped an envelope on a topic the peer did not declare"
                );
            }
        }
        allowed
    }

    /// Whether the peer named `user` may subscribe to `prefix` (a subscription's bytes);
    /// counts and logs it when not.
    pub(crate) fn admit_subscription(&mut self, user: Option<&str>, prefix: &[u8]) -> bool {
        let topic = subscription_topic(prefix);
        let peer = user.and_then(|user| self.access.peer(user));
        let allowed = match (peer, &topic) {
            (Some(peer), Some(topic)) => peer.may_subscribe(topic),
            _ => false,
        };
        if !allowed {
            let count = self.counters.dropped_subscription();
            let who = user.unwrap_or("<unknown>");
            if self.limiter.allow(who) {
                tracing::warn!(
                    socket = %self.label,
                    peer = who,
                    prefix = topic.as_deref().unwrap_or("<not text>"),
                    dropped_subscriptions = count,
                    "refused a subscription the peer did not declare"
                );
            }
        }
        allowed
    }

    /// Whether the peer named `user` may subscribe to `prefix`, without counting: for its
    /// unsubscriptions, which undo only what was applied.
    pub(crate) fn may_subscribe(&self, user: Option<&str>, prefix: &[u8]) -> bool {
        let peer = user.and_then(|user| self.access.peer(user));
        match (peer, subscription_topic(prefix)) {
            (Some(peer), Some(topic)) => peer.may_subscribe(&topic),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_read_in_either_framing() {
        assert_eq!(frame_topic(b"quotes/a").as_deref(), Some("quotes/a"));
        assert_eq!(frame_topic(b"\"quotes/a\"").as_deref(), Some("quotes/a"));
        assert_eq!(frame_topic(b"\"unterminated"), None);
        assert_eq!(subscription_topic(b"\"quotes").as_deref(), Some("quotes"));
        assert_eq!(subscription_topic(b"\"").as_deref(), Some(""));
        assert_eq!(subscription_topic(b"quo").as_deref(), Some("quo"));
        assert_eq!(subscription_topic(b"\"a\\"), None);
    }

    #[test]
    fn the_log_limiter_allows_one_line_a_second_per_key() {
        let mut limiter = LogLimiter::default();
        assert!(limiter.allow("a"));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"));
    }
}
