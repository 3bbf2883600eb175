//! Where every socket of a topology binds or connects.

use std::collections::BTreeMap;

use hermes_core::{Endpoint, ProxySide};

use super::info::{ProxyInfo, TopologyInfo};
use super::security::TopologySecurity;
use crate::error::{Error, Result};
use crate::proxy::ProxyConfig;

/// Where every socket of a topology binds or connects: a [`ProxyConfig`] per proxy and a
/// [`DirectEndpoint`] per direct channel, by name.
///
/// [`TopologyInfo::wiring`] is what the YAML says; override entries to run elsewhere, or use
/// [`TopologyInfo::inproc_wiring`] or [`TopologyInfo::loopback_wiring`] in tests.
///
/// # Examples
///
/// ```
/// use hermes_runtime::topology::{ProxyInfo, TopologyInfo};
///
/// static TOPOLOGY: TopologyInfo = TopologyInfo::new(
///     "demo",
///     &[],
///     &[ProxyInfo::new("market", "tcp://*:6000", "tcp://*:6001", None, 1000)],
///     &[],
///     &[],
/// );
/// let mut wiring = TOPOLOGY.wiring();
/// assert_eq!(wiring.proxy("market").unwrap().backend, "tcp://*:6001");
/// wiring.proxy_mut("market").unwrap().backend = "ipc:///tmp/market-out".into();
/// assert_eq!(TOPOLOGY.inproc_wiring("t").proxy("market").unwrap().frontend, "inproc://t/market/frontend");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Wiring {
    proxies: BTreeMap<String, ProxyConfig>,
    channels: BTreeMap<String, DirectEndpoint>,
    security: Option<TopologySecurity>,
    placement: Placement,
    startup: super::startup::Startup,
}

/// Where the YAML places things, so that connect addresses can be derived from where the
/// other side binds: host addresses by host name, and each proxy's host with its sides as the
/// YAML writes them (an overridden side is used as given).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Placement {
    hosts: BTreeMap<String, String>,
    proxies: BTreeMap<String, (String, ProxyConfig)>,
}

impl Placement {
    /// Where a socket on `from` connects to reach `bound`, bound on `binder`: a wildcard bind
    /// on another host is reached at that host's address, a host named in the endpoint by its
    /// address, and anything else as [`connectable`].
    fn reach(&self, bound: &str, binder: Option<&str>, from: Option<&str>) -> String {
        let Ok(Endpoint::Tcp { host, port }) = Endpoint::parse(bound) else {
            return connectable(bound);
        };
        let wildcard = matches!(host.as_str(), "*" | "0.0.0.0" | "[::]");
        let address = if wildcard && binder.is_some() && binder != from {
            binder.and_then(|binder| self.hosts.get(binder))
        } else {
            self.hosts.get(&host)
        };
        match address {
            Some(address) => Endpoint::Tcp {
                host: address.clone(),
                port,
            }
            .to_string(),
            None => connectable(bound),
        }
    }
}

impl Wiring {
    /// How processes on this wiring start: readiness and waiting for subscribers.
    pub fn startup(&self) -> &super::startup::Startup {
        &self.startup
    }

    /// Sets how processes on this wiring start.
    pub fn set_startup(&mut self, startup: super::startup::Startup) {
        self.startup = startup;
    }

    /// The security every tcp and ipc socket runs with: `None` when off.
    pub fn security(&self) -> Option<&TopologySecurity> {
        self.security.as_ref()
    }

    /// Turns security on for `topology`'s sockets, with keys in `keys` (what `--keys` and
    /// `HERMES_KEYS` do): its `security:` section's operators and pins, or operator `operator`
    /// alone when it has none.
    pub fn secure(&mut self, topology: &TopologyInfo, keys: impl Into<std::path::PathBuf>) {
        self.security = Some(TopologySecurity::new(topology, keys));
    }

    /// Turns security off.
    pub fn insecure(&mut self) {
        self.security = None;
    }

    /// Proxy `name`'s endpoints and settings.
    pub fn proxy(&self, name: &str) -> Option<&ProxyConfig> {
        self.proxies.get(name)
    }

    /// Proxy `name`'s endpoints and settings, to change them.
    pub fn proxy_mut(&mut self, name: &str) -> Option<&mut ProxyConfig> {
        self.proxies.get_mut(name)
    }

