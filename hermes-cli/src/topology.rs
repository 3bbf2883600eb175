//! Loading a topology for a command, with the same error reporting everywhere, and finding
//! where to connect in it.

use std::path::{Path, PathBuf};

use hermes_build::model::{Codec, Port, PythonLayout};
use hermes_build::{LoadError, LoadOptions, Loaded, LockCheck};
use hermes_core::Endpoint;
use hermes_core::topic::matches as topic_matches;

use crate::{FINDINGS, USAGE_OR_IO};

/// The topology file used when none is named.
pub const DEFAULT_PATH: &str = "topology.yaml";

/// The file a path names: a directory stands for its `topology.yaml`.
pub fn resolve(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(DEFAULT_PATH)
    } else {
        path.to_path_buf()
    }
}

/// Whether a positional argument is meant as the topology rather than a topic: it ends in
/// `.yaml` or `.yml`, or names an existing file or directory.
pub fn looks_like_topology(argument: &str) -> bool {
    argument.ends_with(".yaml") || argument.ends_with(".yml") || Path::new(argument).exists()
}

/// Loads and checks the topology at `path`, without comparing it with `hermes.lock`: for the
/// tools that read a topology to find sockets and types. See [`load_with`].
pub fn load(path: &Path) -> Result<Loaded, u8> {
    load_with(path, &LoadOptions::default().lock(LockCheck::Ignore))
}

/// Loads and checks the topology at `path` (warnings are not printed: `hermes check` does
/// that). On failure prints why and returns the exit code: 2 when the file cannot be read,
/// 1 when the topology is invalid.
pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Loaded, u8> {
    let path = resolve(path);
    match hermes_build::load_with_options(&path, options) {
        Ok(loaded) => Ok(loaded),
        Err(error @ LoadError::Io { .. }) => {
            eprintln!("error: {error}");
            if path == Path::new(DEFAULT_PATH) {
                eprintln!("help: name the topology file, as in `hermes tap path/to/topology.yaml`");
            }
            Err(USAGE_OR_IO)
        }
        Err(LoadError::Invalid(report)) => {
            eprintln!("{}", report.render_human());
            eprintln!(
                "error: `{}` is invalid ({}); run `hermes check` for details",
                path.display(),
                report.summary()
            );
            Err(FINDINGS)
        }
    }
}

/// A bound endpoint made connectable: wildcard hosts (`*`, `0.0.0.0`) become the loopback
/// address, since the tools run on the machine that binds them.
pub fn connectable(endpoint: &str) -> String {
    Endpoint::parse(endpoint).map_or_else(
        |_| endpoint.to_owned(),
        |parsed| parsed.connectable().to_string(),
    )
}

/// Where a tool connects to reach `endpoint`, bound by `proxy`: a wildcard bind on a host that
/// `hosts:` gives an address is reached there (the tool may run on any host); otherwise as
/// [`connectable`].
pub fn reach(loaded: &Loaded, proxy: &hermes_build::model::Proxy, endpoint: &str) -> String {
    let address = proxy
        .host
        .as_ref()
        .and_then(|host| loaded.topology.host_address(host));
    match (Endpoint::parse(endpoint), address) {
        (Ok(Endpoint::Tcp { host, port }), Some(address))
            if matches!(host.as_str(), "*" | "0.0.0.0" | "[::]") =>
        {
            Endpoint::Tcp {
                host: address.to_owned(),
                port,
            }
            .to_string()
        }
        _ => connectable(endpoint),
    }
}

