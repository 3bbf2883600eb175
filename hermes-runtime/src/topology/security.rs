//! A topology's security as its sockets need it: where keys live, whose keys each socket
//! admits, and which topics each admitted peer may publish and subscribe to.
//!
//! The roster comes from the port tables: on a proxy's frontend, the nodes that publish `via:`
//! it; on its backend, the nodes that subscribe `via:` it, and the operators; on its capture,
//! the operators. On a direct channel, the binder admits the nodes on the other side of it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hermes_core::ProxySide;

use super::info::{NodeInfo, PortInfo, PortWiring, TopologyInfo};
use super::wiring::Wiring;
use crate::error::{Error, Result};
use crate::security::{Access, Curve, KeyPair, KeyRole, KeyStore, Peer, ProxySecurity, PublicKey};

/// The security of a [`Wiring`](super::Wiring): keys, operators, pins and the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologySecurity {
    keys: KeyStore,
    operators: Vec<String>,
    pins: Vec<(KeyRole, String, String)>,
    roster: Roster,
}

/// A node and the topics it declared on one side of a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) node: String,
    pub(crate) topics: Vec<String>,
}

/// Who is on each side of one proxy or channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Sides {
    /// The node that binds it (channels only).
    pub(crate) binder: Option<String>,
    /// The nodes that publish on it.
    pub(crate) publishers: Vec<Member>,
    /// The nodes that subscribe on it.
    pub(crate) subscribers: Vec<Member>,
}

/// Who is on each side of every proxy and channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Roster {
    pub(crate) proxies: BTreeMap<String, Sides>,
    pub(crate) channels: BTreeMap<String, Sides>,
}

impl Roster {
    fn of(topology: &TopologyInfo) -> Roster {
        let mut roster = Roster::default();
        for proxy in topology.proxies {
            roster.proxies.entry(proxy.name.to_owned()).or_default();
        }
        for channel in topology.channels {
            roster.channels.entry(channel.name.to_owned()).or_default();
        }
        let join = |members: &mut Vec<Member>, node: &str, topic: &str| match members
            .iter_mut()
            .find(|member| member.node == node)
        {
            Some(member) => member.topics.push(topic.to_owned()),
            None => members.push(Member {
                node: node.to_owned(),
                topics: vec![topic.to_owned()],
            }),
        };
        for node in topology.nodes {
            let ports = (node.publishes.iter().map(|port| (true, port)))
                .chain(node.subscribes.iter().map(|port| (false, port)));
            for (publishes, port) in ports {
                match port.wiring {
                    PortWiring::Proxy(proxy, side) => {
                        let entry = roster.proxies.entry(proxy.to_owned()).or_default();
                        match side {
                            ProxySide::Frontend => {
                                join(&mut entry.publishers, node.name, port.topic);
                            }
                            ProxySide::Backend | ProxySide::Capture => {
                                join(&mut entry.subscribers, node.name, port.topic);
                            }
                        }
                    }
                    PortWiring::Bind(channel, _) | PortWiring::Connect(channel, _) => {
                        let entry = roster.channels.entry(channel.to_owned()).or_default();
                        if matches!(port.wiring, PortWiring::Bind(..)) {
                            entry.binder = Some(node.name.to_owned());
                        }
                        let side = if publishes {
                            &mut entry.publishers
                        } else {
                            &mut entry.subscribers
                        };
                        join(side, node.name, port.topic);
                    }
                }
            }
        }
        roster
    }
}

impl TopologySecurity {
    /// Security for `topology` with keys in `keys`: the topology's operators and pins, or
    /// operator `operator` alone and no pins when it has no `security:` section.
    pub(crate) fn new(topology: &TopologyInfo, keys: impl Into<PathBuf>) -> TopologySecurity {
        let (operators, pins) = match &topology.security {
            Some(security) => (
                security
                    .operators
                    .iter()
                    .map(|name| (*name).to_owned())
                    .collect(),
                security
                    .pins
                    .iter()
                    .filter_map(|(role, name, key)| {
                        let role = match *role {
                            "nodes" => KeyRole::Node,
                            "proxies" => KeyRole::Proxy,
                            "operators" => KeyRole::Operator,
                            _ => return None,
                        };
                        Some((role, (*name).to_owned(), (*key).to_owned()))
                    })
                    .collect(),
            ),
            None => (vec!["operator".to_owned()], Vec::new()),
        };
        TopologySecurity {
            keys: KeyStore::new(keys),
            operators,
            pins,
            roster: Roster::of(topology),
        }
    }