    /// Direct channel `name`'s endpoint.
    pub fn channel(&self, name: &str) -> Option<&DirectEndpoint> {
        self.channels.get(name)
    }

    /// Direct channel `name`'s endpoint, to change it.
    pub fn channel_mut(&mut self, name: &str) -> Option<&mut DirectEndpoint> {
        self.channels.get_mut(name)
    }

    /// Every proxy, by name.
    pub fn proxies(&self) -> impl Iterator<Item = (&str, &ProxyConfig)> {
        self.proxies
            .iter()
            .map(|(name, config)| (name.as_str(), config))
    }

    /// Every direct channel, by name.
    pub fn channels(&self) -> impl Iterator<Item = (&str, &DirectEndpoint)> {
        self.channels
            .iter()
            .map(|(name, endpoint)| (name.as_str(), endpoint))
    }

    /// Where a socket on host `from` (`None`: the local machine) connecting to `side` of proxy
    /// `proxy` connects: a side bound to every interface on another host is reached at that
    /// host's address (`tcp://*:6000` on `edge` becomes `tcp://<edge's address>:6000`), unless
    /// the side was overridden.
    pub(crate) fn proxy_endpoint(
        &self,
        proxy: &str,
        side: ProxySide,
        from: Option<&str>,
    ) -> Result<String> {
        let config = self.proxy(proxy).ok_or_else(|| missing("proxy", proxy))?;
        let endpoint = match side {
            ProxySide::Frontend => &config.frontend,
            ProxySide::Backend => &config.backend,
            ProxySide::Capture => config.capture.as_ref().ok_or_else(|| Error::Endpoint {
                endpoint: String::new(),
                reason: format!("the wiring of proxy `{proxy}` has no capture endpoint"),
            })?,
        };
        let placed = self.placement.proxies.get(proxy).filter(|(_, yaml)| {
            let written = match side {
                ProxySide::Frontend => Some(&yaml.frontend),
                ProxySide::Backend => Some(&yaml.backend),
                ProxySide::Capture => yaml.capture.as_ref(),
            };
            written == Some(endpoint)
        });
        match placed {
            Some((host, _)) => Ok(self.placement.reach(endpoint, Some(host), from)),
            None => Ok(connectable(endpoint)),
        }
    }

    /// Where a socket on host `from` connects to reach direct channel `channel`, whose YAML
    /// writes `declared`: the wiring's `connect` when set, else the address derived from where
    /// the binder binds.
    pub(crate) fn channel_endpoint(
        &self,
        channel: &str,
        declared: &str,
        from: Option<&str>,
    ) -> Result<String> {
        let entry = self
            .channels
            .get(channel)
            .ok_or_else(|| missing("channel", channel))?;
        if let Some(connect) = &entry.connect {
            return Ok(connect.clone());
        }
        let declared_is_local = Endpoint::parse(declared).is_ok_and(|parsed| parsed.is_loopback());
        match &entry.host {
            // Written as loopback, bound on another host: derive from the bind.
            Some(binder) if declared_is_local && from != Some(binder.as_str()) => {
                Ok(self.placement.reach(&entry.bind, Some(binder), from))
            }
            _ => Ok(self.placement.reach(declared, None, from)),
        }
    }

    /// Direct channel `name`, which a port must find.
    pub(crate) fn channel_entry(&mut self, name: &str) -> Result<&mut DirectEndpoint> {
        self.channels
            .get_mut(name)
            .ok_or_else(|| missing("channel", name))
    }

    pub(crate) fn insert_proxy(&mut self, name: &str, config: ProxyConfig) {
        self.proxies.insert(name.to_owned(), config);
    }
}

fn missing(what: &str, name: &str) -> Error {
    Error::Endpoint {
        endpoint: String::new(),
        reason: format!("the wiring has no {what} `{name}`"),
    }
}

/// A bound endpoint made connectable: wildcard hosts become loopback.
fn connectable(endpoint: &str) -> String {
    Endpoint::parse(endpoint).map_or_else(
        |_| endpoint.to_owned(),
        |parsed| parsed.connectable().to_string(),
    )
}

