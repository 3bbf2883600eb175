//! Starting a process so that no first message goes to nobody: readiness, and publishers that
//! wait for the subscribers the topology declares.
//!
//! ZeroMQ's slow joiner: a PUB socket drops what it sends before a subscription reaches it.
//! Two steps close that at startup, both bounded:
//!
//! 1. A process is *ready* once every subscription it connects has completed its handshake
//!    (so the subscription is on its way to the proxy or publisher). `hermes up` waits for
//!    that, through the ready file, before it starts the publishers of those topics; Kubernetes
//!    reads it from `/readyz`.
//! 2. A publication that the topology gives subscribers waits, before its node starts, until a
//!    subscription for its topic has reached it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hermes_core::{ProxySide, topic};

use super::info::{PortWiring, TopologyInfo};
use crate::context::Context;
use crate::error::{Error, Result};

/// How a process starts: how long publications wait for their subscribers, and where it says
/// that it is ready.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::topology::{PortInfo, PortWiring, ProxySide, NodeInfo, Startup, TopologyInfo};
/// use hermes_runtime::Codec;
///
/// const OUT: PortInfo = PortInfo::of::<serde_json::Value>("quotes/a", Codec::Json, 1000, PortWiring::Proxy("m", ProxySide::Frontend));
/// const IN: PortInfo = PortInfo::of::<serde_json::Value>("quotes", Codec::Json, 1000, PortWiring::Proxy("m", ProxySide::Backend));
/// static TOPOLOGY: TopologyInfo = TopologyInfo::new("t", &[], &[], &[], &[
///     NodeInfo::new("feed", &[OUT], &[]),
///     NodeInfo::new("monitor", &[], &[IN]),
/// ]);
/// let startup = Startup::new(&TOPOLOGY, Duration::from_secs(5));
/// assert!(startup.expects_subscribers("feed", "quotes/a"));
/// assert!(!startup.expects_subscribers("monitor", "quotes"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Startup {
    /// How long a publication with declared subscribers waits for the first subscription
    /// before its node starts; zero does not wait (ZeroMQ's behaviour).
    pub subscriber_wait: Duration,
    /// A file written (empty) once the process is ready; removed when it stops.
    pub ready_file: Option<PathBuf>,
    /// Publications, as (node, topic), that some node of the topology subscribes to.
    expected: BTreeSet<(String, String)>,
}

/// Where a port meets its peers: a proxy or a direct channel, by name.
fn meeting_point(wiring: PortWiring) -> (bool, &'static str) {
    match wiring {
        PortWiring::Proxy(proxy, _) => (true, proxy),
        PortWiring::Bind(channel, _) | PortWiring::Connect(channel, _) => (false, channel),
    }
}

impl Startup {
    /// Waiting up to `subscriber_wait` for the subscribers `topology` declares.
    pub fn new(topology: &TopologyInfo, subscriber_wait: Duration) -> Startup {
        let mut expected = BTreeSet::new();
        for node in topology.nodes {
            for publication in node.publishes {
                let place = meeting_point(publication.wiring);
                let subscribed = topology.nodes.iter().any(|peer| {
                    peer.subscribes.iter().any(|subscription| {
                        let side_ok = !matches!(
                            subscription.wiring,
                            PortWiring::Proxy(_, ProxySide::Frontend)
                        );
                        side_ok
                            && meeting_point(subscription.wiring) == place
                            && topic::matches(subscription.topic, publication.topic)
                    })
                });
                if subscribed {
                    expected.insert((node.name.to_owned(), publication.topic.to_owned()));
                }
            }
        }
        Startup {
            subscriber_wait,
            ready_file: None,
            expected,
        }
    }

    /// Whether the topology gives `node`'s publication of `topic` a subscriber.
    pub fn expects_subscribers(&self, node: &str, topic: &str) -> bool {
        self.expected.contains(&(node.to_owned(), topic.to_owned()))
    }

