//! The runtime: many nodes and proxies as threads of one process.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver as Channel, RecvTimeoutError, Sender};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::node::Node;
use crate::proxy::{Proxy, ProxyConfig};
use crate::readiness::Readiness;
use crate::shutdown::Shutdown;

/// How long threads get to finish after the stop signal before they are reported as hung.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Why a node did not end cleanly.
#[derive(Debug)]
#[non_exhaustive]
pub enum NodeFailure {
    /// Its handler or socket failed.
    Failed {
        /// The node.
        node: String,
        /// The error it returned.
        error: Error,
    },
    /// Its thread panicked.
    Panicked {
        /// The node.
        node: String,
        /// The panic message.
        message: String,
    },
    /// It had not finished a second after the stop signal.
    DidNotStop {
        /// The node.
        node: String,
    },
}

impl std::fmt::Display for NodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeFailure::Failed { node, error } => write!(f, "`{node}` failed: {error}"),
            NodeFailure::Panicked { node, message } => write!(f, "`{node}` panicked: {message}"),
            NodeFailure::DidNotStop { node } => {
                write!(
                    f,
                    "`{node}` did not stop within {} ms",
                    STOP_GRACE.as_millis()
                )
            }
        }
    }
}

impl std::error::Error for NodeFailure {}

enum Event {
    Exited {
        index: usize,
        outcome: std::thread::Result<Result<()>>,
    },
    Stop,
}

struct Worker {
    name: String,
    is_proxy: bool,
    handle: Option<std::thread::JoinHandle<()>>,
    done: bool,
}

/// Runs nodes and proxies as threads of one process on one shared context.
///
/// A node that fails stops the whole runtime, and [`wait`](Runtime::wait) reports it; it is
/// never hidden. SIGINT and SIGTERM stop it gracefully in
/// [`run_until_signal`](Runtime::run_until_signal): every thread is joined within a second, and
/// publishers flush what they already accepted for at most their linger when the last socket of
/// the runtime's context closes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::{Node, ProxyConfig, Publisher, Receiver, Runtime};
/// use serde_json::{Value, json};
///
/// let mut runtime = Runtime::new()?;
/// let proxy = runtime.spawn_proxy("market", ProxyConfig::new("inproc://front", "inproc://back"))?;
/// let context = runtime.context().clone();
///
/// let inbox = Receiver::<Value>::builder(&context).topic("ticks").connect(&proxy.backend)?;
/// let mut ticks = Publisher::<Value>::builder(&context).topic("ticks").connect(&proxy.frontend)?;
/// let stop = runtime.shutdown();
/// runtime.spawn_node(Node::new("sink", ()).subscribe(inbox, move |_, _envelope| {
///     stop.trigger(); // one envelope is enough for this example
///     Ok(())
/// }))?;
/// runtime.spawn_node(Node::new("source", ()).on_tick(Duration::from_millis(1), move |_| {
///     ticks.send(&json!("tick")).map_err(Into::into)
/// }))?;
/// runtime.wait_timeout(Duration::from_secs(10)).expect("no node failed");
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
pub struct Runtime {
    context: Context,
    shutdown: Shutdown,
    workers: Vec<Worker>,
    proxies: Vec<Proxy>,
    events: (Sender<Event>, Channel<Event>),
    readiness: Readiness,
    /// The threads of [`serve_metrics`](Runtime::serve_metrics), joined after the stop signal.
    metrics_servers: Vec<std::thread::JoinHandle<()>>,
    /// Whether `wait` (or a variant) has stopped and joined everything; `Drop` does it otherwise.
    finished: bool,
}

/// The endpoints a proxy bound, as returned by [`Runtime::spawn_proxy`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyEndpoints {
    /// The frontend (XSUB) endpoint, for publishers.
    pub frontend: String,
    /// The backend (XPUB) endpoint, for subscribers.
    pub backend: String,
    /// The capture endpoint, if any.
    pub capture: Option<String>,
}

impl Runtime {
    /// A runtime on a context of its own.
    ///
    /// # Errors
    ///
    /// [`Error::Zmq`] when the stop signal's socket cannot be made.
    pub fn new() -> Result<Runtime> {
        Runtime::with_context(&Context::new())
    }

    /// A runtime on `context`.
    ///
    /// # Errors
    ///
    /// As [`new`](Runtime::new).
    pub fn with_context(context: &Context) -> Result<Runtime> {
        let shutdown = Shutdown::new(context)?;
        let events = crossbeam_channel::unbounded();
        // Wake `wait` when anyone triggers the stop signal, from any thread.
        let listener = shutdown.listener()?;
        let wake = events.0.clone();
        let watcher = shutdown.clone();
        std::thread::Builder::new()
            .name("hermes-stop-watch".to_owned())
            .spawn(move || {
                while !watcher.is_triggered() {
                    let _ = listener.poll(zmq::POLLIN, 500);
                }
                let _ = wake.send(Event::Stop);
            })
            .map_err(|source| Error::Thread {
                name: "hermes-stop-watch".to_owned(),
                source,
            })?;
        Ok(Runtime {
            context: context.clone(),
            shutdown,
            workers: Vec::new(),
            proxies: Vec::new(),
            events,
            readiness: Readiness::new(),
            metrics_servers: Vec::new(),
            finished: false,
        })
    }