impl TopologyInfo {
    /// The wiring the YAML gives, with its `security:` section.
    pub fn wiring(&self) -> Wiring {
        let mut wiring = self.wiring_with(
            |proxy| {
                let config = ProxyConfig::new(proxy.frontend, proxy.backend);
                match proxy.capture {
                    Some(capture) => config.with_capture(capture),
                    None => config,
                }
            },
            |_, endpoint| DirectEndpoint::new(endpoint),
        );
        wiring.placement = Placement {
            hosts: self
                .hosts
                .iter()
                .map(|host| (host.name.to_owned(), host.address.to_owned()))
                .collect(),
            proxies: self
                .proxies
                .iter()
                .filter_map(|proxy| {
                    let host = proxy.host?.to_owned();
                    let config = wiring.proxy(proxy.name)?.clone();
                    Some((proxy.name.to_owned(), (host, config)))
                })
                .collect(),
        };
        for channel in self.channels {
            if let (Some(host), Some(entry)) = (channel.host, wiring.channels.get_mut(channel.name))
            {
                entry.host = Some(host.to_owned());
            }
        }
        if let Some(security) = &self.security {
            wiring.secure(self, security.keys);
        }
        wiring
    }

    /// Every endpoint on `inproc://<prefix>/...`: the whole topology in one process, isolated
    /// from other tests that use another prefix.
    pub fn inproc_wiring(&self, prefix: &str) -> Wiring {
        self.wiring_with(
            |proxy| {
                let side = |side: &str| format!("inproc://{prefix}/{}/{side}", proxy.name);
                let config = ProxyConfig::new(side("frontend"), side("backend"));
                match proxy.capture {
                    Some(_) => config.with_capture(side("capture")),
                    None => config,
                }
            },
            |name, _| DirectEndpoint::shared(format!("inproc://{prefix}/{name}")),
        )
    }

    /// Every endpoint on `tcp://127.0.0.1:0`: ephemeral loopback ports, which
    /// a generated `launch` resolves; secured as the YAML says.
    pub fn loopback_wiring(&self) -> Wiring {
        const LOOPBACK: &str = "tcp://127.0.0.1:0";
        let mut wiring = self.wiring_with(
            |proxy| {
                let config = ProxyConfig::new(LOOPBACK, LOOPBACK);
                match proxy.capture {
                    Some(_) => config.with_capture(LOOPBACK),
                    None => config,
                }
            },
            |_, _| DirectEndpoint::new(LOOPBACK),
        );
        if let Some(security) = &self.security {
            wiring.secure(self, security.keys);
        }
        wiring
    }

    fn wiring_with(
        &self,
        proxy: impl Fn(&ProxyInfo) -> ProxyConfig,
        channel: impl Fn(&str, &str) -> DirectEndpoint,
    ) -> Wiring {
        Wiring {
            proxies: self
                .proxies
                .iter()
                .map(|info| {
                    let mut config = proxy(info);
                    config.hwm = info.hwm;
                    config.liveness = info.liveness;
                    (info.name.to_owned(), config)
                })
                .collect(),
            channels: self
                .channels
                .iter()
                .map(|info| (info.name.to_owned(), channel(info.name, info.endpoint)))
                .collect(),
            security: None,
            placement: Placement::default(),
            startup: super::startup::Startup::default(),
        }
    }
}

/// A direct (proxy-less) endpoint of a [`Wiring`]: where its owning port binds, and where its
/// peers connect.
///
/// By default `connect` is `None` and every connecting port uses the address its own YAML
/// gives (peers on other hosts write the binder's host name). Set it to send every peer
/// elsewhere; binding on an ephemeral port (`tcp://127.0.0.1:0`) sets it to the port actually
/// bound, so a whole topology can run on ephemeral ports in one process.
///
/// # Examples
///
/// ```
/// use hermes_runtime::topology::DirectEndpoint;
///
/// let mut endpoint = DirectEndpoint::new("tcp://127.0.0.1:0");
/// assert_eq!(endpoint.connect_endpoint("tcp://127.0.0.1:7000"), "tcp://127.0.0.1:7000");
/// endpoint.record_bound("tcp://127.0.0.1:40123");
/// assert_eq!(endpoint.connect_endpoint("tcp://127.0.0.1:7000"), "tcp://127.0.0.1:40123");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectEndpoint {
    /// Where the owning port binds.
    pub bind: String,
    /// Where peers connect instead of the address their YAML gives, when set.
    pub connect: Option<String>,
    /// The host its binder runs on, as the YAML places it: peers on other hosts that write a
    /// loopback address reach a wildcard bind at this host's address.
    pub host: Option<String>,
}