    /// The key directory.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// The operators admitted on every proxy's backend and capture.
    pub fn operators(&self) -> &[String] {
        &self.operators
    }

    /// `name`'s key pair, from its secret file.
    pub(crate) fn pair(&self, role: KeyRole, name: &str) -> Result<KeyPair> {
        let pair = self.keys.pair(role, name).map_err(Error::from)?;
        self.check_pin(role, name, pair.public())?;
        Ok(pair)
    }

    /// `name`'s public key, from its public file, checked against any pin.
    pub(crate) fn public(&self, role: KeyRole, name: &str) -> Result<PublicKey> {
        let key = self.keys.public(role, name).map_err(Error::from)?;
        self.check_pin(role, name, key)?;
        Ok(key)
    }

    fn check_pin(&self, role: KeyRole, name: &str, key: PublicKey) -> Result<()> {
        let pinned = self
            .pins
            .iter()
            .find(|(pin_role, pin_name, _)| *pin_role == role && pin_name == name);
        match pinned {
            Some((_, _, pin)) if *pin != key.to_z85() => Err(Error::Security {
                reason: format!(
                    "the public key in `{}` is not the one the topology pins for `{name}`",
                    self.keys.public_path(role, name).display()
                ),
            }),
            _ => Ok(()),
        }
    }
}

impl TopologyInfo {
    /// Writes a new key pair into `store` for every node and proxy of the topology and for its
    /// operators (those of its `security:` section, else `operator`), as `hermes keygen` does
    /// from the YAML: for tests and for programs that make their own keys.
    ///
    /// # Errors
    ///
    /// [`Error::Key`] when a pair cannot be made or written, or already exists.
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_runtime::topology::{ProxyInfo, TopologyInfo};
    /// use hermes_runtime::{KeyRole, KeyStore};
    ///
    /// static TOPOLOGY: TopologyInfo = TopologyInfo::new(
    ///     "demo",
    ///     &[],
    ///     &[ProxyInfo::new("market", "tcp://*:6000", "tcp://*:6001", None, 1000)],
    ///     &[],
    ///     &[],
    /// );
    /// let dir = tempfile::tempdir()?;
    /// let store = KeyStore::new(dir.path());
    /// TOPOLOGY.generate_keys(&store)?;
    /// assert!(store.public(KeyRole::Proxy, "market").is_ok());
    /// assert!(store.pair(KeyRole::Operator, "operator").is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generate_keys(&self, store: &KeyStore) -> Result<()> {
        let operators: Vec<&str> = match &self.security {
            Some(security) => security.operators.to_vec(),
            None => vec!["operator"],
        };
        let owners = (self.nodes.iter().map(|node| (KeyRole::Node, node.name)))
            .chain(
                self.proxies
                    .iter()
                    .map(|proxy| (KeyRole::Proxy, proxy.name)),
            )
            .chain(operators.into_iter().map(|name| (KeyRole::Operator, name)));
        for (role, name) in owners {
            store.write_pair(role, name, &KeyPair::generate()?, false)?;
        }
        Ok(())
    }
}

/// Whether CURVE covers `endpoint`: tcp and ipc do; inproc has no handshake to secure.
fn curve_covers(endpoint: &str) -> bool {
    !endpoint.starts_with("inproc://")
}

impl TopologySecurity {
    /// The operators as peers.
    fn operator_peers(&self) -> Result<Vec<Peer>> {
        self.operators
            .iter()
            .map(|name| {
                Ok(Peer::operator(
                    name.clone(),
                    self.public(KeyRole::Operator, name)?,
                ))
            })
            .collect()
    }

