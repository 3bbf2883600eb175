//! `hermes export compose|k8s|systemd TOPOLOGY -o DIR`: hand a topology to the engine that
//! runs it, as docker compose services, Kubernetes manifests or systemd units.
//!
//! Every target makes the decisions `hermes up` makes ([`plan`]): one process per proxy, per
//! node and per `process:` group, started proxies first and then subscribers before their
//! publishers; proxies run as `hermes proxy` (or as the crate's own proxy binary when the
//! topology has `security:`), nodes their `run:` command or else the crate's binary of their
//! name; proxies always restart, nodes as `restart:` says (`on-failure` by default).
//!
//! Processes find each other through the runtime's environment overrides: in containers the
//! binder of a tcp socket gets `HERMES_<PROXY>_<SIDE>` or `HERMES_<CHANNEL>` = `tcp://*:PORT`
//! and every process connecting to it the same variable naming the binder's service. systemd
//! needs none: the runtime derives cross-host addresses from `hosts:`. `HERMES_METRICS`,
//! `HERMES_SUBSCRIBER_WAIT` and `HERMES_KEYS` complete the contract.
//!
//! Output is deterministic. YAML is written by [`yaml`], a small block-style writer over
//! `serde_json::Value` (already a dependency; its maps are sorted), rather than a second
//! YAML crate: the project names its YAML crate in hermes-build's `parse.rs` alone.

mod compose;
mod dockerfile;
mod k8s;
mod plan;
mod systemd;
mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use hermes_build::Loaded;

use crate::{SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes export`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes what `hermes up` would start, for another engine to run:

  compose  DIR/compose.yaml: a service per process, binders on `tcp://*:PORT`, connectors \
at `tcp://<service>:PORT`, proxies' ports published; the topology and messages files copied \
to DIR/config and mounted at /etc/hermes.
  k8s      DIR/<process>.yaml (a Deployment and a Service per bound tcp socket), \
DIR/configmap.yaml (the topology and messages files), and with `security:` DIR/secrets.yaml \
(mode 0600: it holds secret keys). Probes and Prometheus annotations on the metrics port \
(the topology's, else 9464).
  systemd  DIR/hermes-<topology>-<process>.service and DIR/hermes-<topology>.target, under \
DIR/<host>/ for processes placed on a host; with metrics on, DIR/prometheus.yml.

For compose and k8s, a Dockerfile building the crate's node binaries is written too when the \
topology sits next to a Cargo.toml; images are `image:`, else `defaults.image`, else \
`<topology>:latest`.

Exit status: 0 written, 1 an invalid topology or one the target cannot run, 2 a file that \
cannot be read or written.

Examples:
  hermes export compose examples/trading -o deploy/compose
  hermes export k8s examples/trading/topology.yaml -o deploy/k8s
  hermes export systemd topology.yaml -o deploy/systemd --prefix /opt/trading")]
pub struct Args {
    /// What to write for.
    target: Target,
    /// The topology: a file, or a directory holding `topology.yaml`.
    #[arg(default_value = crate::topology::DEFAULT_PATH)]
    topology: PathBuf,
    /// The directory to write into (made if missing; files of the same names are replaced).
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// systemd: where programs are installed; the crate's binaries and `hermes` are run
    /// from `PREFIX/bin`.
    #[arg(long, value_name = "PREFIX", default_value = "/usr/local")]
    prefix: PathBuf,
    /// systemd: the directory holding the topology (and its messages and keys) on the
    /// machines, the units' working directory; default `/etc/hermes/<topology>`.
    #[arg(long, value_name = "DIR")]
    workdir: Option<PathBuf>,
}

/// An engine to export to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// docker compose: `compose.yaml`.
    Compose,
    /// Kubernetes manifests.
    K8s,
    /// systemd units.
    Systemd,
}

/// One file to write, relative to the output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    /// Where, relative to the output directory.
    pub path: PathBuf,
    /// What.
    pub contents: String,
    /// Whether it holds secrets (written with mode 0600).
    pub secret: bool,
}

