//! The proxy (hermes-zmq's PostOffice): one address for a whole cluster.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::context::{Context, zmq_hwm};
use crate::endpoint::{self, Attach};
use crate::envelope::{self, Frames, Stamp};
use crate::error::{Error, Result};
use crate::metrics::ProxyTraffic;
use crate::security::{
    Counters, LogLimiter, ProxySecurity, Secured, SecurityReport, SecurityStats,
};
use crate::shutdown::Shutdown;

/// Where a [`Proxy`] binds its sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyConfig {
    /// The XSUB socket publishers connect to.
    pub frontend: String,
    /// The XPUB socket subscribers connect to.
    pub backend: String,
    /// An optional PUB socket that sees every envelope passing through.
    pub capture: Option<String>,
    /// High-water mark of each socket, in envelopes; 0 means no limit.
    pub hwm: u32,
    /// CURVE keys and access; `None` forwards everything from anyone, as ZeroMQ does.
    pub security: Option<ProxySecurity>,
    /// The proxy's name in its [`SecurityReport`]s and their topic; `None`: `proxy`.
    pub name: Option<String>,
    /// Heartbeats and TCP keepalive on every connection; on by default.
    pub liveness: crate::Liveness,
}

impl Default for ProxyConfig {
    /// The Python original's addresses: tcp://127.0.0.1:6000, 6001 and capture 6002.
    fn default() -> Self {
        ProxyConfig {
            frontend: "tcp://127.0.0.1:6000".to_owned(),
            backend: "tcp://127.0.0.1:6001".to_owned(),
            capture: Some("tcp://127.0.0.1:6002".to_owned()),
            hwm: 1000,
            security: None,
            name: None,
            liveness: crate::Liveness::DEFAULT,
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
            security: None,
            name: None,
            liveness: crate::Liveness::DEFAULT,
        }
    }

    /// Adds a capture socket at `endpoint`.
    pub fn with_capture(mut self, endpoint: impl Into<String>) -> ProxyConfig {
        self.capture = Some(endpoint.into());
        self
    }

    /// Sets the high-water mark of each socket, in envelopes; 0 means no limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_runtime::ProxyConfig;
    ///
    /// let config = ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0").with_hwm(10_000);
    /// assert_eq!(config.hwm, 10_000);
    /// ```
    pub fn with_hwm(mut self, hwm: u32) -> ProxyConfig {
        self.hwm = hwm;
        self
    }

