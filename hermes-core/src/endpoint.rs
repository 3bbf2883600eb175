//! ZeroMQ endpoint addresses: the one grammar the YAML checks, the runtime and the tools use.

use std::fmt;

/// A parsed endpoint: `tcp://host:port`, `ipc://path` or `inproc://name`.
///
/// `tcp://host:0` and `tcp://host:*` ask for an ephemeral port. Sockets may bind there (tests
/// do); topology files may not, since peers must know the port in advance, and hermes-build
/// reports that.
///
/// # Examples
///
/// ```
/// use hermes_core::Endpoint;
///
/// let bound = Endpoint::parse("tcp://*:6000")?;
/// assert_eq!(bound.connectable().to_string(), "tcp://127.0.0.1:6000");
/// assert!(Endpoint::parse("tcp://127.0.0.1:*")?.is_ephemeral());
/// assert!(Endpoint::parse("udp://h:1").is_err());
/// # Ok::<(), hermes_core::EndpointError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `tcp://host:port`; `host` is `*` (bind to every interface), an address, a host name or a
    /// bracketed IPv6 address.
    Tcp {
        /// The host part, as written.
        host: String,
        /// The port number; 0 for an ephemeral port (`:0` or `:*`).
        port: u16,
    },
    /// `ipc://path`: a Unix domain socket.
    Ipc {
        /// The socket's file path.
        path: String,
    },
    /// `inproc://name`: in-process, between sockets of one ZeroMQ context.
    Inproc {
        /// The name.
        name: String,
    },
}

/// Why a string is not an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EndpointError(pub String);

impl Endpoint {
    /// Parses `tcp://host:port`, `ipc://path` or `inproc://name`.
    ///
    /// # Errors
    ///
    /// [`EndpointError`] saying what was expected.
    pub fn parse(text: &str) -> Result<Endpoint, EndpointError> {
        let Some((transport, rest)) = text.split_once("://") else {
            return Err(EndpointError(format!(
                "expected `transport://address`, found `{text}`"
            )));
        };
        match transport {
            "tcp" => parse_tcp(rest),
            "ipc" if rest.is_empty() => Err(EndpointError("`ipc://` needs a path".into())),
            "ipc" => Ok(Endpoint::Ipc {
                path: rest.to_string(),
            }),
            "inproc" if rest.is_empty() => Err(EndpointError("`inproc://` needs a name".into())),
            "inproc" => Ok(Endpoint::Inproc {
                name: rest.to_string(),
            }),
            other => Err(EndpointError(format!(
                "unknown transport `{other}`, expected `tcp`, `ipc` or `inproc`"
            ))),
        }
    }

    /// Whether this asks for an ephemeral tcp port.
    pub fn is_ephemeral(&self) -> bool {
        matches!(self, Endpoint::Tcp { port: 0, .. })
    }

    /// Whether only this host can reach it: loopback, a wildcard bind, ipc or inproc.
    pub fn is_local_host(&self) -> bool {
        match self {
            Endpoint::Tcp { host, .. } => {
                matches!(
                    host.to_ascii_lowercase().as_str(),
                    "*" | "0.0.0.0" | "[::]" | "localhost" | "[::1]"
                ) || host.starts_with("127.")
            }
            Endpoint::Ipc { .. } | Endpoint::Inproc { .. } => true,
        }
    }

    /// Whether only this host can reach it over the network: a tcp loopback address
    /// (`127.x.y.z`, `localhost`, `[::1]`), or ipc or inproc. A wildcard bind (`*`) is not.
    ///
    /// ```
    /// use hermes_core::Endpoint;
    /// assert!(Endpoint::parse("tcp://127.0.0.1:6000")?.is_loopback());
    /// assert!(!Endpoint::parse("tcp://*:6000")?.is_loopback());
    /// assert!(!Endpoint::parse("tcp://10.0.0.5:6000")?.is_loopback());
    /// # Ok::<(), hermes_core::EndpointError>(())
    /// ```
    pub fn is_loopback(&self) -> bool {
        match self {
            Endpoint::Tcp { host, .. } => {
                matches!(host.to_ascii_lowercase().as_str(), "localhost" | "[::1]")
                    || host.starts_with("127.")
            }
            Endpoint::Ipc { .. } | Endpoint::Inproc { .. } => true,
        }
    }

