//! The node driver: what every generated node shares. Generated code describes a node — its
//! port table ([`NodeInfo`]), its `Outputs`, and which handler method each subscription calls
//! ([`NodeSpec`]) — and the driver opens its sockets from the table, wires them as a
//! [`Wiring`] says, and runs it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::info::{NodeInfo, PortInfo, PortWiring};
use super::startup::{HandshakeWatch, Startup};
use super::wiring::Wiring;
use crate::backtest::{Outbox, Published};
use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::{CodecError, Error, Result};
use crate::message::Message;
use crate::node::{HandlerResult, Node};
use crate::publisher::Publisher;
use crate::receiver::Receiver;
use crate::runtime::Runtime;
use crate::stats::SlowSubscriber;

/// How often a node whose handler has no tick wakes up, to keep it running until the runtime
/// stops (the stop signal wakes it at once).
const IDLE_TICK: Duration = Duration::from_secs(24 * 60 * 60);

/// The start, tick and stop hooks of a generated node's handler, with defaults that do nothing.
///
/// A generated `Handler` trait has this as its supertrait, with `O` the node's `Outputs`, so
/// every handler implements it, if only as `impl Hooks<Outputs> for MyHandler {}`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::{HandlerResult, Hooks};
///
/// struct Counter(u64);
///
/// // `Outputs` is the generated node's; any type shows the idea.
/// impl Hooks<Vec<u64>> for Counter {
///     fn tick_interval(&self) -> Option<Duration> {
///         Some(Duration::from_millis(100))
///     }
///     fn on_tick(&mut self, outputs: &mut Vec<u64>) -> HandlerResult {
///         self.0 += 1;
///         outputs.push(self.0);
///         Ok(())
///     }
/// }
///
/// let mut outputs = Vec::new();
/// let mut counter = Counter(0);
/// counter.on_tick(&mut outputs)?;
/// counter.on_stop(&mut outputs)?; // the default: nothing
/// assert_eq!(outputs, [1]);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub trait Hooks<O> {
    /// Called once, after every socket is connected and before the first envelope.
    fn on_start(&mut self, outputs: &mut O) -> HandlerResult {
        let _ = outputs;
        Ok(())
    }

    /// How often to call [`on_tick`](Hooks::on_tick); `None` (the default) for never. Asked
    /// once, when the node is built. Without subscriptions or a tick, the node still runs
    /// (after `on_start`) until the runtime stops.
    fn tick_interval(&self) -> Option<Duration> {
        None
    }

    /// Called every [`tick_interval`](Hooks::tick_interval).
    fn on_tick(&mut self, outputs: &mut O) -> HandlerResult {
        let _ = outputs;
        Ok(())
    }

    /// Called once when the node stops without failing.
    fn on_stop(&mut self, outputs: &mut O) -> HandlerResult {
        let _ = outputs;
        Ok(())
    }
}

impl<O, H: Hooks<O> + ?Sized> Hooks<O> for Box<H> {
    fn on_start(&mut self, outputs: &mut O) -> HandlerResult {
        (**self).on_start(outputs)
    }
    fn tick_interval(&self) -> Option<Duration> {
        (**self).tick_interval()
    }
    fn on_tick(&mut self, outputs: &mut O) -> HandlerResult {
        (**self).on_tick(outputs)
    }
    fn on_stop(&mut self, outputs: &mut O) -> HandlerResult {
        (**self).on_stop(outputs)
    }
}

/// The [`Node`] of a generated node run by handler `H` with outputs `O`.
pub type NodeOf<H, O> = Node<(H, O)>;