    /// Secures the proxy: each socket becomes a CURVE server admitting only the peers of its
    /// [`Access`](crate::Access); an envelope is forwarded only when its sender (the frontend
    /// peer it came from) declared its topic, and a subscription is applied on the backend and
    /// sent upstream only when its subscriber declared it (operators: any). The rest is
    /// dropped, counted in [`Proxy::security_stats`], and logged at most once a second per peer.
    /// A client whose handshake fails before the authenticator is asked (no CURVE, the wrong
    /// server key) is counted too, from each socket's monitor. The counts are published as a
    /// [`SecurityReport`] on the backend and capture socket (see [`ProxyConfig::with_name`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_runtime::{Access, Context, KeyPair, Peer, Proxy, ProxyConfig, ProxySecurity};
    ///
    /// let operator = Peer::operator("ops", KeyPair::generate()?.public());
    /// let security = ProxySecurity::new(KeyPair::generate()?).backend(Access::new([operator]));
    /// let config = ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0").with_security(security);
    /// let proxy = Proxy::spawn(&Context::new(), config)?;
    /// assert_eq!(proxy.security_stats().refused_connections, 0);
    /// proxy.stop()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_security(mut self, security: ProxySecurity) -> ProxyConfig {
        self.security = Some(security);
        self
    }

    /// Names the proxy (a topology's proxy name): a secured proxy publishes its
    /// [`SecurityReport`]s on `hermes/security/<name>`.
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_runtime::ProxyConfig;
    ///
    /// let config = ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0").with_name("market");
    /// assert_eq!(config.name.as_deref(), Some("market"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> ProxyConfig {
        self.name = Some(name.into());
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
    counters: Arc<Counters>,
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
        let mut backend_socket = context.socket(zmq::XPUB)?;
        let counters = Arc::new(Counters::default());
        let mut secure = None;
        let proxy_name = config.name.clone().unwrap_or_else(|| "proxy".to_owned());
        let report_topic = SecurityReport::topic(&proxy_name);
        if config.security.is_some() {
            crate::topic::validate(&report_topic)?;
        }
        if let Some(security) = &config.security {
            zmq_ext::set_xpub_manual(&mut backend_socket, true)
                .map_err(Error::zmq("set XPUB manual"))?;
            let server = |socket: &zmq::Socket, access: &crate::Access, side: &str| {
                let curve = crate::Curve::Server {
                    keys: security.keys.clone(),
                    access: access.clone(),
                };
                let label = format!("{thread_name} {side}");
                crate::security::configure(
                    context,
                    socket,
                    Some(&curve),
                    Arc::clone(&counters),
                    &label,
                )
                .map(|secured| secured.expect("a CURVE server is secured"))
            };
            let mut frontend = server(&frontend_socket, &security.frontend, "frontend")?;
            frontend.guard.reserve(SecurityReport::TOPIC_PREFIX);
            secure = Some(Secure {
                frontend,
                backend: server(&backend_socket, &security.backend, "backend")?,
                capture: None,
                applied: HashMap::new(),
                refused: HashMap::new(),
                reporter: Reporter::new(proxy_name.clone(), report_topic),
            });
        }
        for socket in [&frontend_socket, &backend_socket] {
            crate::liveness::apply(socket, config.liveness)?;
            socket.set_linger(0).map_err(Error::zmq("set linger"))?;
            socket
                .set_rcvhwm(zmq_hwm(config.hwm))
                .map_err(Error::zmq("set receive high-water mark"))?;
            socket
                .set_sndhwm(zmq_hwm(config.hwm))
                .map_err(Error::zmq("set send high-water mark"))?;
        }
        let frontend = endpoint::attach(&frontend_socket, Attach::Bind, &config.frontend)?;
        let backend = endpoint::attach(&backend_socket, Attach::Bind, &config.backend)?;
        let capture_socket = match &config.capture {
            Some(endpoint) => {
                let socket = context.socket(zmq::PUB)?;
                crate::liveness::apply(&socket, config.liveness)?;
                socket.set_linger(0).map_err(Error::zmq("set linger"))?;
                if let (Some(security), Some(secure)) = (&config.security, secure.as_mut()) {
                    let curve = crate::Curve::Server {
                        keys: security.keys.clone(),
                        access: security.capture.clone(),
                    };
                    let label = format!("{thread_name} capture");
                    secure.capture = crate::security::configure(
                        context,
                        &socket,
                        Some(&curve),
                        Arc::clone(&counters),
                        &label,
                    )?;
                }
                socket
                    .set_sndhwm(zmq_hwm(config.hwm))
                    .map_err(Error::zmq("set send high-water mark"))?;
                let resolved = endpoint::attach(&socket, Attach::Bind, endpoint)?;
                Some((socket, resolved))
            }
            None => None,
        };
        let capture = capture_socket
            .as_ref()
            .map(|(_, endpoint)| endpoint.clone());
        let control = shutdown.listener()?;
        let traffic = context
            .metrics()
            .map(|metrics| metrics.proxy(&proxy_name, Arc::clone(&counters)));
        let stop = shutdown.clone();
        let thread = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || {
                let sockets = Sockets {
                    frontend: frontend_socket,
                    backend: backend_socket,
                    capture: capture_socket.map(|(socket, _)| socket),
                    control,
                    traffic,
                };
                let outcome = match secure {
                    None => sockets.forward_until_stopped(&stop),
                    Some(mut secure) => {
                        let outcome = sockets.forward_secured(&mut secure, &stop);
                        // The sockets close before the authenticator registrations drop.
                        drop(sockets);
                        drop(secure);
                        outcome
                    }
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
            counters,
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

    /// What the proxy refused, over its three sockets: connections from keys not admitted or
    /// whose handshake failed, envelopes on topics their sender did not declare, subscriptions
    /// their subscriber did not declare. All zeros without [`ProxyConfig::with_security`].
    ///
    /// Handshake failures are counted when the proxy thread reads its sockets' monitors,
    /// promptly but not synchronously: wait on the count with a deadline.
    pub fn security_stats(&self) -> SecurityStats {
        self.counters.snapshot()
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

/// Most frames moved from one side before the other side and the stop signal are looked at.
const BATCH: usize = 1024;

/// The proxy thread's sockets.
struct Sockets {
    frontend: zmq::Socket,
    backend: zmq::Socket,
    capture: Option<zmq::Socket>,
    control: zmq::Socket,
    /// What the metrics count, when the context has them.
    traffic: Option<Arc<ProxyTraffic>>,
}

impl Sockets {
    /// Forwards envelopes downstream and subscriptions upstream until the stop signal.
    ///
    /// libzmq's own `zmq_proxy` polls between every frame; this loop polls once and then moves
    /// up to [`BATCH`] frames per side without copying them, which roughly halved the CPU a
    /// forwarded envelope costs in our benchmark.
    fn forward_until_stopped(&self, stop: &Shutdown) -> Result<(), zmq::Error> {
        let mut frame = zmq::Message::new();
        while !stop.is_triggered() {
            let mut items = [
                self.control.as_poll_item(zmq::POLLIN),
                self.frontend.as_poll_item(zmq::POLLIN),
                self.backend.as_poll_item(zmq::POLLIN),
            ];
            match zmq::poll(&mut items, -1) {
                Ok(_) => {}
                Err(zmq::Error::EINTR) => continue,
                Err(err) => return Err(err),
            }
            if items[0].is_readable() {
                return Ok(());
            }
            if items[1].is_readable() {
                move_frames(
                    &self.frontend,
                    &self.backend,
                    self.capture.as_ref(),
                    &mut frame,
                    self.traffic.as_deref().map(Count::Forwarded),
                )?;
            }
            if items[2].is_readable() {
                move_frames(
                    &self.backend,
                    &self.frontend,
                    None,
                    &mut frame,
                    self.traffic.as_deref().map(Count::Subscriptions),
                )?;
            }
        }
        Ok(())
    }
}

/// A secured proxy's checks: each socket's guard, monitor and authenticator registration,
/// the subscriptions applied and refused so far (by prefix, counted), so that an
/// unsubscription undoes only what was applied, and its security reports.
struct Secure {
    frontend: Secured,
    backend: Secured,
    /// Its monitor counts failed handshakes; the authenticator admits its peers.
    capture: Option<Secured>,
    applied: HashMap<Vec<u8>, u32>,
    refused: HashMap<Vec<u8>, u32>,
    reporter: Reporter,
}

impl Secure {
    /// Counts the handshake failures the sockets' monitors have reported.
    fn drain_monitors(&self) {
        self.frontend.monitor.drain();
        self.backend.monitor.drain();
        if let Some(capture) = &self.capture {
            capture.monitor.drain();
        }
    }
}

/// How often a changing [`SecurityReport`] is published.
const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// The longest time between two reports, changed or not.
const REPORT_AT_LEAST_EVERY: Duration = Duration::from_secs(5);

/// Publishes a secured proxy's [`SecurityReport`] on its backend and capture socket.
///
/// On the backend, libzmq delivers by byte prefix: a peer that declared `herm` (a topic that
/// is not the report's by whole segments) and subscribed to it would be sent the report too.
/// So the subscriptions applied for such peers are counted in `unentitled`, and while any is
/// held the report goes to the capture socket only.
struct Reporter {
    proxy: String,
    topic: String,
    epoch: u32,
    seq: u64,
    frames: Frames,
    /// When the counts were last looked at, and when a report was last sent, with its counts.
    checked: Option<Instant>,
    sent: Option<(Instant, SecurityStats)>,
    unentitled: HashMap<Vec<u8>, u32>,
    limiter: LogLimiter,
}

impl Reporter {
    fn new(proxy: String, topic: String) -> Reporter {
        Reporter {
            proxy,
            topic,
            epoch: crate::publisher::new_epoch(),
            seq: 0,
            frames: Frames::new(),
            checked: None,
            sent: None,
            unentitled: HashMap::new(),
            limiter: LogLimiter::default(),
        }
    }

    /// How long the poll may wait before the next look at the counts.
    fn wait(&self, now: Instant) -> Duration {
        self.checked.map_or(Duration::ZERO, |checked| {
            (checked + REPORT_INTERVAL).saturating_duration_since(now)
        })
    }

    /// Whether a subscription to `prefix` by `user` is one the report must not reach.
    fn is_unentitled(
        &self,
        guard: &crate::security::Guard,
        user: Option<&str>,
        prefix: &[u8],
    ) -> bool {
        self.topic.as_bytes().starts_with(prefix)
            && !guard.may_subscribe(user, self.topic.as_bytes())
    }

    /// Publishes the report if it is due: once a second while the counts change, and at
    /// least every five seconds.
    fn publish_if_due(
        &mut self,
        stats: SecurityStats,
        backend: &zmq::Socket,
        capture: Option<&zmq::Socket>,
    ) -> Result<(), zmq::Error> {
        let now = Instant::now();
        if self.wait(now) > Duration::ZERO {
            return Ok(());
        }
        self.checked = Some(now);
        let due = match self.sent {
            None => true,
            Some((at, sent)) => sent != stats || now.duration_since(at) >= REPORT_AT_LEAST_EVERY,
        };
        if !due {
            return Ok(());
        }
        self.sent = Some((now, stats));
        let report = SecurityReport::new(self.proxy.clone(), stats);
        let stamp = Stamp {
            codec: crate::Codec::Json,
            topic: &self.topic,
            origin: &self.proxy,
            epoch: self.epoch,
            seq: self.seq,
            timestamp_ns: envelope::now_ns(),
            python_layout: crate::PythonLayout::Message,
        };
        if let Err(err) = envelope::encode(&stamp, &report, &mut self.frames) {
            tracing::warn!(%err, "cannot encode the proxy's security report");
            return Ok(());
        }
        self.seq += 1;
        let withheld = self.unentitled.values().any(|&count| count > 0);
        if withheld && self.limiter.allow(&self.topic) {
            tracing::warn!(
                topic = %self.topic,
                "security report sent to the capture socket only: a backend subscriber that \
                 may not read it holds a subscription matching its bytes"
            );
        }
        let parts = self.frames.parts();
        for (socket, send) in [(Some(backend), !withheld), (capture, true)] {
            let Some(socket) = socket.filter(|_| send) else {
                continue;
            };
            for (i, part) in parts.iter().enumerate() {
                let more = if i + 1 < parts.len() { zmq::SNDMORE } else { 0 };
                // Both are PUB-like: a full queue drops the report, never blocks the proxy.
                match socket.send(part.as_slice(), more | zmq::DONTWAIT) {
                    Ok(()) | Err(zmq::Error::EAGAIN) => {}
                    Err(err) => return Err(err),
                }
            }
        }
        Ok(())
    }
}

impl Sockets {
    /// As [`forward_until_stopped`](Sockets::forward_until_stopped), checking every envelope's
    /// topic against its sender's declarations and every subscription against its
    /// subscriber's.
    ///
    /// The same loop reads the sockets' monitors (handshake failures) and publishes the
    /// proxy's [`SecurityReport`] when it is due.
    fn forward_secured(&self, secure: &mut Secure, stop: &Shutdown) -> Result<(), zmq::Error> {
        let mut frame = zmq::Message::new();
        while !stop.is_triggered() {
            let wait = secure.reporter.wait(Instant::now());
            let timeout = i64::try_from(wait.as_millis().saturating_add(1)).unwrap_or(i64::MAX);
            let capture_monitor = secure
                .capture
                .as_ref()
                .map_or(secure.frontend.monitor.socket(), |capture| {
                    capture.monitor.socket()
                });
            let mut items = [
                self.control.as_poll_item(zmq::POLLIN),
                self.frontend.as_poll_item(zmq::POLLIN),
                self.backend.as_poll_item(zmq::POLLIN),
                secure.frontend.monitor.socket().as_poll_item(zmq::POLLIN),
                secure.backend.monitor.socket().as_poll_item(zmq::POLLIN),
                capture_monitor.as_poll_item(zmq::POLLIN),
            ];
            match zmq::poll(&mut items, timeout) {
                Ok(_) => {}
                Err(zmq::Error::EINTR) => continue,
                Err(err) => return Err(err),
            }
            let readable = items.map(|item| item.is_readable());
            if readable[0] {
                return Ok(());
            }
            if readable[1] {
                self.forward_publications(secure, &mut frame)?;
            }
            if readable[2] {
                self.forward_subscriptions(secure, &mut frame)?;
            }
            if readable[3..].contains(&true) {
                secure.drain_monitors();
            }
            let stats = secure.frontend.guard.counters.snapshot();
            secure
                .reporter
                .publish_if_due(stats, &self.backend, self.capture.as_ref())?;
        }
        Ok(())
    }

    /// Forwards up to [`BATCH`] waiting envelopes whose sender may publish their topic; drops
    /// the others whole.
    fn forward_publications(
        &self,
        secure: &mut Secure,
        frame: &mut zmq::Message,
    ) -> Result<(), zmq::Error> {
        for _ in 0..BATCH {
            match self.frontend.recv(frame, zmq::DONTWAIT) {
                Ok(()) => {}
                Err(zmq::Error::EAGAIN) => return Ok(()),
                Err(err) => return Err(err),
            }
            let user = frame.gets("User-Id").map(str::to_owned);
            let allowed = secure
                .frontend
                .guard
                .admit_publication(user.as_deref(), frame);
            loop {
                let more = frame.get_more();
                if allowed {
                    let flags = if more { zmq::SNDMORE } else { 0 };
                    if let Some(capture) = &self.capture {
                        let _ = capture.send(&frame[..], flags | zmq::DONTWAIT);
                    }
                    // Counted before it leaves, so a receiver never sees more than the count.
                    if !more && let Some(traffic) = &self.traffic {
                        traffic.forwarded();
                    }
                    self.backend
                        .send(std::mem::replace(frame, zmq::Message::new()), flags)?;
                }
                if !more {
                    break;
                }
                // The rest of a multipart message is already here.
                self.frontend.recv(frame, 0)?;
            }
        }
        Ok(())
    }

    /// Applies and sends upstream up to [`BATCH`] waiting subscriptions their subscriber may
    /// make; drops the others.
    fn forward_subscriptions(
        &self,
        secure: &mut Secure,
        frame: &mut zmq::Message,
    ) -> Result<(), zmq::Error> {
        let outcome = self.apply_subscriptions(secure, frame);
        if let Some(traffic) = &self.traffic {
            traffic.set_subscriptions(secure.applied.len());
        }
        outcome
    }

    /// [`forward_subscriptions`](Sockets::forward_subscriptions) but for the count.
    fn apply_subscriptions(
        &self,
        secure: &mut Secure,
        frame: &mut zmq::Message,
    ) -> Result<(), zmq::Error> {
        for _ in 0..BATCH {
            match self.backend.recv(frame, zmq::DONTWAIT) {
                Ok(()) => {}
                Err(zmq::Error::EAGAIN) => return Ok(()),
                Err(err) => return Err(err),
            }
            let user = frame.gets("User-Id").map(str::to_owned);
            let Some((&kind, prefix)) = frame.split_first() else {
                continue;
            };
            let prefix = prefix.to_vec();
            match kind {
                1 => {
                    if secure
                        .backend
                        .guard
                        .admit_subscription(user.as_deref(), &prefix)
                    {
                        self.backend.set_subscribe(&prefix)?;
                        if secure.reporter.is_unentitled(
                            &secure.backend.guard,
                            user.as_deref(),
                            &prefix,
                        ) {
                            *secure
                                .reporter
                                .unentitled
                                .entry(prefix.clone())
                                .or_default() += 1;
                        }
                        *secure.applied.entry(prefix).or_default() += 1;
                        self.frontend.send(&frame[..], 0)?;
                    } else {
                        *secure.refused.entry(prefix).or_default() += 1;
                    }
                }
                0 => {
                    // With a user, the subscriber unsubscribed: what it may subscribe to was
                    // applied. Without one, it disconnected and libzmq reports each of its
                    // subscriptions, applied or not: a refused one of that prefix is undone
                    // first, which at worst leaves an upstream subscription in place.
                    let was_applied = match user.as_deref() {
                        Some(user) => secure.backend.guard.may_subscribe(Some(user), &prefix),
                        None => !take_one(&mut secure.refused, &prefix),
                    };
                    if was_applied && take_one(&mut secure.applied, &prefix) {
                        if user.is_some() {
                            self.backend.set_unsubscribe(&prefix)?;
                            if secure.reporter.is_unentitled(
                                &secure.backend.guard,
                                user.as_deref(),
                                &prefix,
                            ) {
                                take_one(&mut secure.reporter.unentitled, &prefix);
                            }
                        } else {
                            // Whose subscription left is unknown: no more are held than applied.
                            let held = secure.applied.get(&prefix).copied().unwrap_or(0);
                            if held == 0 {
                                secure.reporter.unentitled.remove(&prefix);
                            } else if let Some(count) = secure.reporter.unentitled.get_mut(&prefix)
                            {
                                *count = (*count).min(held);
                            }
                        }
                        self.frontend.send(&frame[..], 0)?;
                    } else if user.is_some() {
                        take_one(&mut secure.refused, &prefix);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Takes one from `prefix`'s count; whether there was one.
fn take_one(counts: &mut HashMap<Vec<u8>, u32>, prefix: &[u8]) -> bool {
    match counts.get_mut(prefix) {
        Some(count) if *count > 1 => {
            *count -= 1;
            true
        }
        Some(_) => {
            counts.remove(prefix);
            true
        }
        None => false,
    }
}

/// Moves up to [`BATCH`] waiting frames from `from` to `to`, copying them to `capture`.
///
/// Frames of one multipart message stay together: a batch that ends inside a message resumes
/// with its next frame, and nothing else can be sent on `to` in between.
fn move_frames(
    from: &zmq::Socket,
    to: &zmq::Socket,
    capture: Option<&zmq::Socket>,
    frame: &mut zmq::Message,
    count: Option<Count<'_>>,
) -> Result<(), zmq::Error> {
    for _ in 0..BATCH {
        match from.recv(frame, zmq::DONTWAIT) {
            Ok(()) => {}
            Err(zmq::Error::EAGAIN) => return Ok(()),
            Err(err) => return Err(err),
        }
        let more = frame.get_more();
        let flags = if more { zmq::SNDMORE } else { 0 };
        if let Some(capture) = capture {
            // The capture socket is a PUB: it never blocks, and a slow tap only loses its copy.
            let _ = capture.send(&frame[..], flags | zmq::DONTWAIT);
        }
        // A (un)subscription is one frame, its first byte 1 (or 0), then the prefix; libzmq's
        // XPUB passes on only the first subscription and the last unsubscription of a prefix.
        let subscribed = match (count, frame.first()) {
            (Some(Count::Subscriptions(traffic)), Some(&kind)) if !more && kind <= 1 => {
                Some((traffic, kind == 1))
            }
            _ => None,
        };
        // Counted before it leaves, so a receiver never sees more than the count.
        match (count, subscribed) {
            (_, Some((traffic, subscribed))) => traffic.subscription(subscribed),
            (Some(Count::Forwarded(traffic)), None) if !more => traffic.forwarded(),
            _ => {}
        }
        to.send(std::mem::replace(frame, zmq::Message::new()), flags)?;
    }
    Ok(())
}

/// What [`move_frames`] counts for the metrics.
#[derive(Clone, Copy)]
enum Count<'a> {
    /// Envelopes going downstream.
    Forwarded(&'a ProxyTraffic),
    /// Subscriptions going upstream.
    Subscriptions(&'a ProxyTraffic),
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
