//! What every target writes from: the topology's processes in start order, what each runs,
//! the sockets it binds and the ones of other processes it connects to.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hermes_build::Loaded;
use hermes_build::graph::{BindingOwner, Channel, Transport};
use hermes_build::model::{Direction, ResourceRequests, RestartPolicy, RunCommand};
use hermes_core::{Endpoint, ProxySide};

/// Whether a process runs proxies only, or nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    /// Proxies only.
    Proxy,
    /// At least one node.
    Node,
}

impl Component {
    /// `proxy` or `node`, as labels write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Proxy => "proxy",
            Component::Node => "node",
        }
    }
}

/// The program a process runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Program {
    /// `hermes proxy --frontend … --backend … (--capture …|--no-capture)`, with the YAML's
    /// endpoints (containers override the bind addresses).
    HermesProxy {
        /// The proxy's name.
        proxy: String,
    },
    /// The crate's binary of this name.
    CrateBinary(String),
    /// `run:` as a shell command line.
    Shell(String),
    /// `run:` as a program and its arguments.
    Args(Vec<String>),
}

/// A socket a process binds.
#[derive(Clone, Debug)]
pub struct Bound {
    /// The environment variable that overrides it: `HERMES_MARKET_FRONTEND`, `HERMES_<CHANNEL>`.
    pub variable: String,
    /// The endpoint as the YAML writes it.
    pub endpoint: Endpoint,
    /// What it is, for names and messages: `market-frontend`, `trader_orders`.
    pub name: String,
    /// Whether a proxy binds it (its frontend, backend or capture).
    pub proxy_side: Option<(String, ProxySide)>,
}

/// A socket of another process that this one connects to.
#[derive(Clone, Debug)]
pub struct Used {
    /// The first port that connects to it, for messages: ``node `risk` subscribing `orders` ``.
    pub by: String,
    /// The binding process's position in [`Plan::processes`].
    pub process: usize,
    /// The socket's position in that process's [`Process::binds`].
    pub bound: usize,
}

/// One process: a proxy, a node, or a `process:` group.
#[derive(Clone, Debug)]
pub struct Process {
    /// Its name: the proxy's or node's, or the `process:` group's.
    pub name: String,
    /// Proxies only, or nodes.
    pub component: Component,
    /// The proxies it runs, in file order.
    pub proxies: Vec<String>,
    /// The nodes it runs, in file order.
    pub nodes: Vec<String>,
    /// `host:` of its first member.
    pub host: Option<String>,
    /// What it runs.
    pub program: Program,
    /// Restarted when: proxies always, nodes by `restart:`.
    pub restart: RestartPolicy,
    /// The container image.
    pub image: String,
    /// Whether the image is the default one, built by the exported Dockerfile.
    pub default_image: bool,
    /// Resource requests, the YAML's or the defaults.
    pub resources: ResourceRequests,
    /// Whether it publishes (and so should wait for its subscribers).
    pub publishes: bool,
    /// The sockets it binds.
    pub binds: Vec<Bound>,
    /// Other processes' sockets it connects to, by variable.
    pub uses: BTreeMap<String, Used>,
}

/// A topology, planned as processes.
#[derive(Debug)]
pub struct Plan<'a> {
    /// The loaded topology.
    pub loaded: &'a Loaded,
    /// The topology's name.
    pub name: String,
    /// The processes, proxies first, then nodes in `hermes up`'s start order.
    pub processes: Vec<Process>,
    /// The topology file.
    pub topology_file: PathBuf,
    /// The directory holding it.
    pub dir: PathBuf,
    /// Whether the topology has `security:`.
    pub secured: bool,
}