/// A generated node, run with handler `H`: its port table, its outputs, and the handler method
/// each subscription calls. Implemented by the `Node` type of each generated node module.
pub trait NodeSpec<H>: 'static {
    /// The node's name and ports.
    const INFO: &'static NodeInfo;
    /// The node's typed publishers.
    type Outputs: Send + 'static;

    /// Takes the publishers from `ports`, in the order of [`NodeInfo::publishes`].
    ///
    /// # Errors
    ///
    /// As [`Ports::publisher`].
    fn outputs(ports: &mut Ports) -> Result<Self::Outputs>;

    /// Adds a subscription per entry of [`NodeInfo::subscribes`], in order, each calling its
    /// handler method.
    ///
    /// # Errors
    ///
    /// As [`Ports::receiver`].
    fn subscribe(
        node: NodeOf<H, Self::Outputs>,
        ports: &mut Ports,
    ) -> Result<NodeOf<H, Self::Outputs>> {
        let _ = ports;
        Ok(node)
    }
}

/// A socket of a node, opened from its port table but not yet typed: what binding and
/// connecting need of publishers and receivers alike.
trait PortSocket {
    fn bind(&mut self, endpoint: &str) -> Result<String>;
    fn connect(&mut self, endpoint: &str) -> Result<()>;
}

impl PortSocket for Publisher<Untyped> {
    fn bind(&mut self, endpoint: &str) -> Result<String> {
        Publisher::bind(self, endpoint)
    }
    fn connect(&mut self, endpoint: &str) -> Result<()> {
        Publisher::connect(self, endpoint)
    }
}

impl PortSocket for Receiver<Untyped> {
    fn bind(&mut self, endpoint: &str) -> Result<String> {
        Receiver::bind(self, endpoint)
    }
    fn connect(&mut self, endpoint: &str) -> Result<()> {
        Receiver::connect(self, endpoint)
    }
}

/// The sockets of one port list, in table order.
type Sockets<S> = VecDeque<(&'static PortInfo, S)>;

/// Binds the `bind:` ports of `sockets`, recording in `wiring` where ephemeral endpoints ended up.
fn bind_all<S: PortSocket>(sockets: &mut Sockets<S>, wiring: &mut Wiring) -> Result<()> {
    for (port, socket) in sockets {
        if let PortWiring::Bind(channel, _) = port.wiring {
            let entry = wiring.channel_entry(channel)?;
            let bound = socket.bind(&entry.bind)?;
            entry.record_bound(&bound);
        }
    }
    Ok(())
}

/// Connects the other ports of `sockets`: to their proxy, or to their peer's endpoint.
fn connect_all<S: PortSocket>(
    sockets: &mut Sockets<S>,
    wiring: &mut Wiring,
    host: Option<&str>,
) -> Result<()> {
    for (port, socket) in sockets {
        let endpoint = match port.wiring {
            PortWiring::Proxy(proxy, side) => wiring.proxy_endpoint(proxy, side, host)?,
            PortWiring::Connect(channel, declared) => {
                wiring.channel_endpoint(channel, declared, host)?
            }
            PortWiring::Bind(..) => continue,
        };
        socket.connect(&endpoint)?;
    }
    Ok(())
}

/// The sockets of one node, made from its port table, bound and connected; generated code
/// takes them in table order with [`publisher`](Ports::publisher) and
/// [`receiver`](Ports::receiver), which give them their message type.
pub struct Ports {
    node: &'static NodeInfo,
    publishers: Sockets<Publisher<Untyped>>,
    receivers: Sockets<Receiver<Untyped>>,
    /// The subscriptions' handshakes to await before the node counts as connected, with the
    /// position of each receiver in `receivers`.
    handshakes: Vec<(usize, HandshakeWatch)>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports")
            .field("node", &self.node.name)
            .field("publishers", &self.publishers.len())
            .field("receivers", &self.receivers.len())
            .finish()
    }
}