    /// Whether the publication waits for its subscribers.
    pub(crate) fn waits_for(&self, node: &str, topic: &str) -> bool {
        !self.subscriber_wait.is_zero() && self.expects_subscribers(node, topic)
    }

    /// Whether subscriptions' handshakes are awaited before the process counts as ready.
    pub(crate) fn awaits_connections(&self) -> bool {
        !self.subscriber_wait.is_zero() || self.ready_file.is_some()
    }

    /// How long connections get to complete before the process is ready anyway.
    pub(crate) fn connection_wait(&self) -> Duration {
        if self.subscriber_wait.is_zero() {
            DEFAULT_CONNECTION_WAIT
        } else {
            self.subscriber_wait
        }
    }

    /// Says the process is ready: writes the ready file, if there is one.
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`] naming the file when it cannot be written.
    pub fn signal_ready(&self) -> Result<()> {
        if let Some(path) = &self.ready_file {
            std::fs::write(path, b"").map_err(|error| Error::Endpoint {
                endpoint: String::new(),
                reason: format!("cannot write the ready file `{}`: {error}", path.display()),
            })?;
        }
        Ok(())
    }

    /// Removes the ready file, if there is one.
    pub fn clear_ready(&self) {
        if let Some(path) = &self.ready_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// How long a process waits for its subscriptions' handshakes when it only writes a ready file.
const DEFAULT_CONNECTION_WAIT: Duration = Duration::from_secs(5);

/// A socket monitor counting one socket's completed handshakes.
pub(crate) struct HandshakeWatch {
    monitor: zmq::Socket,
    endpoint: String,
}

impl std::fmt::Debug for HandshakeWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeWatch")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl HandshakeWatch {
    /// Watches `socket` (before it connects to `endpoint`) for completed handshakes.
    pub(crate) fn new(
        context: &Context,
        socket: &zmq::Socket,
        endpoint: &str,
    ) -> Result<HandshakeWatch> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let address = format!(
            "inproc://hermes-ready-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let events = i32::from(zmq::SocketEvent::HANDSHAKE_SUCCEEDED.to_raw());
        socket
            .monitor(&address, events)
            .map_err(Error::zmq("monitor handshakes"))?;
        let monitor = context.socket(zmq::PAIR)?;
        monitor
            .connect(&address)
            .map_err(Error::zmq("connect the handshake monitor"))?;
        Ok(HandshakeWatch {
            monitor,
            endpoint: endpoint.to_owned(),
        })
    }

    /// Waits until the handshake completes or `deadline` passes; whether it completed.
    pub(crate) fn wait(&self, deadline: Instant) -> Result<bool> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            let millis = i64::try_from(left.as_millis().max(1)).unwrap_or(i64::MAX);
            let ready = self
                .monitor
                .poll(zmq::POLLIN, millis)
                .map_err(Error::zmq("wait for a handshake"))?;
            if ready == 0 {
                continue;
            }
            let frames = self
                .monitor
                .recv_multipart(0)
                .map_err(Error::zmq("read the handshake monitor"))?;
            let event = crate::security::monitor::Event::parse(&frames);
            if event.is_some_and(|event| event.id == zmq::SocketEvent::HANDSHAKE_SUCCEEDED.to_raw())
            {
                return Ok(true);
            }
        }
    }

    /// The endpoint it watches.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Stops `socket` reporting to this watch. libzmq sends monitor events without
    /// `ZMQ_DONTWAIT`, so a monitor nobody reads any more would block the next event (a
    /// reconnect's handshake) and with it the socket. `zmq` 0.10 cannot pass the NULL endpoint
    /// that stops a monitor, so the socket gets a new one that reports no events, which
    /// replaces this one.
    pub(crate) fn disarm(self, socket: &zmq::Socket) -> Result<()> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let address = format!(
            "inproc://hermes-ready-off-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        socket
            .monitor(&address, 0)
            .map_err(Error::zmq("stop monitoring handshakes"))
    }
}
