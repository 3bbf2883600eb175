//! `hermes up`: start a topology's proxies and nodes as child processes and supervise them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hermes_build::Loaded;
use hermes_build::model::{RestartPolicy, RunCommand};
use petgraph::Direction::{Incoming, Outgoing};
use petgraph::algo::condensation;
use petgraph::graph::NodeIndex;

use crate::supervise::{Service, Supervisor};
use crate::{FINDINGS, USAGE_OR_IO};

/// Arguments of `hermes up`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Like `docker compose up`. Proxies start first (as `hermes proxy`), then the nodes, each with \
its `run:` command (without one, the binary of its name in the crate next to the topology: \
`cargo run --bin NAME`). A node starts after every node that receives what it publishes, so \
subscribers are up before their publishers; nodes that feed each other start in file order. \
A node starts once the subscribers of what it publishes are ready (`--ready-timeout`), and its \
publications wait up to 5 s for their first subscriber (`HERMES_SUBSCRIBER_WAIT`), so no first \
message goes to nobody. \
Output lines are prefixed with the process name. A process that exits is restarted as its \
`restart:` key says (`on-failure` by default, `always`, `never`; proxies always), after 250 ms \
doubling to 8 s. Ctrl-C or SIGTERM stops everything: SIGTERM, `--grace` seconds, then SIGKILL.

Examples:
  hermes up examples/trading/topology.yaml
  hermes up topology.yaml --only market strategy risk
  hermes up topology.yaml --host edge-1 --duration 60")]
pub struct Args {
    /// The topology file.
    #[arg(default_value = "topology.yaml")]
    topology: PathBuf,
    /// Start only these proxies and nodes.
    #[arg(long, num_args = 1.., value_name = "NAME")]
    only: Vec<String>,
    /// Start only the proxies and nodes placed on this host (`host:` in the topology).
    #[arg(long)]
    host: Option<String>,
    /// Seconds a process gets to stop after SIGTERM before it is killed.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    grace: f64,
    /// Stop everything after this many seconds.
    #[arg(long, value_parser = positive_seconds)]
    duration: Option<f64>,
    /// Seconds a node waits for the subscribers of what it publishes to be ready (their
    /// subscriptions connected) before it starts anyway. Hermes processes say so through
    /// `HERMES_READY_FILE`; other programs (a Python node) never do, and hold their publishers
    /// back this long.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    ready_timeout: f64,
    /// Run secured with the CURVE keys in DIR (`hermes keygen` writes them): every process gets
    /// `HERMES_KEYS=DIR`, and proxies run as the crate's own proxy binaries, which know the
    /// topology's access rules. Default: the topology's `security.keys`, if it has one.
    #[arg(long, value_name = "DIR", env = "HERMES_KEYS")]
    keys: Option<PathBuf>,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 => Ok(seconds),
        _ => Err(format!(
            "expected a positive number of seconds, found `{text}`"
        )),
    }
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let loaded = match crate::topology::load(&args.topology) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let path = crate::topology::resolve(&args.topology);
    let services = match plan(&loaded, &path, args) {
        Ok(services) => services,
        Err(message) => {
            eprintln!("error: {message}");
            return USAGE_OR_IO;
        }
    };
    if services.is_empty() {
        eprintln!("error: nothing to start: no proxy or node matches `--only`/`--host`");
        return USAGE_OR_IO;
    }
    let grace = Duration::from_secs_f64(args.grace);
    let duration = args.duration.map(Duration::from_secs_f64);
    let ready_timeout = Duration::from_secs_f64(args.ready_timeout);
    let outcome = Supervisor::new(services, grace, ready_timeout).run(duration);
    let _ = std::fs::remove_dir_all(ready_dir());
    match outcome {
        Ok(summary) if summary.all_clean() => 0,
        Ok(_) => FINDINGS,
        Err(err) => {
            eprintln!("error: {err}");
            USAGE_OR_IO
        }
    }
}