impl OutputFile {
    fn new(path: impl Into<PathBuf>, contents: String) -> OutputFile {
        OutputFile {
            path: path.into(),
            contents,
            secret: false,
        }
    }
}

/// The metrics port every process serves on when nothing else says: the topology's
/// `defaults.metrics`, else this (Kubernetes probes always need one).
pub const DEFAULT_METRICS_PORT: u16 = 9464;

/// Whether processes share a machine's ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Each process in its own network namespace (compose, Kubernetes): every one serves on
    /// the port it asks for.
    Containers,
    /// Processes share their host's ports (`hermes up`, systemd): on each host (`host:`, the
    /// local machine when not given) those inheriting `defaults.metrics` take its port and the
    /// ports after it in start order, skipping ports that processes there set themselves.
    Hosts,
}

/// The metrics port of every process of `loaded` that serves metrics, by process name
/// (a proxy's, a node's or a `process:` group's, as [`plan::process_groups`] names them).
/// A process serves when it or `defaults.metrics` sets a port; the first member of a group
/// with its own `metrics:` sets the group's.
pub fn metrics_ports(loaded: &Loaded, placement: Placement) -> BTreeMap<String, u16> {
    let default = loaded
        .topology
        .defaults
        .metrics
        .as_ref()
        .map(|metrics| metrics.port.value);
    let groups = plan::process_groups(loaded);
    let mut ports = BTreeMap::new();
    // Per host: ports taken by processes that set their own.
    let mut taken: BTreeMap<Option<String>, BTreeSet<u16>> = BTreeMap::new();
    for (name, members) in &groups {
        if let Some(port) = plan::own_metrics_port(loaded, members) {
            ports.insert(name.clone(), port);
            taken
                .entry(plan::host_of(loaded, members))
                .or_default()
                .insert(port);
        }
    }
    let Some(default) = default else {
        return ports;
    };
    let mut next: BTreeMap<Option<String>, u16> = BTreeMap::new();
    for (name, members) in &groups {
        if ports.contains_key(name) {
            continue;
        }
        if placement == Placement::Containers {
            ports.insert(name.clone(), default);
            continue;
        }
        let host = plan::host_of(loaded, members);
        let taken = taken.entry(host.clone()).or_default();
        let mut port = *next.get(&host).unwrap_or(&default);
        while taken.contains(&port) && port < u16::MAX {
            port += 1;
        }
        taken.insert(port);
        next.insert(host, port.saturating_add(1));
        ports.insert(name.clone(), port);
    }
    ports
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let loaded = match crate::topology::load(&args.topology) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let path = crate::topology::resolve(&args.topology);
    let files = match export(&loaded, &path, args) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return crate::FINDINGS;
        }
    };
    if let Err(message) = write_all(&args.out, &files) {
        eprintln!("error: {message}");
        return USAGE_OR_IO;
    }
    for file in &files {
        let shown = args.out.join(&file.path);
        if file.secret {
            eprintln!(
                "wrote {} (holds secret keys, mode 0600: keep it out of version control)",
                shown.display()
            );
        } else {
            eprintln!("wrote {}", shown.display());
        }
    }
    SUCCESS
}

/// The files for `args.target`.
fn export(loaded: &Loaded, path: &Path, args: &Args) -> Result<Vec<OutputFile>, String> {
    let plan = plan::plan(loaded, path)?;
    let mut files = match args.target {
        Target::Compose => compose::export(&plan)?,
        Target::K8s => k8s::export(&plan)?,
        Target::Systemd => {
            let workdir = args
                .workdir
                .clone()
                .unwrap_or_else(|| Path::new("/etc/hermes").join(&plan.name));
            systemd::export(&plan, &args.prefix, &workdir)?
        }
    };
    if args.target != Target::Systemd && plan.dir.join("Cargo.toml").is_file() {
        let target = if args.target == Target::Compose {
            "compose"
        } else {
            "k8s"
        };
        files.push(OutputFile::new(
            "Dockerfile",
            dockerfile::dockerfile(&plan, target),
        ));
    }
    Ok(files)
}