impl Plan<'_> {
    /// The crate binaries processes run, sorted.
    pub fn crate_binaries(&self) -> BTreeSet<&str> {
        self.processes
            .iter()
            .filter_map(|process| match &process.program {
                Program::CrateBinary(name) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether any process runs `hermes proxy`.
    pub fn runs_hermes(&self) -> bool {
        self.processes
            .iter()
            .any(|process| matches!(process.program, Program::HermesProxy { .. }))
    }

    /// The messages files, relative to the topology's directory, as the YAML names them.
    pub fn messages_files(&self) -> Vec<(String, PathBuf)> {
        self.loaded
            .topology
            .messages
            .iter()
            .map(|name| (name.value.clone(), self.dir.join(name.as_str())))
            .collect()
    }

    /// The socket `used` names.
    pub fn bound(&self, used: &Used) -> &Bound {
        &self.processes[used.process].binds[used.bound]
    }
}

/// The processes of a topology and their members, in start order: proxies in file order, then
/// nodes in [`crate::up::start_order`]; a `process:` group starts where its first member does.
pub fn process_groups(loaded: &Loaded) -> Vec<(String, Vec<Member>)> {
    let topology = &loaded.topology;
    let mut members: Vec<Member> = topology
        .proxies
        .iter()
        .enumerate()
        .map(|(index, _)| Member::Proxy(index))
        .collect();
    members.extend(crate::up::start_order(loaded).into_iter().map(Member::Node));
    let mut groups: Vec<(String, Vec<Member>)> = Vec::new();
    for member in members {
        let process = match member {
            Member::Proxy(index) => {
                let (name, proxy) = &topology.proxies.entries()[index];
                proxy.process_name(name).to_owned()
            }
            Member::Node(index) => {
                let (name, node) = &topology.nodes.entries()[index];
                node.process_name(name).to_owned()
            }
        };
        match groups.iter_mut().find(|(name, _)| *name == process) {
            Some((_, group)) => group.push(member),
            None => groups.push((process, vec![member])),
        }
    }
    for (_, group) in &mut groups {
        group.sort();
    }
    groups
}

/// A proxy or node, by position in the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Member {
    /// The proxy at this position in `proxies:`.
    Proxy(usize),
    /// The node at this position in `nodes:`.
    Node(usize),
}

/// The metrics port a process's members ask for themselves: the first member's `metrics:`.
pub fn own_metrics_port(loaded: &Loaded, members: &[Member]) -> Option<u16> {
    let topology = &loaded.topology;
    members
        .iter()
        .find_map(|member| match *member {
            Member::Proxy(index) => topology.proxies.entries()[index].1.metrics.as_ref(),
            Member::Node(index) => topology.nodes.entries()[index].1.metrics.as_ref(),
        })
        .map(|metrics| metrics.port.value)
}

/// The host a process runs on: its first member's `host:`.
pub fn host_of(loaded: &Loaded, members: &[Member]) -> Option<String> {
    let topology = &loaded.topology;
    members
        .iter()
        .find_map(|member| match *member {
            Member::Proxy(index) => topology.proxies.entries()[index].1.host.as_ref(),
            Member::Node(index) => topology.nodes.entries()[index].1.host.as_ref(),
        })
        .map(|host| host.value.clone())
}

/// Plans `loaded`, read from `topology_file`.
///
/// # Errors
///
/// A message naming the node whose `run:` is an empty list.
pub fn plan<'a>(loaded: &'a Loaded, topology_file: &Path) -> Result<Plan<'a>, String> {
    let topology = &loaded.topology;
    let secured = topology.security.is_some();
    let name = topology.name.value.clone();
    let fallback_image = format!("{}:latest", name.to_ascii_lowercase());
    let mut processes = Vec::new();
    for (process_name, members) in process_groups(loaded) {
        let proxies: Vec<String> = members
            .iter()
            .filter_map(|member| match *member {
                Member::Proxy(index) => Some(topology.proxies.entries()[index].0.value.clone()),
                Member::Node(_) => None,
            })
            .collect();
        let nodes: Vec<(usize, String)> = members
            .iter()
            .filter_map(|member| match *member {
                Member::Node(index) => {
                    Some((index, topology.nodes.entries()[index].0.value.clone()))
                }
                Member::Proxy(_) => None,
            })
            .collect();
        let node_models = nodes
            .iter()
            .map(|(index, _)| &topology.nodes.entries()[*index].1);
        let component = if nodes.is_empty() {
            Component::Proxy
        } else {
            Component::Node
        };
        let program = match (&proxies[..], nodes.is_empty()) {
            ([proxy], true) if !secured => Program::HermesProxy {
                proxy: proxy.clone(),
            },
            _ => {
                let run = nodes.iter().find_map(|(index, name)| {
                    topology.nodes.entries()[*index]
                        .1
                        .run
                        .as_ref()
                        .map(|run| (name, run))
                });
                match run.map(|(name, run)| (name, &run.value)) {
                    Some((_, RunCommand::Shell(line))) => Program::Shell(line.clone()),
                    Some((_, RunCommand::Args(args))) if !args.is_empty() => {
                        Program::Args(args.clone())
                    }
                    Some((name, RunCommand::Args(_))) => {
                        return Err(format!("node `{name}`: `run:` is an empty list"));
                    }
                    None => Program::CrateBinary(process_name.clone()),
                }
            }
        };
        let restart = if component == Component::Proxy || !proxies.is_empty() {
            RestartPolicy::Always
        } else {
            node_models
                .clone()
                .find_map(|node| node.restart.as_deref().copied())
                .unwrap_or_default()
        };
        let own_image = members.iter().find_map(|member| match *member {
            Member::Proxy(index) => topology.proxies.entries()[index].1.image.as_ref(),
            Member::Node(index) => topology.nodes.entries()[index].1.image.as_ref(),
        });
        let image = topology.image(own_image);
        let own_resources = members.iter().find_map(|member| match *member {
            Member::Proxy(index) => topology.proxies.entries()[index].1.resources.as_ref(),
            Member::Node(index) => topology.nodes.entries()[index].1.resources.as_ref(),
        });
        processes.push(Process {
            name: process_name,
            component,
            proxies,
            publishes: node_models.clone().any(|node| !node.publishes.is_empty()),
            nodes: nodes.into_iter().map(|(_, name)| name).collect(),
            host: host_of(loaded, &members),
            program,
            restart,
            default_image: image.is_none(),
            image: image.map_or_else(|| fallback_image.clone(), str::to_owned),
            resources: topology.resources(own_resources),
            binds: Vec::new(),
            uses: BTreeMap::new(),
        });
    }
    wire(loaded, &mut processes);
    let dir = topology_file
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok(Plan {
        loaded,
        name,
        processes,
        topology_file: topology_file.to_path_buf(),
        dir,
        secured,
    })
}

