//! Counting the handshakes a CURVE server fails before its ZAP handler is asked.
//!
//! A client without CURVE (mechanism mismatch) or with the wrong server key (a HELLO that
//! cannot be opened) is dropped inside libzmq; only a socket monitor hears of it. Each
//! server socket therefore gets a monitor, and its owner reads the events on its own thread.
//!
//! Who counts what, so that each refusal is counted once:
//!
//! | libzmq event | counted by |
//! | --- | --- |
//! | `HANDSHAKE_FAILED_PROTOCOL` (no CURVE, wrong server key, malformed handshake) | the monitor |
//! | `HANDSHAKE_FAILED_NO_DETAIL` (a peer that left or timed out mid-handshake) | the monitor |
//! | `HANDSHAKE_FAILED_AUTH` with status 400 (the ZAP handler refused the key) | the ZAP handler, which saw the key and the peer's address; the monitor skips it |
//! | `HANDSHAKE_FAILED_AUTH` with any other status (a ZAP 300 or 500) | the monitor |

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::access::{Counters, LogLimiter};
use crate::context::Context;
use crate::error::{Error, Result};

/// The ZAP status of a refused key: counted by the handler that answered it.
const ZAP_REFUSED: u32 = 400;

/// The events a server socket's monitor reports.
fn events() -> i32 {
    i32::from(
        zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL.to_raw()
            | zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL.to_raw()
            | zmq::SocketEvent::HANDSHAKE_FAILED_AUTH.to_raw(),
    )
}

/// One monitor event: its id, its value (an errno, a protocol error code or a ZAP status) and
/// the endpoint it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) id: u16,
    pub(crate) value: u32,
    pub(crate) endpoint: String,
}

impl Event {
    /// Reads the two frames of a libzmq 4 monitor event: 6 bytes (event id `u16`, value
    /// `u32`, native byte order) and the endpoint. `None` for anything else.
    pub(crate) fn parse(frames: &[Vec<u8>]) -> Option<Event> {
        let [head, endpoint] = frames else {
            return None;
        };
        let head: &[u8; 6] = head.as_slice().try_into().ok()?;
        Some(Event {
            id: u16::from_ne_bytes([head[0], head[1]]),
            value: u32::from_ne_bytes([head[2], head[3], head[4], head[5]]),
            endpoint: String::from_utf8_lossy(endpoint).into_owned(),
        })
    }

    /// Whether this event is a refusal the monitor counts (see the module's table).
    pub(crate) fn is_counted_refusal(&self) -> bool {
        let auth = zmq::SocketEvent::HANDSHAKE_FAILED_AUTH.to_raw();
        let failed = zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL.to_raw()
            | zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL.to_raw();
        (self.id & failed != 0) || (self.id == auth && self.value != ZAP_REFUSED)
    }

    fn reason(&self) -> &'static str {
        if self.id == zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL.to_raw() {
            "the handshake broke the protocol (no CURVE, or the wrong server key)"
        } else if self.id == zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL.to_raw() {
            "the peer left or timed out during the handshake"
        } else {
            "the authenticator failed"
        }
    }
}

/// A server socket's monitor: a PAIR socket reading its handshake failures, counted in the
/// socket's [`Counters`] when its owner [`drain`](HandshakeMonitor::drain)s it.
pub(crate) struct HandshakeMonitor {
    reader: zmq::Socket,
    counters: Arc<Counters>,
    label: String,
    limiter: RefCell<LogLimiter>,
}

impl std::fmt::Debug for HandshakeMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeMonitor")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl HandshakeMonitor {
    /// Monitors `socket` (before it binds, so no handshake is missed).
    pub(crate) fn attach(
        context: &Context,
        socket: &zmq::Socket,
        counters: Arc<Counters>,
        label: &str,
    ) -> Result<HandshakeMonitor> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let endpoint = format!(
            "inproc://hermes-monitor-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        socket
            .monitor(&endpoint, events())
            .map_err(Error::zmq_at("monitor", &endpoint))?;
        let reader = context.socket(zmq::PAIR)?;
        reader.set_linger(0).map_err(Error::zmq("set linger"))?;
        // Connected before the socket binds: libzmq drops events nobody is connected for.
        reader
            .connect(&endpoint)
            .map_err(Error::zmq_at("connect", &endpoint))?;
        Ok(HandshakeMonitor {
            reader,
            counters,
            label: label.to_owned(),
            limiter: RefCell::default(),
        })
    }

    /// The socket to poll for events.
    pub(crate) fn socket(&self) -> &zmq::Socket {
        &self.reader
    }

    /// Counts (and logs, at most once a second per endpoint) every event waiting now.
    pub(crate) fn drain(&self) {
        loop {
            let frames = match self.reader.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => frames,
                Err(zmq::Error::EINTR) => continue,
                Err(_) => return,
            };
            let Some(event) = Event::parse(&frames) else {
                continue;
            };
            if !event.is_counted_refusal() {
                continue;
            }
            let refused = self.counters.refused_connection();
            // libzmq 4.3's monitor names the bound endpoint, not the peer's address.
            let key = format!("{}\u{0}{}", self.label, event.endpoint);
            if self.limiter.borrow_mut().allow(&key) {
                tracing::warn!(
                    socket = %self.label,
                    endpoint = %event.endpoint,
                    code = event.value,
                    refused_connections = refused,
                    "refused a connection: {}",
                    event.reason()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(id: zmq::SocketEvent, value: u32) -> Vec<Vec<u8>> {
        let mut head = id.to_raw().to_ne_bytes().to_vec();
        head.extend_from_slice(&value.to_ne_bytes());
        vec![head, b"tcp://127.0.0.1:5555".to_vec()]
    }

    #[test]
    fn protocol_failures_are_counted_and_zap_refusals_are_left_to_the_handler() {
        let event = |id, value| Event::parse(&frames(id, value)).unwrap();
        assert!(event(zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL, 0x11).is_counted_refusal());
        assert!(event(zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL, 104).is_counted_refusal());
        assert!(!event(zmq::SocketEvent::HANDSHAKE_FAILED_AUTH, 400).is_counted_refusal());
        assert!(event(zmq::SocketEvent::HANDSHAKE_FAILED_AUTH, 500).is_counted_refusal());
        assert!(!event(zmq::SocketEvent::HANDSHAKE_SUCCEEDED, 0).is_counted_refusal());
        assert_eq!(
            event(zmq::SocketEvent::HANDSHAKE_FAILED_AUTH, 400).endpoint,
            "tcp://127.0.0.1:5555"
        );
    }

    #[test]
    fn frames_that_are_no_event_are_ignored() {
        assert_eq!(Event::parse(&[]), None);
        assert_eq!(Event::parse(&[vec![1, 2, 3], Vec::new()]), None);
        assert_eq!(Event::parse(&[vec![0; 6]]), None);
    }
}
