//! The topology as a [petgraph] graph: nodes, proxies and topics as vertices, typed edges
//! for who publishes what, who receives it, and which proxy side a node is wired to.
//!
//! A topic vertex is one topic on one *channel*: a proxy, or a directly bound endpoint.
//! Subscriptions are linked to every topic on their channel that they match by segment
//! prefix (see [`hermes_core::topic::matches`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::model::{Direction, Port, Topology};
use hermes_core::{Endpoint, EndpointError};

/// Identifies a port: which node, which list, which position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId {
    /// The node's position in `nodes:`.
    pub node: usize,
    /// `publishes:` or `subscribes:`.
    pub direction: Direction,
    /// The position in that list.
    pub index: usize,
}

pub use hermes_core::ProxySide;

/// Where messages meet: a proxy, or a directly bound endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// The proxy at this position in `proxies:`.
    Proxy(usize),
    /// A direct endpoint, as a normalised key (`tcp://machine:port`, `ipc://machine:path`,
    /// `inproc://name`).
    Endpoint(String),
}

/// How a port reaches its channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `via:` a proxy.
    Via,
    /// `bind:` an endpoint.
    Bind(Endpoint),
    /// `connect:` an endpoint.
    Connect(Endpoint),
}

/// What the graph knows about one port.
#[derive(Clone, Debug)]
pub struct ResolvedPort {
    /// Which port.
    pub id: PortId,
    /// How it connects; `None` when its `via:`/`bind:`/`connect:` is missing, repeated,
    /// malformed or names an unknown proxy (those are reported by the checks).
    pub transport: Option<Transport>,
    /// The channel it publishes to or receives from, when known.
    pub channel: Option<Channel>,
    /// The proxy side the port is wired to, when its channel is a proxy.
    pub proxy_side: Option<ProxySide>,
    /// The topic vertices it publishes to or receives from.
    pub topics: Vec<usize>,
}

/// One topic on one channel.
#[derive(Clone, Debug)]
pub struct TopicInfo {
    /// The channel.
    pub channel: Channel,
    /// The full topic.
    pub topic: String,
    /// The ports that publish it, in file order.
    pub publishers: Vec<PortId>,
    /// The subscriptions that match it, in file order.
    pub subscribers: Vec<PortId>,
    /// Its vertex.
    pub vertex: NodeIndex,
}

/// A vertex of [`TopologyGraph::graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vertex {
    /// The node at this position in `nodes:`.
    Node(usize),
    /// The proxy at this position in `proxies:`.
    Proxy(usize),
    /// The topic at this position in [`TopologyGraph::topics`].
    Topic(usize),
}

/// An edge of [`TopologyGraph::graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Node → topic: the port publishes the topic.
    Publishes(PortId),
    /// Topic → node: the subscription receives the topic.
    Delivers(PortId),
    /// Node → proxy (publishers) or proxy → node (subscribers): the port is wired to this
    /// side of the proxy.
    Wired(PortId, ProxySide),
    /// Proxy → topic: the topic flows through the proxy.
    Carries,
}

/// A bound socket: the proxies' three sides and every `bind:` port.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The endpoint as parsed.
    pub endpoint: Endpoint,
    /// The normalised key; two bindings with one key conflict.
    pub key: String,
    /// Who binds it.
    pub owner: BindingOwner,
    /// The process it runs in.
    pub process: String,
}

/// Who owns a [`Binding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingOwner {
    /// A side of the proxy at this position.
    Proxy(usize, ProxySide),
    /// A port with `bind:`.
    Port(PortId),
}

/// The topology as a graph, with lookup tables for the checks and for code generation.
#[derive(Clone, Debug, Default)]
pub struct TopologyGraph {
    /// The graph itself.
    pub graph: DiGraph<Vertex, Edge>,
    /// The vertex of each node, by position in `nodes:`.
    pub node_vertices: Vec<NodeIndex>,
    /// The vertex of each proxy, by position in `proxies:`.
    pub proxy_vertices: Vec<NodeIndex>,
    /// Every port, nodes in order, publications before subscriptions.
    pub ports: Vec<ResolvedPort>,
    /// Every published topic on its channel.
    pub topics: Vec<TopicInfo>,
    /// Every bound socket whose endpoint parses.
    pub bindings: Vec<Binding>,
    port_index: HashMap<PortId, usize>,
}