impl Ports {
    /// Makes every socket of `node`, neither bound nor connected, with CURVE as `wiring`'s
    /// security says.
    fn new(context: &Context, node: &'static NodeInfo, wiring: &Wiring) -> Result<Ports> {
        let mut ports = Ports {
            node,
            publishers: VecDeque::new(),
            receivers: VecDeque::new(),
            handshakes: Vec::new(),
        };
        let startup = wiring.startup();
        for port in node.publishes {
            let mut builder = Publisher::<Untyped>::builder(context)
                .topic(port.topic)
                .origin(node.name)
                .codec(port.codec)
                .hwm(port.hwm)
                .liveness(node.liveness);
            if let Some(layout) = port.python_layout {
                builder = builder.python_layout(layout);
            }
            if let Some(batching) = node.batching {
                builder = builder.batching(batching);
            }
            if startup.waits_for(node.name, port.topic) {
                builder = builder.xpub();
            }
            if let Some(security) = wiring.security()
                && let Some(curve) = security.port(wiring, node, port, true)?
            {
                builder = builder.curve(curve);
            }
            let publisher = builder.build()?;
            ports.publishers.push_back((port, publisher));
        }
        for port in node.subscribes {
            let (max_lag_ms, action) = port.slow_subscriber;
            let mut builder = Receiver::<Untyped>::builder(context)
                .topic(port.topic)
                .codec(port.codec)
                .hwm(port.hwm)
                .liveness(node.liveness)
                .slow_subscriber(SlowSubscriber::new(
                    Duration::from_millis(max_lag_ms),
                    action,
                ));
            if let Some(security) = wiring.security()
                && let Some(curve) = security.port(wiring, node, port, false)?
            {
                builder = builder.curve(curve);
            }
            let receiver = builder.build()?;
            ports.receivers.push_back((port, receiver));
        }
        Ok(ports)
    }

    /// Every port of `node` with no socket: publishers whose frames go to a backtest's engine
    /// through `outbox` (tagged with the node's position `node_index` and each port's), and
    /// receivers the engine feeds.
    pub(crate) fn in_memory(
        node: &'static NodeInfo,
        node_index: usize,
        outbox: &crossbeam_channel::Sender<Published>,
    ) -> Result<Ports> {
        let mut ports = Ports {
            node,
            publishers: VecDeque::new(),
            receivers: VecDeque::new(),
            handshakes: Vec::new(),
        };
        for (index, port) in node.publishes.iter().enumerate() {
            let outbox = Outbox::new(outbox.clone(), node_index, index);
            let publisher = Publisher::<Untyped>::in_memory(
                outbox,
                port.topic,
                node.name,
                port.codec,
                port.python_layout,
            )?;
            ports.publishers.push_back((port, publisher));
        }
        for port in node.subscribes {
            let (max_lag_ms, action) = port.slow_subscriber;
            let policy = SlowSubscriber::new(Duration::from_millis(max_lag_ms), action);
            let receiver = Receiver::<Untyped>::in_memory(port.codec, port.topic, policy)?;
            ports.receivers.push_back((port, receiver));
        }
        Ok(ports)
    }

    /// Binds the `bind:` ports, recording in `wiring` where ephemeral endpoints ended up.
    fn bind(&mut self, wiring: &mut Wiring) -> Result<()> {
        bind_all(&mut self.publishers, wiring)?;
        bind_all(&mut self.receivers, wiring)
    }

    /// Connects the other ports: to their proxy, or to their peer's endpoint; subscriptions
    /// watched for their handshakes when the wiring's startup awaits them.
    fn connect(&mut self, context: &Context, wiring: &mut Wiring) -> Result<()> {
        connect_all(&mut self.publishers, wiring, self.node.host)?;
        if wiring.startup().awaits_connections() {
            for (index, (port, receiver)) in self.receivers.iter().enumerate() {
                let endpoint = match port.wiring {
                    PortWiring::Proxy(proxy, side) => {
                        wiring.proxy_endpoint(proxy, side, self.node.host)?
                    }
                    PortWiring::Connect(channel, declared) => {
                        wiring.channel_endpoint(channel, declared, self.node.host)?
                    }
                    PortWiring::Bind(..) => continue,
                };
                // inproc has no handshake: connecting is all there is.
                if let Some(socket) = receiver.socket()
                    && !endpoint.starts_with("inproc://")
                {
                    self.handshakes
                        .push((index, HandshakeWatch::new(context, socket, &endpoint)?));
                }
            }
        }
        connect_all(&mut self.receivers, wiring, self.node.host)
    }