impl DirectEndpoint {
    /// Bound at `bind`; peers connect where their YAML says.
    pub fn new(bind: impl Into<String>) -> DirectEndpoint {
        DirectEndpoint {
            bind: bind.into(),
            connect: None,
            host: None,
        }
    }

    /// Bound at `endpoint`, and every peer connects there (a wildcard host becoming loopback).
    pub fn shared(endpoint: impl Into<String>) -> DirectEndpoint {
        let endpoint = endpoint.into();
        DirectEndpoint {
            connect: Some(connectable(&endpoint)),
            bind: endpoint,
            host: None,
        }
    }

    /// Where a peer whose YAML says `declared` connects.
    pub fn connect_endpoint<'a>(&'a self, declared: &'a str) -> &'a str {
        self.connect.as_deref().unwrap_or(declared)
    }

    /// Records the endpoint the owning port actually bound: when `bind` asked for an ephemeral
    /// port (`:0` or `:*`) and `connect` is not set, peers connect there (a wildcard host
    /// becoming loopback).
    pub fn record_bound(&mut self, bound: &str) {
        let ephemeral = Endpoint::parse(&self.bind).is_ok_and(|bind| bind.is_ephemeral());
        if ephemeral && self.connect.is_none() {
            self.connect = Some(connectable(bound));
        }
        bound.clone_into(&mut self.bind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{ChannelInfo, HostInfo};

    static TOPOLOGY: TopologyInfo = TopologyInfo::new(
        "desk",
        &[],
        &[
            ProxyInfo::new("market", "tcp://*:6000", "tcp://10.0.0.5:6001", None, 1000)
                .on_host("edge"),
        ],
        &[ChannelInfo::new("strategy_orders", "tcp://*:7000").on_host("core")],
        &[],
    )
    .with_hosts(&[
        HostInfo::new("edge", "10.0.0.5"),
        HostInfo::new("core", "core.desk.internal"),
    ]);

    #[test]
    fn a_wildcard_bind_on_another_host_is_reached_at_that_hosts_address() {
        let wiring = TOPOLOGY.wiring();
        let reach = |from| {
            wiring
                .proxy_endpoint("market", ProxySide::Frontend, from)
                .unwrap()
        };
        assert_eq!(reach(Some("core")), "tcp://10.0.0.5:6000");
        assert_eq!(reach(None), "tcp://10.0.0.5:6000");
        // On the proxy's own host, loopback.
        assert_eq!(reach(Some("edge")), "tcp://127.0.0.1:6000");
        // A side bound to an address is connected to there, from anywhere.
        let backend = wiring.proxy_endpoint("market", ProxySide::Backend, Some("core"));
        assert_eq!(backend.unwrap(), "tcp://10.0.0.5:6001");
    }

    #[test]
    fn an_overridden_side_is_used_as_given() {
        let mut wiring = TOPOLOGY.wiring();
        wiring.proxy_mut("market").unwrap().frontend = "tcp://*:7100".into();
        let reached = wiring.proxy_endpoint("market", ProxySide::Frontend, Some("core"));
        assert_eq!(reached.unwrap(), "tcp://127.0.0.1:7100");
    }

    #[test]
    fn a_direct_channel_is_reached_at_its_binders_host() {
        let mut wiring = TOPOLOGY.wiring();
        // Named by host: the host's address.
        let by_name = wiring.channel_endpoint("strategy_orders", "tcp://core:7000", Some("edge"));
        assert_eq!(by_name.unwrap(), "tcp://core.desk.internal:7000");
        // Written as loopback on another host: derived from where the binder binds.
        let loopback =
            wiring.channel_endpoint("strategy_orders", "tcp://127.0.0.1:7000", Some("edge"));
        assert_eq!(loopback.unwrap(), "tcp://core.desk.internal:7000");
        // On the binder's own host, as written.
        let local =
            wiring.channel_endpoint("strategy_orders", "tcp://127.0.0.1:7000", Some("core"));
        assert_eq!(local.unwrap(), "tcp://127.0.0.1:7000");
        // An override wins.
        *wiring.channel_mut("strategy_orders").unwrap() = DirectEndpoint::shared("tcp://*:7200");
        let overridden =
            wiring.channel_endpoint("strategy_orders", "tcp://core:7000", Some("edge"));
        assert_eq!(overridden.unwrap(), "tcp://127.0.0.1:7200");
    }
}
