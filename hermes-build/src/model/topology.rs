use std::fmt;

use schemars::JsonSchema;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{NamedMap, Spanned};

/// A topology file (`topology.yaml`): which nodes exist, what each publishes and subscribes
/// to, and the proxies and endpoints that connect them.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Hermes topology")]
pub struct Topology {
    /// The topology's name, used for the generated module.
    pub name: Spanned<String>,
    /// Message schema files, relative to this file.
    #[serde(default)]
    pub messages: Vec<Spanned<String>>,
    /// Settings every port inherits unless it overrides them.
    #[serde(default)]
    pub defaults: Defaults,
    /// Warnings to treat as errors: `warnings` (all of them), `cycles`, `unused_publication`,
    /// `empty_node` or `unused_proxy`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<Spanned<Lint>>,
    /// The machines the topology runs on, by name, with the address the others reach each at.
    /// Proxies and nodes are placed on them with `host:`; a socket bound to every interface
    /// (`tcp://*:6000`) on host `edge-1` is reached from other hosts at
    /// `tcp://<edge-1's address>:6000`.
    #[serde(default, skip_serializing_if = "NamedMap::is_empty")]
    pub hosts: NamedMap<Host>,
    /// Proxies by name: an XSUB frontend that publishers connect to, forwarding to an XPUB
    /// backend that subscribers connect to.
    #[serde(default)]
    pub proxies: NamedMap<Proxy>,
    /// Nodes by name: the programs that publish and subscribe.
    #[serde(default)]
    pub nodes: NamedMap<Node>,
    /// CURVE encryption and access control from the topology: where keys live, the operators
    /// and any pinned public keys. Absent: no security (a run can still turn it on with
    /// `--keys DIR` or `HERMES_KEYS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
}

/// The `security:` section. With it, every tcp and ipc link is CURVE-encrypted, and proxies
/// and binding nodes admit exactly the peers the topology declares on each socket, letting
/// them publish and subscribe only the topics they declare. Secret keys never appear here:
/// `hermes keygen` writes them into `keys`, one file per node, proxy and operator.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// The key directory, relative to this file: `nodes/<name>.key` (public) and
    /// `nodes/<name>.key_secret` (mode 0600), likewise `proxies/` and `operators/`.
    pub keys: Spanned<String>,
    /// Operators: people and tools (`hermes tap`, `stats`, `pub`, `record`) admitted on every
    /// proxy's backend and capture, with keys in `operators/`. `[operator]` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operators: Option<Vec<Spanned<String>>>,
    /// Public keys (Z85, 40 characters) pinned in the topology: a key file that disagrees is an
    /// error at start.
    #[serde(default, skip_serializing_if = "Pins::is_empty")]
    pub pins: Pins,
}

impl Security {
    /// The operators' names: `operators:`, or `operator` alone.
    pub fn operator_names(&self) -> Vec<&str> {
        match &self.operators {
            Some(names) => names.iter().map(|name| name.value.as_str()).collect(),
            None => vec!["operator"],
        }
    }
}

/// A machine of the topology.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The address other hosts reach this one at: an IP address or a DNS name.
    pub address: Spanned<String>,
}

/// Heartbeats and TCP keepalive on a process's tcp and ipc links; each key not given comes
/// from `defaults.liveness`, else the built-in default.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LivenessSettings {
    /// Milliseconds between ZMTP heartbeats to each peer (`ZMQ_HEARTBEAT_IVL`); 0 turns
    /// heartbeats off. 1000 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<Spanned<u32>>,
    /// Milliseconds of silence after which a peer counts as dead and its connection is closed
    /// and retried (`ZMQ_HEARTBEAT_TIMEOUT` and `ZMQ_HEARTBEAT_TTL`). 5000 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<Spanned<u32>>,
    /// Whether the kernel probes idle tcp connections (`ZMQ_TCP_KEEPALIVE`); `true` when not
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive: Option<Spanned<bool>>,
    /// Seconds a tcp connection is idle before the first keepalive probe; 10 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_idle_s: Option<Spanned<u32>>,
    /// Seconds between keepalive probes; 5 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_interval_s: Option<Spanned<u32>>,
    /// Unanswered probes before the kernel drops the connection; 3 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_count: Option<Spanned<u32>>,
}