    /// The context every node of this runtime should make its sockets on.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The runtime's stop signal; trigger it from anywhere to stop every node and proxy.
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// The process's readiness, which [`serve_metrics`](Runtime::serve_metrics)' `/readyz`
    /// reports; not ready until someone calls [`Readiness::set_ready`].
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// Enables metrics on the runtime's context ([`Context::enable_metrics`]) and serves
    /// `/metrics`, `/healthz` and `/readyz` over HTTP on `address` until the runtime stops;
    /// returns the address bound (port 0 becomes a free port) and logs it at info level.
    ///
    /// Call it before making sockets: those made earlier do not report. See
    /// [`metrics`](crate::metrics) for the metrics and the endpoints.
    ///
    /// # Errors
    ///
    /// [`Error::Metrics`] when `address` cannot be bound; [`Error::Thread`] or [`Error::Zmq`]
    /// when the server cannot start.
    pub fn serve_metrics(&mut self, address: impl std::net::ToSocketAddrs) -> Result<SocketAddr> {
        let addresses: Vec<SocketAddr> = address
            .to_socket_addrs()
            .map_err(|source| Error::Metrics {
                address: "?".to_owned(),
                source,
            })?
            .collect();
        let shown = addresses
            .first()
            .map_or_else(|| "?".to_owned(), ToString::to_string);
        let listener =
            std::net::TcpListener::bind(&addresses[..]).map_err(|source| Error::Metrics {
                address: shown.clone(),
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| Error::Metrics {
            address: shown,
            source,
        })?;
        let metrics = self.context.enable_metrics();
        let thread =
            crate::metrics::http::spawn(listener, metrics, self.readiness(), &self.shutdown)?;
        self.metrics_servers.push(thread);
        tracing::info!("metrics on http://{bound}/metrics");
        Ok(bound)
    }

    /// Starts a proxy named `name` (also its [`ProxyConfig::name`] unless that is set); it
    /// stops with the runtime.
    ///
    /// # Errors
    ///
    /// As [`Proxy::spawn`].
    pub fn spawn_proxy(&mut self, name: &str, mut config: ProxyConfig) -> Result<ProxyEndpoints> {
        if config.name.is_none() {
            config.name = Some(name.to_owned());
        }
        let proxy = Proxy::spawn_with(
            &self.context,
            config,
            self.shutdown.clone(),
            format!("proxy:{name}"),
        )?;
        let endpoints = ProxyEndpoints {
            frontend: proxy.frontend().to_owned(),
            backend: proxy.backend().to_owned(),
            capture: proxy.capture().map(str::to_owned),
        };
        self.proxies.push(proxy);
        self.workers.push(Worker {
            name: name.to_owned(),
            is_proxy: true,
            handle: None,
            done: false,
        });
        Ok(endpoints)
    }

    /// Runs `node` on a thread of its own until the runtime stops.
    ///
    /// # Errors
    ///
    /// [`Error::Thread`] when the thread cannot start.
    pub fn spawn_node<S: Send + 'static>(&mut self, node: Node<S>) -> Result<()> {
        let shutdown = self.shutdown.clone();
        let name = node.name().to_owned();
        self.spawn(&name, move || node.run(&shutdown).map(drop))
    }