/// What to start, in order: proxies in file order, then nodes in [`start_order`].
fn plan(loaded: &Loaded, path: &Path, args: &Args) -> Result<Vec<Service>, String> {
    let topology = &loaded.topology;
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    for name in &args.only {
        if topology.proxies.get(name).is_none() && topology.nodes.get(name).is_none() {
            let known: Vec<&str> = topology
                .proxies
                .names()
                .chain(topology.nodes.names())
                .map(|name| name.as_str())
                .collect();
            return Err(format!(
                "`--only {name}`: no proxy or node of that name; expected one of {}",
                known
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let selected = |name: &str, host: Option<&str>| {
        (args.only.is_empty() || args.only.iter().any(|only| only == name))
            && args
                .host
                .as_deref()
                .is_none_or(|wanted| host == Some(wanted))
    };
    let hermes =
        std::env::current_exe().map_err(|err| format!("cannot find the hermes binary: {err}"))?;
    let keys = match (&args.keys, &topology.security) {
        (Some(keys), _) => Some(std::path::absolute(keys).unwrap_or_else(|_| keys.clone())),
        (None, Some(_)) => {
            let keys = crate::keygen::key_directory(loaded);
            Some(std::path::absolute(&keys).unwrap_or(keys))
        }
        (None, None) => None,
    };
    let env: Vec<(String, String)> = keys
        .iter()
        .map(|keys| ("HERMES_KEYS".to_owned(), keys.display().to_string()))
        .collect();
    let metrics = crate::export::metrics_ports(loaded, crate::export::Placement::Hosts);
    let metrics_env = |process: &str| {
        metrics
            .get(process)
            .map(|port| ("HERMES_METRICS".to_owned(), format!("0.0.0.0:{port}")))
    };
    let mut services = Vec::new();
    for (name, proxy) in topology.proxies.iter() {
        if !selected(name, proxy.host.as_deref().map(String::as_str)) {
            continue;
        }
        let mut ready = vec![proxy.frontend.to_string(), proxy.backend.to_string()];
        ready.extend(proxy.capture.as_ref().map(|capture| capture.to_string()));
        if keys.is_some() {
            // `hermes proxy` forwards without knowing who may publish what; the crate's own
            // proxy binary (generated `proxy_main`) enforces the topology's access.
            services.push(Service {
                name: name.to_string(),
                command: crate_binary(&dir, name)?,
                dir: dir.clone(),
                restart: RestartPolicy::Always,
                ready_endpoints: ready,
                env: env.iter().cloned().chain(metrics_env(name)).collect(),
                ready_file: None,
                after_ready: Vec::new(),
            });
            continue;
        }
        let mut command = vec![
            hermes.display().to_string(),
            "proxy".to_owned(),
            "--name".to_owned(),
            name.to_string(),
            "--frontend".to_owned(),
            proxy.frontend.to_string(),
            "--backend".to_owned(),
            proxy.backend.to_string(),
        ];
        match &proxy.capture {
            Some(capture) => command.extend(["--capture".to_owned(), capture.to_string()]),
            None => command.push("--no-capture".to_owned()),
        }
        command.extend(crate::proxy::liveness_flags(
            topology.liveness(proxy.liveness.as_ref()),
        ));
        services.push(Service {
            name: name.to_string(),
            command,
            dir: dir.clone(),
            restart: RestartPolicy::Always,
            ready_endpoints: ready,
            env: metrics_env(name).into_iter().collect(),
            ready_file: None,
            after_ready: Vec::new(),
        });
    }
    let nodes = topology.nodes.entries();
    let ready_dir = ready_dir();
    std::fs::create_dir_all(&ready_dir)
        .map_err(|err| format!("cannot create `{}`: {err}", ready_dir.display()))?;
    let subscribers = subscribers_outside_cycles(loaded);
    for position in start_order(loaded) {
        let (name, node) = &nodes[position];
        if !selected(name, node.host.as_deref().map(String::as_str)) {
            continue;
        }
        let command = match node.run.as_deref() {
            Some(RunCommand::Shell(line)) => vec!["sh".to_owned(), "-c".to_owned(), line.clone()],
            Some(RunCommand::Args(args)) if !args.is_empty() => args.clone(),
            Some(RunCommand::Args(_)) => {
                return Err(format!("node `{name}`: `run:` is an empty list"));
            }
            None => crate_binary(&dir, name)?,
        };
        let ready_file = ready_dir.join(format!("{name}.ready"));
        let mut env = env.clone();
        env.extend(metrics_env(node.process_name(name)));
        env.push((
            "HERMES_READY_FILE".to_owned(),
            ready_file.display().to_string(),
        ));
        env.push((
            "HERMES_SUBSCRIBER_WAIT".to_owned(),
            SUBSCRIBER_WAIT_SECONDS.to_owned(),
        ));
        services.push(Service {
            name: name.to_string(),
            command,
            dir: dir.clone(),
            restart: node.restart.as_deref().copied().unwrap_or_default(),
            ready_endpoints: Vec::new(),
            env,
            ready_file: Some(ready_file),
            after_ready: subscribers[position]
                .iter()
                .map(|&subscriber| nodes[subscriber].0.to_string())
                .collect(),
        });
    }
    Ok(services)
}

/// Where the processes of this `hermes up` write their ready files.
fn ready_dir() -> PathBuf {
    std::env::temp_dir().join(format!("hermes-up-{}", std::process::id()))
}

/// How long (`HERMES_SUBSCRIBER_WAIT`) each node's publications wait for their subscribers.
const SUBSCRIBER_WAIT_SECONDS: &str = "5";

/// For each node (by position in `nodes:`), the nodes that receive what it publishes, except
/// those in a cycle with it: it starts once they are ready. Nodes in a cycle start together.
fn subscribers_outside_cycles(loaded: &Loaded) -> Vec<Vec<usize>> {
    let flow = loaded.graph.data_flow();
    let mut component = vec![0; flow.node_count()];
    for (index, members) in petgraph::algo::tarjan_scc(&flow).into_iter().enumerate() {
        for member in members {
            component[flow[member]] = index;
        }
    }
    let mut subscribers = vec![Vec::new(); flow.node_count()];
    for edge in flow.raw_edges() {
        let (publisher, subscriber) = (flow[edge.source()], flow[edge.target()]);
        if component[publisher] != component[subscriber] {
            subscribers[publisher].push(subscriber);
        }
    }
    subscribers
}

/// The order nodes start in, as positions in `nodes:`: every node after the nodes that receive
/// what it publishes (the data flow of [`hermes_build::TopologyGraph::data_flow`], run backwards), so that
/// subscribers are up before their publishers and fewer first messages go to nobody (ZeroMQ's
/// slow joiner). Nodes that feed each other (a cycle) start together in file order; whenever
/// several nodes could start next, the one first in the file does.
pub fn start_order(loaded: &Loaded) -> Vec<usize> {
    let flow = loaded.graph.data_flow();
    // One vertex per cycle (strongly connected component), holding its nodes; acyclic.
    let mut components = condensation(flow, true);
    for members in components.node_weights_mut() {
        members.sort_unstable();
    }
    let first = |component: NodeIndex| components[component][0];
    // A component may start once every component it publishes to has started.
    let mut waiting_for: Vec<usize> = components
        .node_indices()
        .map(|component| components.neighbors_directed(component, Outgoing).count())
        .collect();
    let mut ready: BTreeSet<(usize, NodeIndex)> = components
        .node_indices()
        .filter(|component| waiting_for[component.index()] == 0)
        .map(|component| (first(component), component))
        .collect();
    let mut order = Vec::with_capacity(loaded.topology.nodes.len());
    while let Some((_, component)) = ready.pop_first() {
        order.extend_from_slice(&components[component]);
        for publisher in components.neighbors_directed(component, Incoming) {
            waiting_for[publisher.index()] -= 1;
            if waiting_for[publisher.index()] == 0 {
                ready.insert((first(publisher), publisher));
            }
        }
    }
    order
}

/// `cargo run --bin NAME` in the crate next to the topology (an absolute manifest path: the
/// child runs in `dir`, where a relative one would no longer resolve).
fn crate_binary(dir: &Path, name: &str) -> Result<Vec<String>, String> {
    let manifest = dir.join("Cargo.toml");
    let manifest = manifest.canonicalize().unwrap_or(manifest);
    if !manifest.is_file() {
        return Err(format!(
            "node `{name}` has no `run:` and there is no Cargo.toml next to the topology to run \
             its binary from\nhelp: add `run: <command>` to the node, or a `src/bin/{name}.rs`"
        ));
    }
    Ok([
        "cargo",
        "run",
        "--quiet",
        "--manifest-path",
        &manifest.display().to_string(),
        "--bin",
        name,
    ]
    .map(str::to_owned)
    .to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_without_run_is_its_crate_binary_by_absolute_manifest_path() {
        // Relative to the package root, as `hermes up examples/trading` gives it; the child
        // runs inside that directory, so the path must not stay relative.
        let command = crate_binary(Path::new("."), "monitor").expect("Cargo.toml is here");
        let manifest = Path::new(&command[4]);
        assert_eq!(command[3], "--manifest-path");
        assert!(manifest.is_absolute(), "{command:?}");
        assert!(manifest.is_file(), "{command:?}");
        assert_eq!(command[5..], ["--bin", "monitor"]);
    }

    fn names_in_start_order(loaded: &Loaded) -> Vec<&str> {
        let nodes = loaded.topology.nodes.entries();
        start_order(loaded)
            .into_iter()
            .map(|position| nodes[position].0.as_str())
            .collect()
    }

    #[test]
    fn the_trading_desk_starts_its_subscribers_before_their_publishers() {
        let loaded = hermes_build::load("../examples/trading/topology.yaml").expect("valid");
        // The monitor hears everyone; the executor fills for the monitor and hears risk; risk
        // decides the strategy's orders; the strategy hears the three feeds.
        assert_eq!(
            names_in_start_order(&loaded),
            [
                "monitor", "executor", "risk", "strategy", "bitstamp", "kraken", "coinbase"
            ]
        );
    }

    #[test]
    fn nodes_in_a_cycle_start_together_in_file_order_and_ties_go_by_file_order() {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(
            dir.path().join("messages.yaml"),
            "package: t\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n",
        )
        .expect("write");
        let port = |topic: &str| format!("{{ topic: {topic}, message: Tick, via: hub }}");
        let yaml = format!(
            "name: t\nmessages: [messages.yaml]\nproxies:\n  hub: {{ frontend: \"tcp://127.0.0.1:1\", backend: \"tcp://127.0.0.1:2\" }}\nnodes:\n  \
             feed: {{ publishes: [{ticks}] }}\n  \
             ping: {{ subscribes: [{ticks}, {pong}], publishes: [{ping}] }}\n  \
             pong: {{ subscribes: [{ping}], publishes: [{pong}] }}\n  \
             logger: {{ subscribes: [{ping}, {pong}] }}\n  \
             idle: {{}}\n",
            ticks = port("ticks"),
            ping = port("ping"),
            pong = port("pong"),
        );
        let path = dir.path().join("topology.yaml");
        std::fs::write(&path, yaml).expect("write");
        let loaded = hermes_build::load(&path).expect("valid, with warnings");
        // `logger` and `idle` wait for nobody: `logger` is first in the file. `ping` and
        // `pong` feed each other, so they start in file order once `logger` is up; `feed`
        // waits for `ping`; `idle`, ready all along, comes after the earlier `feed`.
        assert_eq!(
            names_in_start_order(&loaded),
            ["logger", "ping", "pong", "feed", "idle"]
        );
    }

    #[test]
    fn a_node_without_run_needs_a_crate_next_to_the_topology() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let error = crate_binary(dir.path(), "feed").expect_err("no Cargo.toml");
        assert!(error.contains("src/bin/feed.rs"), "{error}");
    }
}