    /// `members` as peers: `publish` says whether they may publish their topics (or else
    /// subscribe to them).
    fn member_peers(&self, members: &[Member], publish: bool) -> Result<Vec<Peer>> {
        members
            .iter()
            .map(|member| {
                let peer = Peer::new(
                    member.node.clone(),
                    self.public(KeyRole::Node, &member.node)?,
                );
                Ok(if publish {
                    peer.publishes(member.topics.iter().cloned())
                } else {
                    peer.subscribes(member.topics.iter().cloned())
                })
            })
            .collect()
    }

    /// Proxy `name`'s keys and access: its publishers on the frontend, its subscribers and the
    /// operators on the backend, the operators on the capture socket.
    ///
    /// # Errors
    ///
    /// A key that is missing, unreadable, malformed, too open or not as pinned.
    pub(crate) fn proxy(&self, name: &str) -> Result<ProxySecurity> {
        let sides = self.roster.proxies.get(name).cloned().unwrap_or_default();
        let operators = self.operator_peers()?;
        let mut backend = self.member_peers(&sides.subscribers, false)?;
        backend.extend(operators.iter().cloned());
        Ok(ProxySecurity::new(self.pair(KeyRole::Proxy, name)?)
            .frontend(Access::new(self.member_peers(&sides.publishers, true)?))
            .backend(Access::new(backend))
            .capture(Access::new(operators)))
    }

    /// The CURVE role of `node`'s `port`, wired as `wiring` says: a client of its proxy or of
    /// the node that binds its channel, or the server of a channel it binds, admitting the
    /// nodes on the channel's other side (and, for a publication, the operators). `None` on
    /// inproc.
    ///
    /// # Errors
    ///
    /// A key that is missing, unreadable, malformed, too open or not as pinned, or a channel
    /// nobody binds.
    pub(crate) fn port(
        &self,
        wiring: &Wiring,
        node: &NodeInfo,
        port: &PortInfo,
        publishes: bool,
    ) -> Result<Option<Curve>> {
        let endpoint = match port.wiring {
            PortWiring::Proxy(proxy, side) => wiring.proxy_endpoint(proxy, side, node.host)?,
            PortWiring::Bind(channel, _) => wiring
                .channel(channel)
                .map_or_else(String::new, |entry| entry.bind.clone()),
            PortWiring::Connect(channel, declared) => wiring
                .channel_endpoint(channel, declared, node.host)
                .unwrap_or_else(|_| declared.to_owned()),
        };
        if !curve_covers(&endpoint) {
            return Ok(None);
        }
        let keys = self.pair(KeyRole::Node, node.name)?;
        let curve = match port.wiring {
            PortWiring::Proxy(proxy, _) => Curve::Client {
                keys,
                server: self.public(KeyRole::Proxy, proxy)?,
            },
            PortWiring::Bind(channel, _) => {
                let sides = self
                    .roster
                    .channels
                    .get(channel)
                    .cloned()
                    .unwrap_or_default();
                let mut peers = if publishes {
                    self.member_peers(&sides.subscribers, false)?
                } else {
                    self.member_peers(&sides.publishers, true)?
                };
                peers.retain(|peer| peer.name != node.name);
                if publishes {
                    peers.extend(self.operator_peers()?);
                }
                Curve::Server {
                    keys,
                    access: Access::new(peers),
                }
            }
            PortWiring::Connect(channel, _) => {
                let binder = self
                    .roster
                    .channels
                    .get(channel)
                    .and_then(|sides| sides.binder.clone())
                    .ok_or_else(|| Error::Security {
                        reason: format!(
                            "no node binds channel `{channel}`, so node `{}` has no server key \
                             to connect with",
                            node.name
                        ),
                    })?;
                Curve::Client {
                    keys,
                    server: self.public(KeyRole::Node, &binder)?,
                }
            }
        };
        Ok(Some(curve))
    }
}
