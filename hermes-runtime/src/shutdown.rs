//! A stop signal that wakes threads blocked in `zmq::poll`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::context::Context;
use crate::error::{Error, Result};

/// What proxies and nodes are told when they must stop; libzmq's steerable proxy stops on it.
pub(crate) const TERMINATE: &[u8] = b"TERMINATE";

/// A cloneable stop signal shared by a runtime's nodes and proxies.
///
/// Triggering it sets a flag and publishes `TERMINATE` on an `inproc://` PUB socket; every
/// listener (a SUB socket the runtime makes for each node and proxy) becomes readable, so a thread blocked
/// in `zmq::poll` wakes at once instead of polling a flag.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{Context, Shutdown};
///
/// let shutdown = Shutdown::new(&Context::new())?;
/// let waiter = shutdown.clone();
/// assert!(!waiter.is_triggered());
/// shutdown.trigger();
/// assert!(waiter.is_triggered());
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

struct Inner {
    triggered: AtomicBool,
    endpoint: String,
    context: Context,
    publisher: Mutex<zmq::Socket>,
}

impl Shutdown {
    /// A new, untriggered signal on `context`.
    ///
    /// # Errors
    ///
    /// [`Error::Zmq`] when the control socket cannot be made.
    pub fn new(context: &Context) -> Result<Shutdown> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let endpoint = format!(
            "inproc://hermes-shutdown-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let publisher = context.socket(zmq::PUB)?;
        publisher.set_linger(0).map_err(Error::zmq("set linger"))?;
        publisher
            .bind(&endpoint)
            .map_err(Error::zmq_at("bind", &endpoint))?;
        Ok(Shutdown {
            inner: Arc::new(Inner {
                triggered: AtomicBool::new(false),
                endpoint,
                context: context.clone(),
                publisher: Mutex::new(publisher),
            }),
        })
    }

    /// Asks every listener to stop. Idempotent.
    pub fn trigger(&self) {
        if self.inner.triggered.swap(true, Ordering::SeqCst) {
            return;
        }
        let publisher = self
            .inner
            .publisher
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(err) = publisher.send(TERMINATE, zmq::DONTWAIT) {
            tracing::warn!(%err, "cannot publish shutdown; listeners will see the flag");
        }
    }

    /// Whether [`trigger`](Shutdown::trigger) was called.
    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    /// A SUB socket that becomes readable when the signal triggers.
    ///
    /// Check [`is_triggered`](Shutdown::is_triggered) after making the listener and before
    /// blocking: a trigger that came first is seen through the flag.
    pub(crate) fn listener(&self) -> Result<zmq::Socket> {
        let socket = self.inner.context.socket(zmq::SUB)?;
        socket.set_linger(0).map_err(Error::zmq("set linger"))?;
        socket.set_subscribe(b"").map_err(Error::zmq("subscribe"))?;
        socket
            .connect(&self.inner.endpoint)
            .map_err(Error::zmq_at("connect", &self.inner.endpoint))?;
        Ok(socket)
    }
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("triggered", &self.is_triggered())
            .finish()
    }
}