fn write_all(out: &Path, files: &[OutputFile]) -> Result<(), String> {
    for file in files {
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| format!("cannot make `{}`: {err}", parent.display()))?;
        }
        let mut options = std::fs::File::options();
        options.write(true).create(true).truncate(true);
        if file.secret {
            options.mode(0o600);
            // An existing file keeps its mode when opened: remove it first.
            let _ = std::fs::remove_file(&path);
        }
        options
            .open(&path)
            .and_then(|mut handle| handle.write_all(file.contents.as_bytes()))
            .map_err(|err| format!("cannot write `{}`: {err}", path.display()))?;
    }
    Ok(())
}

/// The `@generated` first line of every file, in the file's comment syntax.
fn header(comment: &str, target: &str, plan: &plan::Plan<'_>) -> String {
    format!(
        "{comment} @generated by `hermes export {target}` from the topology `{}`; export again \
         rather than edit.\n",
        plan.name
    )
}

/// `name` as a DNS-1035 label (Kubernetes object names, compose services): lowercase letters,
/// digits and `-`, starting with a letter, at most 63 characters.
pub fn dns_label(name: &str) -> String {
    let mut label: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while label.contains("--") {
        label = label.replace("--", "-");
    }
    let mut label = label.trim_matches('-').to_owned();
    if !label.starts_with(|c: char| c.is_ascii_lowercase()) {
        label.insert_str(0, "h-");
    }
    label.truncate(63);
    label.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> (tempfile::TempDir, Loaded) {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(
            dir.path().join("messages.yaml"),
            "package: t\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n",
        )
        .expect("write");
        let path = dir.path().join("topology.yaml");
        std::fs::write(&path, yaml).expect("write");
        let loaded = hermes_build::load(&path).expect("valid");
        (dir, loaded)
    }

    const SHARED: &str = "name: t\nmessages: [messages.yaml]\ndefaults: { metrics: { port: 9000 } }\n\
        hosts:\n  a: { address: 10.0.0.1 }\n  b: { address: 10.0.0.2 }\n\
        proxies:\n  hub: { frontend: \"tcp://*:1\", backend: \"tcp://*:2\", host: a }\nnodes:\n  \
        feed: { host: a, publishes: [{ topic: t, message: Tick, via: hub }] }\n  \
        own: { host: a, metrics: { port: 9001 }, subscribes: [{ topic: t, message: Tick, via: hub }] }\n  \
        far: { host: b, subscribes: [{ topic: t, message: Tick, via: hub }] }\n  \
        late: { host: a, subscribes: [{ topic: t, message: Tick, via: hub }] }\n";

    #[test]
    fn processes_sharing_a_host_take_the_metrics_port_and_the_next_free_ones_in_start_order() {
        let (_dir, loaded) = load(SHARED);
        let ports = metrics_ports(&loaded, Placement::Hosts);
        // Start order: hub, then the subscribers own, far, late, then feed. `own` keeps 9001,
        // so `late` skips it; `far` is alone on host b.
        assert_eq!(
            ports.into_iter().collect::<Vec<_>>(),
            [
                ("far".to_owned(), 9000),
                ("feed".to_owned(), 9003),
                ("hub".to_owned(), 9000),
                ("late".to_owned(), 9002),
                ("own".to_owned(), 9001),
            ]
        );
    }

    #[test]
    fn containers_each_serve_on_the_port_they_ask_for() {
        let (_dir, loaded) = load(SHARED);
        let ports = metrics_ports(&loaded, Placement::Containers);
        assert_eq!(ports["late"], 9000);
        assert_eq!(ports["own"], 9001);
    }

    #[test]
    fn dns_labels_are_lowercase_hyphenated_and_short() {
        assert_eq!(dns_label("market-frontend"), "market-frontend");
        assert_eq!(dns_label("Trader_Orders"), "trader-orders");
        assert_eq!(dns_label("9lives"), "h-9lives");
        assert_eq!(dns_label(&"x".repeat(80)).len(), 63);
    }
}