    /// Runs `body` on a thread named `name`, as a node: its error or panic is reported and stops
    /// the runtime. `body` should return soon after [`shutdown`](Runtime::shutdown) triggers.
    ///
    /// # Errors
    ///
    /// [`Error::Thread`] when the thread cannot start.
    pub fn spawn(
        &mut self,
        name: &str,
        body: impl FnOnce() -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let index = self.workers.len();
        let events = self.events.0.clone();
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
                let _ = events.send(Event::Exited { index, outcome });
            })
            .map_err(|source| Error::Thread {
                name: name.to_owned(),
                source,
            })?;
        self.workers.push(Worker {
            name: name.to_owned(),
            is_proxy: false,
            handle: Some(handle),
            done: false,
        });
        Ok(())
    }

    /// Asks every node and proxy to stop; [`wait`](Runtime::wait) then returns.
    pub fn stop(&self) {
        self.shutdown.trigger();
    }

    /// Runs until every node has ended, a node fails, or someone triggers the stop signal;
    /// then stops everything and joins it.
    ///
    /// # Errors
    ///
    /// Every node that failed, panicked or did not stop in time.
    pub fn wait(mut self) -> std::result::Result<(), Vec<NodeFailure>> {
        self.wait_until(None)
    }

    /// As [`wait`](Runtime::wait), but stops the runtime after `timeout` at the latest.
    ///
    /// # Errors
    ///
    /// As [`wait`](Runtime::wait).
    pub fn wait_timeout(mut self, timeout: Duration) -> std::result::Result<(), Vec<NodeFailure>> {
        self.wait_until(Some(Instant::now() + timeout))
    }

    /// As [`wait`](Runtime::wait), and SIGINT or SIGTERM stop the runtime gracefully.
    ///
    /// # Errors
    ///
    /// [`Error::Thread`] when the signal handler cannot be installed; otherwise the failures
    /// as [`wait`](Runtime::wait) reports them, in [`Error::Node`].
    pub fn run_until_signal(self) -> std::result::Result<(), Vec<NodeFailure>> {
        self.run_until_signal_or(None)
    }

    /// As [`run_until_signal`](Runtime::run_until_signal), stopping after `timeout` at the latest.
    ///
    /// # Errors
    ///
    /// As [`wait`](Runtime::wait).
    pub fn run_until_signal_or(
        mut self,
        timeout: Option<Duration>,
    ) -> std::result::Result<(), Vec<NodeFailure>> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let stop = self.shutdown.clone();
        let signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]);
        let handle = match signals {
            Ok(mut signals) => {
                let handle = signals.handle();
                std::thread::Builder::new()
                    .name("hermes-signals".to_owned())
                    .spawn(move || {
                        if let Some(signal) = signals.forever().next() {
                            tracing::info!(signal, "stopping on signal");
                            stop.trigger();
                        }
                    })
                    .ok()
                    .map(|_| handle)
            }
            Err(err) => {
                tracing::warn!(%err, "cannot install SIGINT/SIGTERM handlers");
                None
            }
        };
        let outcome = self.wait_until(timeout.map(|timeout| Instant::now() + timeout));
        if let Some(handle) = handle {
            handle.close();
        }
        outcome
    }

    fn wait_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> std::result::Result<(), Vec<NodeFailure>> {
        self.finished = true;
        let mut failures = Vec::new();
        let has_nodes = self.workers.iter().any(|worker| !worker.is_proxy);
        let mut stop_deadline: Option<Instant> = None;
        loop {
            let nodes_running = self
                .workers
                .iter()
                .any(|worker| !worker.is_proxy && !worker.done);
            if !nodes_running && (has_nodes || stop_deadline.is_some()) {
                break;
            }
            let until = match (stop_deadline, deadline) {
                (Some(stop), _) => Some(stop),
                (None, deadline) => deadline,
            };
            let event = match until {
                Some(until) => self.events.1.recv_deadline(until),
                None => self
                    .events
                    .1
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match event {
                Ok(Event::Exited { index, outcome }) => {
                    let worker = &mut self.workers[index];
                    worker.done = true;
                    if let Some(handle) = worker.handle.take() {
                        let _ = handle.join();
                    }
                    let node = worker.name.clone();
                    let failure = match outcome {
                        Ok(Ok(())) => None,
                        Ok(Err(error)) => Some(NodeFailure::Failed { node, error }),
                        Err(panic) => Some(NodeFailure::Panicked {
                            node,
                            message: panic_message(panic.as_ref()),
                        }),
                    };
                    if let Some(failure) = failure {
                        tracing::error!("{failure}; stopping the runtime");
                        failures.push(failure);
                        self.shutdown.trigger();
                    }
                }
                Ok(Event::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    self.shutdown.trigger();
                }
                Err(RecvTimeoutError::Timeout) => {
                    if stop_deadline.is_some() {
                        break;
                    }
                    self.shutdown.trigger();
                }
            }
            if self.shutdown.is_triggered() && stop_deadline.is_none() {
                stop_deadline = Some(Instant::now() + STOP_GRACE);
            }
        }
        self.shutdown.trigger();
        for worker in &self.workers {
            if !worker.is_proxy && !worker.done {
                failures.push(NodeFailure::DidNotStop {
                    node: worker.name.clone(),
                });
            }
        }
        for server in self.metrics_servers.drain(..) {
            // The stop signal wakes it; a client it serves has a one-second deadline.
            let _ = server.join();
        }
        for (proxy, worker) in self
            .proxies
            .drain(..)
            .zip(self.workers.iter().filter(|worker| worker.is_proxy))
        {
            if let Err(error) = proxy.join() {
                failures.push(NodeFailure::Failed {
                    node: worker.name.clone(),
                    error,
                });
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }
}

/// A runtime dropped without [`wait`](Runtime::wait) stops every node and proxy and joins
/// them, as `wait` would after [`stop`](Runtime::stop), logging what failed.
impl Drop for Runtime {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Err(failures) = self.wait_until(Some(Instant::now())) {
            for failure in failures {
                tracing::warn!("{failure}");
            }
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .workers
            .iter()
            .map(|worker| worker.name.as_str())
            .collect();
        f.debug_struct("Runtime")
            .field("threads", &names)
            .finish_non_exhaustive()
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|message| (*message).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
