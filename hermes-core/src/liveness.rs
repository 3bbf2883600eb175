//! How a connection notices that its peer is gone.

/// Heartbeats and TCP keepalive for a socket's connections, so that a peer that dies without
/// closing its connection (power loss, a cut cable, a killed VM) is noticed in seconds rather
/// than at the next TCP timeout, and the connection is closed and reconnected.
///
/// - ZMTP heartbeats (`ZMQ_HEARTBEAT_IVL`, `ZMQ_HEARTBEAT_TIMEOUT`, `ZMQ_HEARTBEAT_TTL`): every
///   `heartbeat_ms` the socket pings its peers; a peer that sends nothing for `timeout_ms` is
///   dropped, and the peer is asked to drop this side after `timeout_ms` likewise. They run
///   over tcp and ipc.
/// - TCP keepalive (`ZMQ_TCP_KEEPALIVE` and its idle, interval and count): the kernel probes an
///   idle connection, which also keeps stateful firewalls and NATs from forgetting it.
///
/// The default is on: heartbeats every second, a peer dead after 5 s of silence, keepalive
/// probes after 10 s idle, every 5 s, 3 of them.
///
/// ```
/// use hermes_core::Liveness;
///
/// let liveness = Liveness::DEFAULT;
/// assert_eq!((liveness.heartbeat_ms, liveness.timeout_ms), (1000, 5000));
/// assert!(!Liveness::OFF.heartbeats() && !Liveness::OFF.tcp_keepalive);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Liveness {
    /// Milliseconds between heartbeats; 0 turns heartbeats off.
    pub heartbeat_ms: u32,
    /// Milliseconds without traffic after which a peer counts as dead.
    pub timeout_ms: u32,
    /// Whether the kernel probes idle tcp connections.
    pub tcp_keepalive: bool,
    /// Seconds a connection is idle before the first probe.
    pub keepalive_idle_s: u32,
    /// Seconds between probes.
    pub keepalive_interval_s: u32,
    /// Unanswered probes after which the kernel drops the connection.
    pub keepalive_count: u32,
}

impl Liveness {
    /// Heartbeats every 1 s, dead after 5 s; keepalive after 10 s idle, every 5 s, 3 probes.
    pub const DEFAULT: Liveness = Liveness {
        heartbeat_ms: 1000,
        timeout_ms: 5000,
        tcp_keepalive: true,
        keepalive_idle_s: 10,
        keepalive_interval_s: 5,
        keepalive_count: 3,
    };

    /// Neither heartbeats nor keepalive: libzmq's own default.
    pub const OFF: Liveness = Liveness {
        heartbeat_ms: 0,
        timeout_ms: 0,
        tcp_keepalive: false,
        keepalive_idle_s: 0,
        keepalive_interval_s: 0,
        keepalive_count: 0,
    };

    /// Whether heartbeats are on.
    pub const fn heartbeats(&self) -> bool {
        self.heartbeat_ms > 0
    }
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness::DEFAULT
    }
}