/// Fills in every process's bound sockets and the other processes' sockets it connects to.
fn wire(loaded: &Loaded, processes: &mut [Process]) {
    let topology = &loaded.topology;
    let graph = &loaded.graph;
    let index_of: BTreeMap<String, usize> = processes
        .iter()
        .enumerate()
        .map(|(index, process)| (process.name.clone(), index))
        .collect();
    let position = |process: &str| index_of.get(process).copied();
    let channels = hermes_build::channel_names(loaded);
    // binding key -> where it is bound
    let mut bound_at: BTreeMap<String, Used> = BTreeMap::new();
    // proxy side -> its binding key, to find what a `via:` or a connect to a side reaches
    let mut proxy_keys: BTreeMap<(usize, &str), String> = BTreeMap::new();
    for binding in &graph.bindings {
        let Some(process) = position(&binding.process) else {
            continue;
        };
        let bound = match binding.owner {
            BindingOwner::Proxy(index, side) => {
                let proxy = topology.proxies.entries()[index].0.as_str();
                proxy_keys.insert((index, side_name(side)), binding.key.clone());
                Bound {
                    variable: hermes_runtime::topology::override_variable(&[
                        proxy,
                        side_name(side),
                    ]),
                    endpoint: binding.endpoint.clone(),
                    name: format!("{proxy}-{}", side_name(side)),
                    proxy_side: Some((proxy.to_owned(), side)),
                }
            }
            BindingOwner::Port(_) => {
                let Some(channel) = channels.get(&binding.key) else {
                    continue;
                };
                Bound {
                    variable: hermes_runtime::topology::override_variable(&[channel]),
                    endpoint: binding.endpoint.clone(),
                    name: channel.clone(),
                    proxy_side: None,
                }
            }
        };
        let used = Used {
            by: String::new(),
            process,
            bound: processes[process].binds.len(),
        };
        processes[process].binds.push(bound);
        bound_at.insert(binding.key.clone(), used);
    }
    for port in &graph.ports {
        let Some((node_name, node)) = topology.nodes.entries().get(port.id.node) else {
            continue;
        };
        let Some(process) = position(node.process_name(node_name)) else {
            continue;
        };
        let key = match (&port.channel, &port.transport) {
            (Some(Channel::Proxy(index)), _) => {
                let side = port.proxy_side.unwrap_or(match port.id.direction {
                    Direction::Publish => ProxySide::Frontend,
                    Direction::Subscribe => ProxySide::Backend,
                });
                proxy_keys.get(&(*index, side_name(side))).cloned()
            }
            (Some(Channel::Endpoint(key)), Some(Transport::Connect(_))) => Some(key.clone()),
            _ => None,
        };
        let Some(used) = key.and_then(|key| bound_at.get(&key)) else {
            continue;
        };
        if used.process != process {
            let variable = processes[used.process].binds[used.bound].variable.clone();
            let (verb, topic) = match port.id.direction {
                Direction::Publish => ("publishing", &node.publishes[port.id.index].topic),
                Direction::Subscribe => ("subscribing", &node.subscribes[port.id.index].topic),
            };
            let by = format!(
                "node `{node_name}` {verb} `{topic}`",
                topic = topic.as_str()
            );
            processes[process]
                .uses
                .entry(variable)
                .or_insert(Used { by, ..used.clone() });
        }
    }
}