/// Adaptive batching of a node's native publications (`protobuf`, `json`): under load,
/// consecutive envelopes of one topic go out as one ZeroMQ message. Each key not given comes
/// from `defaults.batch`, else the built-in default. `python-json` publications never batch.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSettings {
    /// Whether to batch; `true` when the section is given (`enabled: false` on a node turns
    /// off `defaults.batch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Spanned<bool>>,
    /// The longest an envelope waits in a batch, in microseconds (1 to 1,000,000). An
    /// envelope goes out at once unless it and the two before it each came sooner than this
    /// after the one before. 50 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_us: Option<Spanned<u32>>,
    /// A batch goes out once it holds this many bytes (256 to 16 MiB). 65536 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<Spanned<u32>>,
}

/// Prometheus metrics served by a process over HTTP: `/metrics`, and `/healthz` and `/readyz`
/// for probes.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// The tcp port. In containers (`hermes export compose` or `k8s`) every process serves on
    /// it; processes sharing a machine (`hermes up`, systemd) take it and the ports after it,
    /// in start order, unless they set their own.
    pub port: Spanned<u16>,
}

/// Resources a process asks of a cluster (`hermes export k8s`: the container's requests, never
/// limits). A process's own key wins, else the key from `defaults.resources`, else the
/// built-in default.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU, as Kubernetes writes it: `100m` is a tenth of a core, `2` two cores. `50m` when
    /// not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Spanned<String>>,
    /// Memory, as Kubernetes writes it: `64Mi`, `1Gi`. `64Mi` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Spanned<String>>,
}

/// The requests a process's container makes, every key resolved ([`Topology::resources`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRequests {
    /// CPU, as Kubernetes writes it.
    pub cpu: String,
    /// Memory, as Kubernetes writes it.
    pub memory: String,
}

impl ResourceRequests {
    /// The CPU a process asks for when the YAML does not say. A hermes process is small: one
    /// ZeroMQ I/O thread, sockets whose queues the high-water mark bounds (1000 messages per
    /// peer), and its own loop; idle it uses a few MiB and next to no CPU. A twentieth of a
    /// core and 64 MiB place it on any node without reserving much, and being requests, not
    /// limits, they never throttle a burst or kill a process that grows past them. Every
    /// container carries requests, so none is the first evicted under pressure (`BestEffort`).
    pub const DEFAULT_CPU: &str = "50m";
    /// See [`ResourceRequests::DEFAULT_CPU`].
    pub const DEFAULT_MEMORY: &str = "64Mi";
}

/// Pinned public keys, by node, proxy and operator name.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pins {
    /// Nodes' public keys.
    #[serde(default, skip_serializing_if = "NamedMap::is_empty")]
    pub nodes: NamedMap<Spanned<String>>,
    /// Proxies' public keys.
    #[serde(default, skip_serializing_if = "NamedMap::is_empty")]
    pub proxies: NamedMap<Spanned<String>>,
    /// Operators' public keys.
    #[serde(default, skip_serializing_if = "NamedMap::is_empty")]
    pub operators: NamedMap<Spanned<String>>,
}

impl Pins {
    /// Whether nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.proxies.is_empty() && self.operators.is_empty()
    }
}

/// Settings that ports inherit.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// How messages are encoded on the wire; `protobuf` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<Spanned<Codec>>,
    /// The ZeroMQ high-water mark: how many messages a socket queues per peer before it drops
    /// (publishers) or stops reading (subscribers); 1000 when not given, 0 for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hwm: Option<Spanned<u32>>,
    /// What a subscriber does when it falls behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_subscriber: Option<SlowSubscriber>,
    /// How `python-json` ports lay out a message's fields when neither the port nor the
    /// message says: `message` (`[dtype, ts, fields…]`, what Python's `hermes.Message` writes;
    /// the default), `list` or `object`. Receivers read every layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_layout: Option<Spanned<PythonLayout>>,
    /// Heartbeats and keepalive for every process; on by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<LivenessSettings>,
    /// Adaptive batching of every node's native publications; off when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchSettings>,
    /// Serve Prometheus metrics from every process; off when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// The container image of nodes that do not name their own (`hermes export`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Spanned<String>>,
    /// The resource requests of processes, key by key where they do not give their own
    /// (`hermes export k8s`); `cpu: 50m` and `memory: 64Mi` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

pub use hermes_core::{Batching, Codec, Liveness, PythonLayout};