    /// Waits, until `deadline`, for the subscriptions' handshakes, then for a subscriber on
    /// each publication the topology gives subscribers (bounded by the startup's wait).
    fn await_peers(&mut self, startup: &Startup, deadline: Instant) -> Result<()> {
        for (index, watch) in std::mem::take(&mut self.handshakes) {
            if !watch.wait(deadline)? {
                tracing::warn!(
                    node = self.node.name,
                    endpoint = watch.endpoint(),
                    "no connection yet; starting anyway"
                );
            }
            if let Some(socket) = self
                .receivers
                .get(index)
                .and_then(|(_, receiver)| receiver.socket())
            {
                watch.disarm(socket)?;
            }
        }
        let wait_until = Instant::now() + startup.subscriber_wait;
        for (port, publisher) in &mut self.publishers {
            if !startup.waits_for(self.node.name, port.topic) {
                continue;
            }
            let left = wait_until.saturating_duration_since(Instant::now());
            match publisher.wait_for_subscriber(left) {
                Ok(()) => {}
                Err(Error::Timeout) => tracing::warn!(
                    node = self.node.name,
                    topic = port.topic,
                    "no subscriber within {:?}; publishing anyway",
                    startup.subscriber_wait
                ),
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// The next publication's publisher, typed `M`.
    ///
    /// # Errors
    ///
    /// [`Error::Codec`] when `M` is not the table's type or does not support its codec.
    pub fn publisher<M: Message>(&mut self) -> Result<Publisher<M>> {
        match self.publishers.pop_front() {
            Some((port, publisher)) => {
                check_type::<M>(port)?;
                publisher.retype()
            }
            None => Err(self.out_of_table::<M>("publication")),
        }
    }

    /// The next subscription's receiver, typed `M`.
    ///
    /// # Errors
    ///
    /// [`Error::Codec`] when `M` is not the table's type or does not support its codec.
    pub fn receiver<M: Message>(&mut self) -> Result<Receiver<M>> {
        match self.receivers.pop_front() {
            Some((port, receiver)) => {
                check_type::<M>(port)?;
                receiver.retype()
            }
            None => Err(self.out_of_table::<M>("subscription")),
        }
    }

    /// Adds the next subscription's receiver, typed `M`, to `node`, calling `handler` (a
    /// generated `Handler` method) with each envelope.
    ///
    /// # Errors
    ///
    /// As [`receiver`](Ports::receiver).
    pub fn subscribe<H, O, M>(
        &mut self,
        node: NodeOf<H, O>,
        mut handler: impl FnMut(&mut H, Envelope<M>, &mut O) -> HandlerResult + Send + 'static,
    ) -> Result<NodeOf<H, O>>
    where
        H: Send + 'static,
        O: Send + 'static,
        M: Message,
    {
        let receiver = self.receiver::<M>()?;
        Ok(
            node.subscribe(receiver, move |(state, outputs): &mut (H, O), envelope| {
                handler(state, envelope, outputs)
            }),
        )
    }

    fn out_of_table<M: Message>(&self, what: &str) -> Error {
        Error::Codec(CodecError::Decode(format!(
            "node `{}` has no further {what} for `{}` in its port table",
            self.node.name,
            M::NAME
        )))
    }
}

/// Generated code and its port table agree by construction; a mismatch means the table was
/// edited by hand, and must not silently carry the wrong type.
fn check_type<M: Message>(port: &PortInfo) -> Result<()> {
    if port.fingerprint == M::FINGERPRINT {
        Ok(())
    } else {
        Err(Error::Codec(CodecError::Decode(format!(
            "port `{}` carries `{}`, not `{}`",
            port.topic,
            port.message,
            M::NAME
        ))))
    }
}

/// The message type of sockets the driver has made but not yet typed: never sent or received.
struct Untyped;

impl Message for Untyped {
    const NAME: &'static str = "hermes.Untyped";
    const FINGERPRINT: u64 = hermes_core::ANY_FINGERPRINT;

    fn supports(_: hermes_core::Codec) -> bool {
        true
    }

    fn encode(&self, codec: hermes_core::Codec, _: &mut Vec<u8>) -> Result<(), CodecError> {
        Err(CodecError::Unsupported {
            codec,
            message: Self::NAME,
        })
    }

    fn decode(codec: hermes_core::Codec, _: &[u8]) -> Result<Self, CodecError> {
        Err(CodecError::Unsupported {
            codec,
            message: Self::NAME,
        })
    }
}

/// What runs a [`Pending`] node once its ports are bound and connected.
type SpawnPending = Box<dyn FnOnce(&mut Runtime, Ports) -> Result<()>>;

/// A node whose sockets are made, waiting to be bound, connected and run.
pub struct Pending {
    ports: Ports,
    spawn: SpawnPending,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}

/// A factory of a [`Pending`] node, for [`launch`]: generated `launch` makes one per node with
/// [`node`].
pub type NodeLauncher = Box<dyn FnOnce(&Context, &Wiring) -> Result<Pending>>;

/// Node `N` run by `handler`, for [`launch`].
pub fn node<N, H>(handler: H) -> NodeLauncher
where
    N: NodeSpec<H>,
    H: Hooks<N::Outputs> + Send + 'static,
{
    Box::new(move |context: &Context, wiring: &Wiring| {
        Ok(Pending {
            ports: Ports::new(context, N::INFO, wiring)?,
            spawn: Box::new(move |runtime: &mut Runtime, mut ports: Ports| {
                let node = build::<N, H>(handler, &mut ports)?;
                runtime.spawn_node(node)
            }),
        })
    })
}

/// The [`Node`] of `N` with `handler`, from its opened ports, to run on a thread: a node
/// without a tick of its own gets an idle one, so that it runs until the runtime stops.
fn build<N, H>(handler: H, ports: &mut Ports) -> Result<Node<(H, N::Outputs)>>
where
    N: NodeSpec<H>,
    H: Hooks<N::Outputs> + Send + 'static,
{
    let idle = handler.tick_interval().is_none();
    let node = build_node::<N, H>(handler, ports)?;
    Ok(if idle {
        node.on_tick(IDLE_TICK, |_: &mut (H, N::Outputs)| Ok(()))
    } else {
        node
    })
}

/// The [`Node`] of `N` with `handler`, from its ports: its hooks, its tick if the handler has
/// one, and a subscription per port. A backtest steps it as it is.
pub(crate) fn build_node<N, H>(handler: H, ports: &mut Ports) -> Result<Node<(H, N::Outputs)>>
where
    N: NodeSpec<H>,
    H: Hooks<N::Outputs> + Send + 'static,
{
    let outputs = N::outputs(ports)?;
    let tick = handler.tick_interval();
    let node = Node::new(N::INFO.name, (handler, outputs))
        .on_start(|(handler, outputs): &mut (H, N::Outputs)| handler.on_start(outputs))
        .on_stop(|(handler, outputs): &mut (H, N::Outputs)| handler.on_stop(outputs));
    let node = match tick {
        Some(period) => node.on_tick(period, |(handler, outputs): &mut (H, N::Outputs)| {
            handler.on_tick(outputs)
        }),
        None => node,
    };
    N::subscribe(node, ports)
}

/// Opens node `N`'s sockets as `wiring` says and runs it on `runtime` with `handler`: what a
/// generated node's `spawn` does.
///
/// # Errors
///
/// The first socket, bind or connect error, or [`Error::Thread`].
pub fn spawn<N, H>(runtime: &mut Runtime, wiring: &Wiring, handler: H) -> Result<()>
where
    N: NodeSpec<H>,
    H: Hooks<N::Outputs> + Send + 'static,
{
    spawn_into::<N, H>(runtime, &mut wiring.clone(), handler)
}

/// [`spawn`], recording in `wiring` where the node's `bind:` ports ended up (the real port of
/// `tcp://127.0.0.1:0`), so the next node spawned on it finds them.
///
/// # Errors
///
/// As [`spawn`].
pub fn spawn_into<N, H>(runtime: &mut Runtime, wiring: &mut Wiring, handler: H) -> Result<()>
where
    N: NodeSpec<H>,
    H: Hooks<N::Outputs> + Send + 'static,
{
    let context = runtime.context().clone();
    let mut ports = Ports::new(&context, N::INFO, wiring)?;
    ports.bind(wiring)?;
    ports.connect(&context, wiring)?;
    let startup = wiring.startup().clone();
    ports.await_peers(&startup, Instant::now() + startup.connection_wait())?;
    let node = build::<N, H>(handler, &mut ports)?;
    runtime.spawn_node(node)
}

/// Starts every proxy of `wiring` on `runtime`, recording the endpoints they bound.
///
/// # Errors
///
/// The first proxy that cannot bind.
pub fn spawn_proxies(runtime: &mut Runtime, wiring: &mut Wiring) -> Result<()> {
    let proxies: Vec<(String, crate::ProxyConfig)> = wiring
        .proxies()
        .map(|(name, config)| (name.to_owned(), config.clone()))
        .collect();
    for (name, config) in proxies {
        spawn_proxy(runtime, wiring, &name, config)?;
    }
    Ok(())
}

/// Starts proxy `name` as `wiring` says, recording the endpoints it bound.
///
/// # Errors
///
/// [`Error::Endpoint`] when the wiring has no such proxy; as [`Runtime::spawn_proxy`].
pub fn spawn_proxy(
    runtime: &mut Runtime,
    wiring: &mut Wiring,
    name: &str,
    config: crate::ProxyConfig,
) -> Result<()> {
    // CURVE covers tcp and ipc; a proxy on inproc runs as it would without security.
    let secured = match wiring.security() {
        Some(security) if !config.frontend.starts_with("inproc://") => {
            config.clone().with_security(security.proxy(name)?)
        }
        _ => config.clone(),
    };
    let endpoints = runtime.spawn_proxy(name, secured)?;
    let mut bound = config;
    bound.frontend = endpoints.frontend;
    bound.backend = endpoints.backend;
    bound.capture = endpoints.capture;
    wiring.insert_proxy(name, bound);
    Ok(())
}

/// Spawns every proxy of `wiring` and every node of `nodes` on `runtime`, and returns the
/// wiring with the endpoints the proxies and binding ports actually got (`tcp://127.0.0.1:0`
/// becomes a real port).
///
/// Sockets are made first, then every `bind:` port binds, then every port connects, so ports
/// find each other on ephemeral endpoints.
///
/// # Errors
///
/// The first socket, bind, connect or thread error.
pub fn launch(
    runtime: &mut Runtime,
    wiring: &Wiring,
    nodes: impl IntoIterator<Item = NodeLauncher>,
) -> Result<Wiring> {
    let mut wiring = wiring.clone();
    spawn_proxies(runtime, &mut wiring)?;
    let context = runtime.context().clone();
    let mut pending = nodes
        .into_iter()
        .map(|open| open(&context, &wiring))
        .collect::<Result<Vec<_>>>()?;
    for node in &mut pending {
        node.ports.bind(&mut wiring)?;
    }
    for node in &mut pending {
        node.ports.connect(&context, &mut wiring)?;
    }
    let startup = wiring.startup().clone();
    let deadline = Instant::now() + startup.connection_wait();
    for node in &mut pending {
        node.ports.await_peers(&startup, deadline)?;
    }
    for node in pending {
        (node.spawn)(runtime, node.ports)?;
    }
    Ok(wiring)
}