/// `frontend`, `backend` or `capture`.
pub fn side_name(side: ProxySide) -> &'static str {
    match side {
        ProxySide::Frontend => "frontend",
        ProxySide::Backend => "backend",
        ProxySide::Capture => "capture",
    }
}

/// Where containers find the topology and messages files (`working_dir` too, as `hermes up`
/// runs processes in the topology's directory).
pub const CONFIG_DIR: &str = "/etc/hermes";

/// Where containers find their keys (`HERMES_KEYS`).
pub const KEYS_DIR: &str = "/etc/hermes-keys";

/// Seconds a publisher in a container waits for its subscribers (`HERMES_SUBSCRIBER_WAIT`):
/// containers start in any order.
pub const SUBSCRIBER_WAIT_SECONDS: u32 = 5;

/// Where a container binds `endpoint`: tcp on every interface, others as written.
fn bind_everywhere(endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Tcp { port, .. } => format!("tcp://*:{port}"),
        other => other.to_string(),
    }
}

impl Plan<'_> {
    /// Refuses what cannot cross containers (`word`: `containers` or `pods`): an ipc or inproc
    /// socket another process connects to, or an ephemeral tcp port others must find.
    ///
    /// # Errors
    ///
    /// A message naming the socket, who binds it and who connects to it.
    pub fn check_containers(&self, word: &str) -> Result<(), String> {
        for process in &self.processes {
            for used in process.uses.values() {
                let bound = self.bound(used);
                let binder = &self.processes[used.process].name;
                match &bound.endpoint {
                    Endpoint::Tcp { port: 0, .. } => {
                        return Err(format!(
                            "`{}` ({}) binds an ephemeral port, which {} reaches from another of \
                             the {word}\nhelp: give it a fixed port, as `tcp://*:PORT`",
                            bound.endpoint, bound.name, used.by
                        ));
                    }
                    Endpoint::Tcp { .. } => {}
                    Endpoint::Ipc { .. } | Endpoint::Inproc { .. } => {
                        return Err(format!(
                            "`{}` ({}, bound by process `{binder}`) links to {} in process \
                             `{}`, and ipc and inproc cannot cross {word}\nhelp: use tcp, as \
                             `tcp://*:PORT`, or run both in one process (`process:`)",
                            bound.endpoint, bound.name, used.by, process.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The command a container runs: binders of tcp sockets on every interface.
    pub fn container_command(&self, process: &Process) -> Vec<String> {
        match &process.program {
            Program::HermesProxy { proxy } => {
                let Some(config) = self.loaded.topology.proxies.get(proxy) else {
                    return vec!["hermes".to_owned(), "proxy".to_owned()];
                };
                let side = |text: &str| {
                    Endpoint::parse(text).map_or_else(|_| text.to_owned(), |e| bind_everywhere(&e))
                };
                let mut command = vec![
                    "hermes".to_owned(),
                    "proxy".to_owned(),
                    "--name".to_owned(),
                    proxy.clone(),
                    "--frontend".to_owned(),
                    side(config.frontend.as_str()),
                    "--backend".to_owned(),
                    side(config.backend.as_str()),
                ];
                match &config.capture {
                    Some(capture) => {
                        command.extend(["--capture".to_owned(), side(capture.as_str())]);
                    }
                    None => command.push("--no-capture".to_owned()),
                }
                command.extend(crate::proxy::liveness_flags(
                    self.loaded.topology.liveness(config.liveness.as_ref()),
                ));
                command
            }
            Program::CrateBinary(name) => vec![name.clone()],
            Program::Shell(line) => vec!["sh".to_owned(), "-c".to_owned(), line.clone()],
            Program::Args(args) => args.clone(),
        }
    }

    /// A container's environment: its tcp binds on every interface, the sockets it connects
    /// to at `host_of(binder, socket)`, metrics on `metrics`, the subscriber wait for
    /// publishers and the key directory when secured.
    pub fn container_env(
        &self,
        process: &Process,
        host_of: &dyn Fn(&Process, &Bound) -> String,
        metrics: Option<u16>,
    ) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        if !matches!(process.program, Program::HermesProxy { .. }) {
            for bound in &process.binds {
                if let Endpoint::Tcp { .. } = bound.endpoint {
                    env.insert(bound.variable.clone(), bind_everywhere(&bound.endpoint));
                }
            }
        }
        for (variable, used) in &process.uses {
            let bound = self.bound(used);
            if let Endpoint::Tcp { port, .. } = bound.endpoint {
                let host = host_of(&self.processes[used.process], bound);
                env.insert(variable.clone(), format!("tcp://{host}:{port}"));
            }
        }
        if let Some(port) = metrics {
            env.insert("HERMES_METRICS".to_owned(), format!("0.0.0.0:{port}"));
        }
        if process.publishes {
            env.insert(
                "HERMES_SUBSCRIBER_WAIT".to_owned(),
                SUBSCRIBER_WAIT_SECONDS.to_string(),
            );
        }
        if self.secured {
            env.insert("HERMES_KEYS".to_owned(), KEYS_DIR.to_owned());
        }
        env
    }

    /// The files a process's keys come from, as (path inside the key directory, file on this
    /// machine): its members' secret files, then every public key (each process may meet any
    /// peer; public keys are not secret).
    ///
    /// # Errors
    ///
    /// A message naming the first missing file and how to make it.
    pub fn key_files(&self, process: &Process) -> Result<Vec<(String, PathBuf)>, String> {
        let keys = crate::keygen::key_directory(self.loaded);
        let store = hermes_runtime::KeyStore::new(&keys);
        let mut files = Vec::new();
        let roles = [
            (hermes_runtime::KeyRole::Proxy, &process.proxies),
            (hermes_runtime::KeyRole::Node, &process.nodes),
        ];
        for (role, names) in roles {
            for name in names {
                let path = store.secret_path(role, name);
                files.push((format!("{}/{name}.key_secret", role.dir_name()), path));
            }
        }
        let topology = &self.loaded.topology;
        let operators: Vec<String> = topology
            .security
            .as_ref()
            .map(|security| {
                security
                    .operator_names()
                    .iter()
                    .map(|n| (*n).to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let everyone = [
            (
                hermes_runtime::KeyRole::Node,
                topology
                    .nodes
                    .names()
                    .map(|n| n.value.clone())
                    .collect::<Vec<_>>(),
            ),
            (
                hermes_runtime::KeyRole::Proxy,
                topology.proxies.names().map(|n| n.value.clone()).collect(),
            ),
            (hermes_runtime::KeyRole::Operator, operators),
        ];
        for (role, names) in everyone {
            for name in names {
                let path = store.public_path(role, &name);
                files.push((format!("{}/{name}.key", role.dir_name()), path));
            }
        }
        for (_, path) in &files {
            if !path.is_file() {
                return Err(format!(
                    "the topology has `security:` but the key file `{}` is missing\nhelp: run \
                     `hermes keygen {}` first",
                    path.display(),
                    self.topology_file.display()
                ));
            }
        }
        Ok(files)
    }
}