/// The slow-subscriber policy: how far behind a subscriber may fall, and what happens then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowSubscriber {
    /// How old (by its send timestamp) a received message may be before the subscriber counts
    /// as slow, in milliseconds; 1000 when not given.
    #[serde(default = "SlowSubscriber::default_max_lag_ms")]
    pub max_lag_ms: u64,
    /// What to do with a slow subscriber; `warn` when not given.
    #[serde(default)]
    pub action: SlowSubscriberAction,
}

impl SlowSubscriber {
    fn default_max_lag_ms() -> u64 {
        1000
    }
}

impl Default for SlowSubscriber {
    fn default() -> Self {
        SlowSubscriber {
            max_lag_ms: SlowSubscriber::default_max_lag_ms(),
            action: SlowSubscriberAction::Warn,
        }
    }
}

pub use hermes_core::SlowSubscriberAction;

/// A warning that `deny:` can turn into an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lint {
    /// Every warning.
    Warnings,
    /// `hermes::cycle`: nodes that feed each other.
    #[serde(alias = "cycle")]
    Cycles,
    /// `hermes::unused_publication`: a publication nobody subscribes to.
    UnusedPublication,
    /// `hermes::empty_node`: a node with no ports.
    EmptyNode,
    /// `hermes::unused_proxy`: a proxy no port uses.
    UnusedProxy,
    /// `hermes::stale_lock`: `hermes.lock` does not record the messages as they are.
    StaleLock,
    /// `hermes::insecure_endpoint`: a tcp endpoint beyond loopback without `security:`.
    InsecureEndpoint,
    /// `hermes::pointless_security`: `security:` where every link is inproc.
    PointlessSecurity,
}

/// A proxy: binds an XSUB frontend and an XPUB backend and forwards between them.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Proxy {
    /// Documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The XSUB endpoint the proxy binds; publishers connect here.
    pub frontend: Spanned<String>,
    /// The XPUB endpoint the proxy binds; subscribers connect here.
    pub backend: Spanned<String>,
    /// An optional PUB endpoint that sees a copy of every message, for debugging tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<Spanned<String>>,
    /// The machine the proxy runs on; the local machine when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Spanned<String>>,
    /// The process group the proxy runs in (see `process` on nodes); by default a proxy is its
    /// own process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Spanned<String>>,
    /// Overrides `defaults.liveness`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<LivenessSettings>,
    /// Overrides `defaults.metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// The container image to run it from (`hermes export`); `defaults.image` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Spanned<String>>,
    /// Overrides `defaults.resources` key by key (`hermes export k8s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// A node: one program (or one part of a program) with its ports.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// What the node publishes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishes: Vec<Port>,
    /// What the node subscribes to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribes: Vec<Port>,
    /// How `hermes up` starts the node: a shell command line, or a list of program and
    /// arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Spanned<RunCommand>>,
    /// The machine the node runs on; the local machine when not given. Loopback and wildcard
    /// addresses in the node's endpoints refer to this machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Spanned<String>>,
    /// The process group the node runs in. Every node is its own process unless several name
    /// the same `process:`, in which case they run in one process and may share `inproc://`
    /// endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Spanned<String>>,
    /// Whether `hermes up` restarts the node when it exits; `on-failure` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<Spanned<RestartPolicy>>,
    /// Overrides `defaults.liveness`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<LivenessSettings>,
    /// Overrides `defaults.batch` for the node's publications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchSettings>,
    /// Overrides `defaults.metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// The container image to run it from (`hermes export`); `defaults.image` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Spanned<String>>,
    /// Overrides `defaults.resources` key by key (`hermes export k8s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

impl Node {
    /// The name of the process the node runs in: its `process:`, else its own name.
    pub fn process_name<'a>(&'a self, node_name: &'a str) -> &'a str {
        self.process
            .as_ref()
            .map_or(node_name, |process| process.as_str())
    }

    /// The node's ports: publications first, then subscriptions, each in file order.
    pub fn ports(&self) -> impl Iterator<Item = (Direction, usize, &Port)> {
        let publishes = self
            .publishes
            .iter()
            .enumerate()
            .map(|(index, port)| (Direction::Publish, index, port));
        let subscribes = self
            .subscribes
            .iter()
            .enumerate()
            .map(|(index, port)| (Direction::Subscribe, index, port));
        publishes.chain(subscribes)
    }
}

impl Proxy {
    /// The name of the process the proxy runs in: its `process:`, else its own name.
    pub fn process_name<'a>(&'a self, proxy_name: &'a str) -> &'a str {
        self.process
            .as_ref()
            .map_or(proxy_name, |process| process.as_str())
    }
}