/// The topology's machines: host names, and the names of the addresses `hosts:` gives
/// them, so that an endpoint written with a host's address and one written with its name meet.
#[derive(Default)]
struct Machines(HashMap<String, String>);

impl Machines {
    fn new(topology: &Topology) -> Machines {
        let mut names = HashMap::new();
        for (name, host) in topology.hosts.iter() {
            let name = name.to_ascii_lowercase();
            names.insert(host.address.to_ascii_lowercase(), name.clone());
            names.insert(name.clone(), name);
        }
        Machines(names)
    }

    /// The host an endpoint's host part names, when it is a declared host or its address.
    fn declared(&self, host: &str) -> Option<&str> {
        self.0.get(&host.to_ascii_lowercase()).map(String::as_str)
    }

    /// The machine a socket lives on: its owner's `host:`, else the host it binds to when
    /// that is a declared host or not a wildcard or loopback address, else `localhost`.
    fn of(&self, owner_host: Option<&str>, endpoint: &Endpoint) -> String {
        match (owner_host, endpoint) {
            (Some(host), _) => self
                .declared(host)
                .map_or_else(|| host.to_ascii_lowercase(), str::to_owned),
            (None, Endpoint::Tcp { host, .. }) => match self.declared(host) {
                Some(machine) => machine.to_owned(),
                None if !endpoint.is_local_host() => host.to_ascii_lowercase(),
                None => "localhost".to_string(),
            },
            _ => "localhost".to_string(),
        }
    }

    /// The channel key of an endpoint as bound by a socket on `owner_host`.
    fn bind_key(&self, owner_host: Option<&str>, endpoint: &Endpoint) -> String {
        match endpoint {
            Endpoint::Tcp { port, .. } => {
                format!("tcp://{}:{port}", self.of(owner_host, endpoint))
            }
            Endpoint::Ipc { path } => format!("ipc://{}:{path}", self.of(owner_host, endpoint)),
            Endpoint::Inproc { name } => format!("inproc://{name}"),
        }
    }

    /// The channel key of an endpoint as connected to by a socket on `owner_host`: a declared
    /// host (by name or address) or a remote address names the machine bound there.
    fn connect_key(&self, owner_host: Option<&str>, endpoint: &Endpoint) -> String {
        match endpoint {
            Endpoint::Tcp { host, port } => match self.declared(host) {
                Some(machine) => format!("tcp://{machine}:{port}"),
                None if !endpoint.is_local_host() => {
                    format!("tcp://{}:{port}", host.to_ascii_lowercase())
                }
                None => self.bind_key(owner_host, endpoint),
            },
            _ => self.bind_key(owner_host, endpoint),
        }
    }
}

impl TopologyGraph {
    /// Who feeds whom: vertex `i` (weight `i`) is the node at position `i` in `nodes:`, and an
    /// edge runs from a publisher to each node that receives one of its topics, once per pair
    /// (a node that receives its own publication has a self-loop), in the order the topics
    /// and their ports come.
    ///
    /// ```
    /// let loaded = hermes_build::load("tests/fixtures/valid/trading/topology.yaml")?;
    /// let flow = loaded.graph.data_flow();
    /// assert_eq!(flow.node_count(), loaded.topology.nodes.len());
    /// assert!(flow.edge_count() > 0);
    /// # Ok::<(), hermes_build::LoadError>(())
    /// ```
    pub fn data_flow(&self) -> DiGraph<usize, ()> {
        let node_count = self.node_vertices.len();
        let mut flow = DiGraph::with_capacity(node_count, 0);
        for node in 0..node_count {
            flow.add_node(node);
        }
        let mut edges: HashSet<(usize, usize)> = HashSet::new();
        for topic in &self.topics {
            for publisher in &topic.publishers {
                for subscriber in &topic.subscribers {
                    if edges.insert((publisher.node, subscriber.node)) {
                        flow.add_edge(
                            NodeIndex::new(publisher.node),
                            NodeIndex::new(subscriber.node),
                            (),
                        );
                    }
                }
            }
        }
        flow
    }