/// Where `tap` and `stats` listen: `--endpoint`, else the named proxy's capture socket (it
/// sees every envelope without adding a subscriber upstream) or its backend, else the only
/// proxy.
///
/// # Errors
///
/// A message for an unknown proxy name, or when there is no proxy or several to choose from.
pub fn listen_endpoint(
    loaded: &Loaded,
    proxy: Option<&str>,
    endpoint: Option<&str>,
) -> Result<String, String> {
    if let Some(endpoint) = endpoint {
        return Ok(endpoint.to_string());
    }
    let proxies = &loaded.topology.proxies;
    let names: Vec<String> = proxies.names().map(|name| format!("`{name}`")).collect();
    let chosen = match proxy {
        Some(name) => proxies.get(name).ok_or_else(|| {
            format!(
                "no proxy `{name}` in the topology; expected one of: {}",
                if names.is_empty() {
                    "(none)".to_string()
                } else {
                    names.join(", ")
                }
            )
        })?,
        None => match proxies.entries() {
            [(_, only)] => only,
            [] => {
                return Err(
                    "the topology declares no proxy; name an endpoint with `--endpoint`".into(),
                );
            }
            _ => {
                return Err(format!(
                    "the topology declares several proxies; choose one with `--proxy`: {}",
                    names.join(", ")
                ));
            }
        },
    };
    let endpoint = chosen
        .capture
        .as_ref()
        .map_or(chosen.backend.as_str(), |capture| capture.as_str());
    Ok(reach(loaded, chosen, endpoint))
}

/// The proxy `tap` and `stats` listen to, by name: `--proxy`, or the only proxy when no
/// `--endpoint` is given; with `--endpoint`, the proxy whose backend or capture it is.
pub fn listened_proxy(
    loaded: &Loaded,
    proxy: Option<&str>,
    endpoint: Option<&str>,
) -> Option<String> {
    let proxies = &loaded.topology.proxies;
    if let Some(name) = proxy {
        return proxies.get(name).map(|_| name.to_owned());
    }
    match endpoint {
        None => match proxies.entries() {
            [(name, _)] => Some(name.value.clone()),
            _ => None,
        },
        Some(endpoint) => proxies
            .iter()
            .find(|(_, config)| {
                let sides = std::iter::once(&config.backend).chain(config.capture.as_ref());
                sides
                    .map(|side| connectable(side))
                    .any(|side| side == endpoint)
            })
            .map(|(name, _)| name.value.clone()),
    }
}

/// One publication of the topology: who publishes what, with which codec, and how.
#[derive(Clone, Debug)]
pub struct Publication<'a> {
    /// The node that publishes it.
    pub node: &'a str,
    /// The port.
    pub port: &'a Port,
    /// Its codec after defaults.
    pub codec: Codec,
    /// Its `python-json` layout: the port's, else the message's, else `defaults:`'.
    pub python_layout: PythonLayout,
}

/// Every publication, in file order.
pub fn publications(loaded: &Loaded) -> Vec<Publication<'_>> {
    let topology = &loaded.topology;
    topology
        .nodes
        .iter()
        .flat_map(|(name, node)| {
            node.publishes.iter().map(move |port| Publication {
                node: name.as_str(),
                port,
                codec: topology.port_settings(port).codec,
                python_layout: loaded
                    .message(port.message.as_str())
                    .map_or(PythonLayout::Message, |(_, message)| {
                        topology.python_layout(port, message)
                    }),
            })
        })
        .collect()
}

/// The publication that best describes `topic`: one publishing exactly it, else the one
/// with the longest topic that `topic` falls under by segments (`quotes/x/y` under
/// `quotes/x`).
pub fn publication_for<'a, 'b>(
    publications: &'b [Publication<'a>],
    topic: &str,
) -> Option<&'b Publication<'a>> {
    publications
        .iter()
        .filter(|publication| topic_matches(publication.port.topic.as_str(), topic))
        .max_by_key(|publication| publication.port.topic.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_reach_a_wildcard_bind_on_a_declared_host_at_its_address() {
        let loaded = hermes_build::load("../examples/multihost/topology.yaml").expect("valid");
        // `hub` on host `a` (127.0.0.2) binds `tcp://*:17301`, and has no capture.
        assert_eq!(
            listen_endpoint(&loaded, None, None).unwrap(),
            "tcp://127.0.0.2:17301"
        );
        let trading = hermes_build::load("../examples/trading/topology.yaml").expect("valid");
        assert_eq!(
            listen_endpoint(&trading, None, None).unwrap(),
            "tcp://127.0.0.1:6002"
        );
    }
}