/// Whether a port publishes or subscribes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A PUB socket.
    Publish,
    /// A SUB socket.
    Subscribe,
}

/// How `hermes up` starts a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RunCommand {
    /// A command line, run by the shell.
    Shell(String),
    /// A program and its arguments, run without a shell.
    Args(Vec<String>),
}

impl<'de> Deserialize<'de> for RunCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RunVisitor;

        impl<'de> Visitor<'de> for RunVisitor {
            type Value = RunCommand;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command line or a list of program and arguments")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<RunCommand, E> {
                Ok(RunCommand::Shell(value.to_string()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RunCommand, A::Error> {
                let mut args = Vec::new();
                while let Some(arg) = seq.next_element::<String>()? {
                    args.push(arg);
                }
                Ok(RunCommand::Args(args))
            }
        }

        deserializer.deserialize_any(RunVisitor)
    }
}

/// Whether `hermes up` restarts a node that exits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Restart whenever it exits.
    Always,
    /// Restart when it exits with a failure.
    #[default]
    OnFailure,
    /// Never restart.
    Never,
}

/// One publication or subscription of a node.
///
/// A port reaches its peers in exactly one way: `via:` a proxy, or directly by binding
/// (`bind:`) or connecting to (`connect:`) an endpoint. Endpoints are `tcp://host:port`,
/// `ipc://path` or `inproc://name`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// The topic. Publications name a full topic such as `quotes/bitstamp`; subscriptions
    /// name a prefix of whole segments: `quotes` receives `quotes` and `quotes/bitstamp` but
    /// not `quotes2`, and the empty topic receives everything.
    pub topic: Spanned<String>,
    /// The message type carried, declared in one of the topology's messages files.
    pub message: Spanned<String>,
    /// The proxy to go through: publishers connect to its frontend, subscribers to its
    /// backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Spanned<String>>,
    /// An endpoint to bind, so that peers connect to this port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<Spanned<String>>,
    /// An endpoint to connect to: a peer's `bind:`, or a proxy's frontend (to publish) or
    /// backend or capture (to subscribe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<Spanned<String>>,
    /// Overrides `defaults.codec` for this port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<Spanned<Codec>>,
    /// Overrides `defaults.hwm` for this port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hwm: Option<Spanned<u32>>,
    /// Overrides `defaults.slow_subscriber` for this port (subscriptions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_subscriber: Option<Spanned<SlowSubscriber>>,
    /// How this port lays out messages under `python-json` (publications only): overrides the
    /// message's `python_layout` and `defaults.python_layout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_layout: Option<Spanned<PythonLayout>>,
    /// Documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

/// A port's settings after applying the topology's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortSettings {
    /// The wire encoding.
    pub codec: Codec,
    /// The high-water mark.
    pub hwm: u32,
    /// The slow-subscriber policy.
    pub slow_subscriber: SlowSubscriber,
}

impl PortSettings {
    /// ZeroMQ's own default high-water mark.
    pub const DEFAULT_HWM: u32 = 1000;
}

impl Topology {
    /// The liveness settings of a process whose own are `own`: each key from `own`, else
    /// `defaults.liveness`, else [`Liveness::DEFAULT`].
    pub fn liveness(&self, own: Option<&LivenessSettings>) -> Liveness {
        let defaults = self.defaults.liveness.as_ref();
        let pick = |key: fn(&LivenessSettings) -> Option<&Spanned<u32>>, default: u32| {
            own.and_then(key)
                .or_else(|| defaults.and_then(key))
                .map_or(default, |value| value.value)
        };
        let keepalive = own
            .and_then(|own| own.tcp_keepalive.as_ref())
            .or_else(|| defaults.and_then(|defaults| defaults.tcp_keepalive.as_ref()))
            .map_or(Liveness::DEFAULT.tcp_keepalive, |value| value.value);
        let fallback = Liveness::DEFAULT;
        Liveness {
            heartbeat_ms: pick(|s| s.heartbeat_ms.as_ref(), fallback.heartbeat_ms),
            timeout_ms: pick(|s| s.timeout_ms.as_ref(), fallback.timeout_ms),
            tcp_keepalive: keepalive,
            keepalive_idle_s: pick(|s| s.keepalive_idle_s.as_ref(), fallback.keepalive_idle_s),
            keepalive_interval_s: pick(
                |s| s.keepalive_interval_s.as_ref(),
                fallback.keepalive_interval_s,
            ),
            keepalive_count: pick(|s| s.keepalive_count.as_ref(), fallback.keepalive_count),
        }
    }

