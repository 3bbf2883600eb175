//! ZeroMQ endpoint addresses as written in topologies, and topic matching.

use std::fmt;

/// A parsed endpoint: `tcp://host:port`, `ipc://path` or `inproc://name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `tcp://host:port`; `host` is `*` (bind to every interface), an address, a host name or a
    /// bracketed IPv6 address.
    Tcp {
        /// The host part, as written.
        host: String,
        /// The port number.
        port: u16,
    },
    /// `ipc://path`: a Unix domain socket.
    Ipc {
        /// The socket's file path.
        path: String,
    },
    /// `inproc://name`: within one process only.
    Inproc {
        /// The endpoint's name.
        name: String,
    },
}

/// Why an endpoint could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EndpointError(pub String);

impl Endpoint {
    /// Parses an endpoint.
    ///
    /// # Errors
    ///
    /// An [`EndpointError`] saying what is wrong: unknown transport, missing or invalid port,
    /// empty host, path or name.
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_build::Endpoint;
    /// assert_eq!(
    ///     Endpoint::parse("tcp://127.0.0.1:6000").unwrap(),
    ///     Endpoint::Tcp { host: "127.0.0.1".into(), port: 6000 }
    /// );
    /// assert!(Endpoint::parse("tcp://127.0.0.1").is_err());
    /// assert!(Endpoint::parse("udp://x:1").is_err());
    /// ```
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

    /// Whether the host is a wildcard or loopback address, which means "this machine".
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
    if port == "*" || port == "0" {
        return Err(EndpointError(
            "ephemeral ports are not allowed: peers must know the port in advance".into(),
        ));
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Endpoint::Tcp {
            host: host.to_string(),
            port,
        }),
        _ => Err(EndpointError(format!(
            "invalid port `{port}`, expected a number from 1 to 65535"
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

/// Whether a subscription to `subscription` receives messages published on `topic`.
///
/// Topics are matched by whole `/`-separated segments: the subscription matches when it is
/// empty, equal to the topic, or a prefix of it followed by `/` (a subscription that already
/// ends with `/` matches any topic it prefixes).
///
/// ```
/// use hermes_build::topic_matches;
/// assert!(topic_matches("quotes", "quotes/bitstamp"));
/// assert!(topic_matches("quotes", "quotes"));
/// assert!(topic_matches("", "anything"));
/// assert!(!topic_matches("quote", "quotes/bitstamp"));
/// ```
pub fn topic_matches(subscription: &str, topic: &str) -> bool {
    if subscription.is_empty() || subscription == topic {
        return true;
    }
    match topic.strip_prefix(subscription) {
        Some(rest) => subscription.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}
