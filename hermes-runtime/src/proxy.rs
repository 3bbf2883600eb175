//! The proxy (hermes-zmq's PostOffice): one address for a whole cluster.

use std::thread::JoinHandle;

use crate::context::Context;
use crate::endpoint::{self, Attach};
use crate::error::{Error, Result};
use crate::shutdown::Shutdown;

/// Where a [`Proxy`] binds its sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// The XSUB socket publishers connect to.
    pub frontend: String,
    /// The XPUB socket subscribers connect to.
    pub backend: String,
    /// An optional PUB socket that sees every envelope passing through.
    pub capture: Option<String>,
    /// High-water mark of each socket, in envelopes; 0 means no limit.
    pub hwm: i32,
}

impl Default for ProxyConfig {
    /// The Python original's addresses: tcp://127.0.0.1:6000, 6001 and capture 6002.
    fn default() -> Self {
        ProxyConfig {
            frontend: "tcp://127.0.0.1:6000".to_owned(),
            backend: "tcp://127.0.0.1:6001".to_owned(),
            capture: Some("tcp://127.0.0.1:6002".to_owned()),
            hwm: 1000,
        }
    }
}

impl ProxyConfig {
    /// A configuration with these frontend and backend endpoints and no capture socket.
    pub fn new(frontend: impl Into<String>, backend: impl Into<String>) -> ProxyConfig {
        ProxyConfig {
            frontend: frontend.into(),
            backend: backend.into(),
            capture: None,
            hwm: 1000,
        }
    }

    /// Adds a capture socket at `endpoint`.
    pub fn with_capture(mut self, endpoint: impl Into<String>) -> ProxyConfig {
        self.capture = Some(endpoint.into());
        self
    }
}

/// An XSUB→XPUB forwarder running on its own thread, with an optional capture socket.
///
/// Publishers connect to the frontend, subscribers to the backend; subscriptions travel
/// upstream, so publishers only send what someone wants. The sockets are bound before
/// [`spawn`](Proxy::spawn) returns, so a bind error is reported to the caller, and the endpoints
/// it returns are the real ones (`tcp://127.0.0.1:0` gets a free port).
///
/// # Examples
///
/// ```
/// use hermes_runtime::{Context, Proxy, ProxyConfig};
///
/// let context = Context::new();
/// let config = ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0").with_capture("inproc://capture");
/// let proxy = Proxy::spawn(&context, config)?;
/// assert!(proxy.frontend().starts_with("tcp://127.0.0.1:"));
/// assert_eq!(proxy.capture(), Some("inproc://capture"));
/// proxy.stop()?; // returns once the thread has joined
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
pub struct Proxy {
    frontend: String,
    backend: String,
    capture: Option<String>,
    shutdown: Shutdown,
    thread: Option<JoinHandle<Result<()>>>,
}

impl Proxy {
    /// Binds the proxy's sockets and starts forwarding on a new thread.
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`] or [`Error::Zmq`] when a socket cannot bind;
    /// [`Error::Thread`] when the thread cannot start.
    pub fn spawn(context: &Context, config: ProxyConfig) -> Result<Proxy> {
        let shutdown = Shutdown::new(context)?;
        Proxy::spawn_with(context, config, shutdown, "hermes-proxy".to_owned())
    }

    /// As [`spawn`](Proxy::spawn), stopped by `shutdown` (a runtime's).
    pub(crate) fn spawn_with(
        context: &Context,
        config: ProxyConfig,
        shutdown: Shutdown,
        thread_name: String,
    ) -> Result<Proxy> {
        let frontend_socket = context.socket(zmq::XSUB)?;
        let backend_socket = context.socket(zmq::XPUB)?;
        for socket in [&frontend_socket, &backend_socket] {
            socket.set_linger(0).map_err(Error::zmq("set linger"))?;
            socket
                .set_rcvhwm(config.hwm)
                .map_err(Error::zmq("set receive high-water mark"))?;
            socket
                .set_sndhwm(config.hwm)
                .map_err(Error::zmq("set send high-water mark"))?;
        }
        let frontend = endpoint::attach(&frontend_socket, Attach::Bind, &config.frontend)?;
        let backend = endpoint::attach(&backend_socket, Attach::Bind, &config.backend)?;
        let capture_socket = match &config.capture {
            Some(endpoint) => {
                let socket = context.socket(zmq::PUB)?;
                socket.set_linger(0).map_err(Error::zmq("set linger"))?;
                socket
                    .set_sndhwm(config.hwm)
                    .map_err(Error::zmq("set send high-water mark"))?;
                let resolved = endpoint::attach(&socket, Attach::Bind, endpoint)?;
                Some((socket, resolved))
            }
            None => None,
        };
        let capture = capture_socket.as_ref().map(|(_, endpoint)| endpoint.clone());
        let control = shutdown.listener()?;
        let stop = shutdown.clone();
        let thread = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || {
                let (mut frontend_socket, mut backend_socket, mut control) =
                    (frontend_socket, backend_socket, control);
                let mut capture_socket = capture_socket;
                if stop.is_triggered() {
                    return Ok(());
                }
                let outcome = match &mut capture_socket {
                    Some((capture, _)) => zmq::proxy_steerable_with_capture(
                        &mut frontend_socket,
                        &mut backend_socket,
                        capture,
                        &mut control,
                    ),
                    None => zmq::proxy_steerable(
                        &mut frontend_socket,
                        &mut backend_socket,
                        &mut control,
                    ),
                };
                match outcome {
                    Ok(()) | Err(zmq::Error::ETERM) => Ok(()),
                    Err(err) => Err(Error::zmq("proxy")(err)),
                }
            })
            .map_err(|source| Error::Thread {
                name: thread_name,
                source,
            })?;
        Ok(Proxy {
            frontend,
            backend,
            capture,
            shutdown,
            thread: Some(thread),
        })
    }

    /// The frontend (XSUB) endpoint, as bound.
    pub fn frontend(&self) -> &str {
        &self.frontend
    }

    /// The backend (XPUB) endpoint, as bound.
    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// The capture endpoint, as bound.
    pub fn capture(&self) -> Option<&str> {
        self.capture.as_deref()
    }

    /// Stops forwarding and joins the thread.
    ///
    /// # Errors
    ///
    /// The error that ended the proxy thread, if one did.
    pub fn stop(mut self) -> Result<()> {
        self.shutdown.trigger();
        self.join_thread()
    }

    /// Waits for the proxy thread to end (after a stop, or after its runtime's shutdown).
    ///
    /// # Errors
    ///
    /// As [`stop`](Proxy::stop).
    pub fn join(mut self) -> Result<()> {
        self.join_thread()
    }

    fn join_thread(&mut self) -> Result<()> {
        match self.thread.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(outcome)) => outcome,
            Some(Err(_)) => Err(Error::Node {
                node: "proxy".to_owned(),
                reason: "the proxy thread panicked".to_owned(),
            }),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown.trigger();
            if let Err(err) = self.join_thread() {
                tracing::warn!(%err, "proxy ended with an error");
            }
        }
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("frontend", &self.frontend)
            .field("backend", &self.backend)
            .field("capture", &self.capture)
            .finish_non_exhaustive()
    }
}