    /// Where a peer on this host connects to reach a socket bound here: wildcard hosts (`*`,
    /// `0.0.0.0`, `[::]`) become loopback; everything else is unchanged.
    pub fn connectable(&self) -> Endpoint {
        match self {
            Endpoint::Tcp { host, port } if host == "*" || host == "0.0.0.0" => Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: *port,
            },
            Endpoint::Tcp { host, port } if host == "[::]" => Endpoint::Tcp {
                host: "[::1]".into(),
                port: *port,
            },
            other => other.clone(),
        }
    }

    /// The address as libzmq takes it: an ephemeral port is written `*`.
    pub fn to_zmq(&self) -> String {
        match self {
            Endpoint::Tcp { host, port: 0 } => format!("tcp://{host}:*"),
            other => other.to_string(),
        }
    }
}

fn parse_tcp(rest: &str) -> Result<Endpoint, EndpointError> {
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err(EndpointError(format!(
            "expected `tcp://host:port`, found `tcp://{rest}`"
        )));
    };
    if host.is_empty() {
        return Err(EndpointError(
            "empty host in `tcp://` endpoint; use `*` to bind every interface".into(),
        ));
    }
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner.strip_suffix(']').is_some_and(|ip| {
            !ip.is_empty()
                && ip
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        })
    } else {
        host == "*"
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    };
    if !host_ok {
        return Err(EndpointError(format!("invalid host `{host}`")));
    }
    let port = if port == "*" {
        Some(0)
    } else {
        port.parse::<u16>().ok()
    };
    match port {
        Some(port) => Ok(Endpoint::Tcp {
            host: host.to_string(),
            port,
        }),
        None => Err(EndpointError(format!(
            "invalid port `{}`, expected a number from 1 to 65535 (0 or `*` for an ephemeral port)",
            rest.rsplit_once(':').map_or("", |(_, port)| port)
        ))),
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Endpoint::Ipc { path } => write!(f, "ipc://{path}"),
            Endpoint::Inproc { name } => write!(f, "inproc://{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn accepts_the_three_transports_and_ephemeral_ports() {
        for endpoint in [
            "tcp://127.0.0.1:6000",
            "tcp://*:0",
            "tcp://h:*",
            "tcp://[::1]:5",
            "ipc:///tmp/x",
            "inproc://a",
        ] {
            assert!(Endpoint::parse(endpoint).is_ok(), "{endpoint}");
        }
        assert!(Endpoint::parse("tcp://h:*").unwrap().is_ephemeral());
        assert_eq!(Endpoint::parse("tcp://h:0").unwrap().to_zmq(), "tcp://h:*");
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        for endpoint in [
            "",
            "tcp://",
            "tcp://host",
            "tcp://:1",
            "tcp://h:99999",
            "tcp://h a:1",
            "udp://h:1",
            "ipc://",
            "quotes",
        ] {
            assert!(Endpoint::parse(endpoint).is_err(), "{endpoint}");
        }
    }

    #[test]
    fn wildcard_binds_become_loopback_to_connect() {
        let connectable = |text: &str| Endpoint::parse(text).unwrap().connectable().to_string();
        assert_eq!(connectable("tcp://0.0.0.0:7"), "tcp://127.0.0.1:7");
        assert_eq!(connectable("tcp://[::]:7"), "tcp://[::1]:7");
        assert_eq!(connectable("tcp://edge-1:7"), "tcp://edge-1:7");
        assert_eq!(connectable("ipc:///x"), "ipc:///x");
    }
}

/// A side of a proxy, where a socket can be wired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxySide {
    /// The XSUB side publishers connect to.
    Frontend,
    /// The XPUB side subscribers connect to.
    Backend,
    /// The PUB capture socket: a copy of every message.
    Capture,
}

impl ProxySide {
    /// The YAML key of this side.
    pub const fn key(self) -> &'static str {
        match self {
            ProxySide::Frontend => "frontend",
            ProxySide::Backend => "backend",
            ProxySide::Capture => "capture",
        }
    }
}
