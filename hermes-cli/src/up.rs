//! `hermes up`: start a topology's proxies and nodes as child processes and supervise them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hermes_build::model::{RestartPolicy, RunCommand, Topology};

use crate::supervise::{Service, Supervisor};
use crate::{FINDINGS, USAGE_OR_IO};

/// Start the topology's proxies and nodes as processes, like `docker compose up`.
///
/// Proxies start first (as `hermes proxy`), then every node with its `run:` command (a node without
/// one runs the binary of its name in the crate next to the topology: `cargo run --bin NAME`).
/// Output lines are prefixed with the process name. A process that exits is restarted as its
/// `restart:` key says (`on-failure` by default; proxies always), with exponential backoff.
/// Ctrl-C or SIGTERM stops everything: SIGTERM, a grace period, then SIGKILL.
///
/// Examples:
///
///   hermes up examples/trading/topology.yaml
///   hermes up topology.yaml --only market strategy risk
///   hermes up topology.yaml --host edge-1 --duration 60
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
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
    let services = match plan(&loaded.topology, &path, args) {
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
    match Supervisor::new(services, grace).run(duration) {
        Ok(summary) if summary.all_clean() => 0,
        Ok(_) => FINDINGS,
        Err(err) => {
            eprintln!("error: {err}");
            USAGE_OR_IO
        }
    }
}

/// What to start, in order: proxies first, then nodes, each in file order.
fn plan(topology: &Topology, path: &Path, args: &Args) -> Result<Vec<Service>, String> {
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
    let mut services = Vec::new();
    for (name, proxy) in topology.proxies.iter() {
        if !selected(name, proxy.host.as_deref().map(String::as_str)) {
            continue;
        }
        let mut command = vec![
            hermes.display().to_string(),
            "proxy".to_owned(),
            "--frontend".to_owned(),
            proxy.frontend.to_string(),
            "--backend".to_owned(),
            proxy.backend.to_string(),
        ];
        match &proxy.capture {
            Some(capture) => command.extend(["--capture".to_owned(), capture.to_string()]),
            None => command.push("--no-capture".to_owned()),
        }
        let mut ready = vec![proxy.frontend.to_string(), proxy.backend.to_string()];
        ready.extend(proxy.capture.as_ref().map(|capture| capture.to_string()));
        services.push(Service {
            name: name.to_string(),
            command,
            dir: dir.clone(),
            restart: RestartPolicy::Always,
            ready_endpoints: ready,
        });
    }
    for (name, node) in topology.nodes.iter() {
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
        services.push(Service {
            name: name.to_string(),
            command,
            dir: dir.clone(),
            restart: node.restart.as_deref().copied().unwrap_or_default(),
            ready_endpoints: Vec::new(),
        });
    }
    Ok(services)
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

    #[test]
    fn a_node_without_run_needs_a_crate_next_to_the_topology() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let error = crate_binary(dir.path(), "feed").expect_err("no Cargo.toml");
        assert!(error.contains("src/bin/feed.rs"), "{error}");
    }
}