    /// Builds the graph. Ports whose wiring is invalid are left out of it; the checks report
    /// them.
    ///
    /// ```
    /// # use hermes_build::model::Topology;
    /// # fn show(topology: &Topology) {
    /// use hermes_build::TopologyGraph;
    /// let graph = TopologyGraph::build(topology);
    /// for topic in &graph.topics {
    ///     println!("{}: {} publishers", topic.topic, topic.publishers.len());
    /// }
    /// # }
    /// ```
    pub fn build(topology: &Topology) -> TopologyGraph {
        let mut this = TopologyGraph::default();
        let machines = Machines::new(topology);
        let proxy_names: HashMap<&str, usize> = topology
            .proxies
            .names()
            .enumerate()
            .map(|(index, name)| (name.as_str(), index))
            .rev()
            .collect();
        for (index, _) in topology.proxies.iter().enumerate() {
            let vertex = this.graph.add_node(Vertex::Proxy(index));
            this.proxy_vertices.push(vertex);
        }
        // Proxy endpoints, by channel key, to recognise ports wired to them explicitly.
        let mut proxy_endpoints: HashMap<String, (usize, ProxySide)> = HashMap::new();
        for (index, (name, proxy)) in topology.proxies.iter().enumerate() {
            let host = proxy.host.as_ref().map(|host| host.as_str());
            let sides = [
                (ProxySide::Frontend, Some(&proxy.frontend)),
                (ProxySide::Backend, Some(&proxy.backend)),
                (ProxySide::Capture, proxy.capture.as_ref()),
            ];
            for (side, endpoint) in sides {
                let Some(Ok(endpoint)) = endpoint.map(|text| parse_endpoint(text)) else {
                    continue;
                };
                let key = machines.bind_key(host, &endpoint);
                proxy_endpoints.entry(key.clone()).or_insert((index, side));
                this.bindings.push(Binding {
                    endpoint,
                    key,
                    owner: BindingOwner::Proxy(index, side),
                    process: proxy.process_name(name).to_string(),
                });
            }
        }

        let mut topic_index: HashMap<Channel, BTreeMap<String, usize>> = HashMap::new();
        for (node_position, (node_name, node)) in topology.nodes.iter().enumerate() {
            let node_vertex = this.graph.add_node(Vertex::Node(node_position));
            this.node_vertices.push(node_vertex);
            let host = node.host.as_ref().map(|host| host.as_str());
            for (direction, index, port) in node.ports() {
                let id = PortId {
                    node: node_position,
                    direction,
                    index,
                };
                let transport = transport_of(port);
                let mut proxy_side = None;
                let channel = match &transport {
                    Some(Transport::Via) => port
                        .via
                        .as_ref()
                        .and_then(|via| proxy_names.get(via.as_str()))
                        .map(|&proxy| {
                            proxy_side = Some(match direction {
                                Direction::Publish => ProxySide::Frontend,
                                Direction::Subscribe => ProxySide::Backend,
                            });
                            Channel::Proxy(proxy)
                        }),
                    Some(Transport::Bind(endpoint)) => {
                        let key = machines.bind_key(host, endpoint);
                        this.bindings.push(Binding {
                            endpoint: endpoint.clone(),
                            key: key.clone(),
                            owner: BindingOwner::Port(id),
                            process: node.process_name(node_name).to_string(),
                        });
                        Some(match proxy_endpoints.get(&key) {
                            Some(&(proxy, side)) => {
                                proxy_side = Some(side);
                                Channel::Proxy(proxy)
                            }
                            None => Channel::Endpoint(key),
                        })
                    }
                    Some(Transport::Connect(endpoint)) => {
                        let key = machines.connect_key(host, endpoint);
                        Some(match proxy_endpoints.get(&key) {
                            Some(&(proxy, side)) => {
                                proxy_side = Some(side);
                                Channel::Proxy(proxy)
                            }
                            None => Channel::Endpoint(key),
                        })
                    }
                    None => None,
                };
                if let (Some(Channel::Proxy(proxy)), Some(side)) = (&channel, proxy_side) {
                    let proxy_vertex = this.proxy_vertices[*proxy];
                    let edge = Edge::Wired(id, side);
                    match direction {
                        Direction::Publish => this.graph.add_edge(node_vertex, proxy_vertex, edge),
                        Direction::Subscribe => {
                            this.graph.add_edge(proxy_vertex, node_vertex, edge)
                        }
                    };
                }
                let mut topics = Vec::new();
                if let (Direction::Publish, Some(channel)) = (direction, &channel) {
                    let by_topic = topic_index.entry(channel.clone()).or_default();
                    let topic = match by_topic.get(port.topic.as_str()) {
                        Some(&topic) => topic,
                        None => {
                            let vertex = this.graph.add_node(Vertex::Topic(this.topics.len()));
                            if let Channel::Proxy(proxy) = channel {
                                this.graph.add_edge(
                                    this.proxy_vertices[*proxy],
                                    vertex,
                                    Edge::Carries,
                                );
                            }
                            this.topics.push(TopicInfo {
                                channel: channel.clone(),
                                topic: port.topic.value.clone(),
                                publishers: Vec::new(),
                                subscribers: Vec::new(),
                                vertex,
                            });
                            by_topic.insert(port.topic.value.clone(), this.topics.len() - 1);
                            this.topics.len() - 1
                        }
                    };
                    this.topics[topic].publishers.push(id);
                    this.graph.add_edge(
                        node_vertex,
                        this.topics[topic].vertex,
                        Edge::Publishes(id),
                    );
                    topics.push(topic);
                }
                this.port_index.insert(id, this.ports.len());
                this.ports.push(ResolvedPort {
                    id,
                    transport,
                    channel,
                    proxy_side,
                    topics,
                });
            }
        }

        // Subscriptions, once every publication is known.
        for position in 0..this.ports.len() {
            let port = &this.ports[position];
            if port.id.direction != Direction::Subscribe {
                continue;
            }
            let Some(channel) = &port.channel else {
                continue;
            };
            let Some(by_topic) = topic_index.get(channel) else {
                continue;
            };
            let id = port.id;
            let subscription = port_of(topology, id).map_or("", |port| port.topic.as_str());
            let matching: Vec<usize> = by_topic
                .range::<str, _>((
                    std::ops::Bound::Included(subscription),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|(topic, _)| topic.starts_with(subscription))
                .filter(|(topic, _)| hermes_core::topic::matches(subscription, topic))
                .map(|(_, &topic)| topic)
                .collect();
            let node_vertex = this.node_vertices[id.node];
            for &topic in &matching {
                this.topics[topic].subscribers.push(id);
                this.graph
                    .add_edge(this.topics[topic].vertex, node_vertex, Edge::Delivers(id));
            }
            this.ports[position].topics = matching;
        }
        this
    }

    /// What the graph knows about a port.
    pub fn port(&self, id: PortId) -> Option<&ResolvedPort> {
        self.port_index.get(&id).map(|&index| &self.ports[index])
    }
}

/// The port a [`PortId`] names.
pub fn port_of(topology: &Topology, id: PortId) -> Option<&Port> {
    let (_, node) = topology.nodes.entries().get(id.node)?;
    match id.direction {
        Direction::Publish => node.publishes.get(id.index),
        Direction::Subscribe => node.subscribes.get(id.index),
    }
}

/// The port's transport when exactly one of `via:`, `bind:` and `connect:` is set and its
/// endpoint parses.
fn transport_of(port: &Port) -> Option<Transport> {
    match (&port.via, &port.bind, &port.connect) {
        (Some(_), None, None) => Some(Transport::Via),
        (None, Some(endpoint), None) => parse_endpoint(endpoint).ok().map(Transport::Bind),
        (None, None, Some(endpoint)) => parse_endpoint(endpoint).ok().map(Transport::Connect),
        _ => None,
    }
}

/// Parses an endpoint as a topology may write it: the shared grammar, without ephemeral ports.
pub(crate) fn parse_endpoint(text: &str) -> Result<Endpoint, EndpointError> {
    let endpoint = Endpoint::parse(text)?;
    if endpoint.is_ephemeral() {
        return Err(EndpointError(
            "ephemeral ports are not allowed: peers must know the port in advance".into(),
        ));
    }
    Ok(endpoint)
}