    /// The batching of a node whose own settings are `own`: each key from `own`, else
    /// `defaults.batch`, else [`Batching::DEFAULT`]; `None` when batching is off (neither
    /// section given, or `enabled: false`).
    pub fn batching(&self, own: Option<&BatchSettings>) -> Option<Batching> {
        let defaults = self.defaults.batch.as_ref();
        let enabled = own
            .map(|own| own.enabled.as_ref().is_none_or(|enabled| enabled.value))
            .or_else(|| {
                defaults.map(|defaults| defaults.enabled.as_ref().is_none_or(|on| on.value))
            })
            .unwrap_or(false);
        let pick = |key: fn(&BatchSettings) -> Option<&Spanned<u32>>, default: u32| {
            own.and_then(key)
                .or_else(|| defaults.and_then(key))
                .map_or(default, |value| value.value)
        };
        enabled.then(|| Batching {
            max_delay_us: pick(|s| s.max_delay_us.as_ref(), Batching::DEFAULT.max_delay_us),
            max_bytes: pick(|s| s.max_bytes.as_ref(), Batching::DEFAULT.max_bytes),
        })
    }

    /// The metrics port a process whose own setting is `own` asks for: its own, else
    /// `defaults.metrics`; `None` serves none.
    pub fn metrics_port(&self, own: Option<&Metrics>) -> Option<u16> {
        own.or(self.defaults.metrics.as_ref())
            .map(|metrics| metrics.port.value)
    }

    /// The container image of a process whose own is `own`: its own, else `defaults.image`.
    pub fn image<'a>(&'a self, own: Option<&'a Spanned<String>>) -> Option<&'a str> {
        own.or(self.defaults.image.as_ref())
            .map(|image| image.value.as_str())
    }

    /// The requests of a process whose own resources are `own`: each key from `own`, else
    /// `defaults.resources`, else [`ResourceRequests::DEFAULT_CPU`] and
    /// [`ResourceRequests::DEFAULT_MEMORY`].
    pub fn resources(&self, own: Option<&Resources>) -> ResourceRequests {
        let defaults = self.defaults.resources.as_ref();
        let pick = |key: fn(&Resources) -> Option<&Spanned<String>>, default: &str| {
            own.and_then(key)
                .or_else(|| defaults.and_then(key))
                .map_or(default, |value| value.value.as_str())
                .to_owned()
        };
        ResourceRequests {
            cpu: pick(|r| r.cpu.as_ref(), ResourceRequests::DEFAULT_CPU),
            memory: pick(|r| r.memory.as_ref(), ResourceRequests::DEFAULT_MEMORY),
        }
    }

    /// The address other hosts reach host `name` at, when `hosts:` declares it.
    pub fn host_address(&self, name: &str) -> Option<&str> {
        self.hosts.get(name).map(|host| host.address.value.as_str())
    }

    /// The `python-json` layout a publication writes `message` in: the port's `python_layout`,
    /// else the message's, else `defaults.python_layout`, else `message`
    /// ([`PythonLayout::Message`]).
    pub fn python_layout(&self, port: &Port, message: &super::MessageDef) -> PythonLayout {
        port.python_layout
            .as_ref()
            .or(message.python_layout.as_ref())
            .or(self.defaults.python_layout.as_ref())
            .map_or(PythonLayout::Message, |layout| layout.value)
    }

    /// The settings a port runs with: its own overrides, else `defaults:`, else the built-in
    /// defaults (protobuf, hwm 1000, warn after 1000 ms).
    pub fn port_settings(&self, port: &Port) -> PortSettings {
        let defaults = &self.defaults;
        PortSettings {
            codec: port
                .codec
                .as_ref()
                .or(defaults.codec.as_ref())
                .map_or(Codec::Protobuf, |codec| codec.value),
            hwm: port
                .hwm
                .as_ref()
                .or(defaults.hwm.as_ref())
                .map_or(PortSettings::DEFAULT_HWM, |hwm| hwm.value),
            slow_subscriber: port
                .slow_subscriber
                .as_ref()
                .map(|policy| policy.value)
                .or(defaults.slow_subscriber)
                .unwrap_or_default(),
        }
    }
}
