//! Endpoints: checking them and attaching sockets to them.

use crate::error::{Error, Result};

/// Whether a socket binds its endpoint or connects to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attach {
    Bind,
    Connect,
}

/// Checks an endpoint's form: `tcp://host:port`, `ipc://path` or `inproc://name`.
///
/// `tcp://host:0` asks for an ephemeral port, as `tcp://host:*` does.
pub(crate) fn validate(endpoint: &str) -> Result<()> {
    let invalid = |reason: &str| Error::Endpoint {
        endpoint: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    let (scheme, address) = endpoint.split_once("://").ok_or_else(|| {
        invalid("expected `tcp://`, `ipc://` or `inproc://` followed by an address")
    })?;
    if address.is_empty() {
        return Err(invalid("the address after `://` is empty"));
    }
    match scheme {
        "tcp" => {
            let (host, port) = address
                .rsplit_once(':')
                .ok_or_else(|| invalid("expected `tcp://host:port`"))?;
            if host.is_empty() {
                return Err(invalid(
                    "expected a host before `:` (use `*` for every interface)",
                ));
            }
            if port != "*" && port.parse::<u16>().is_err() {
                return Err(invalid("expected a port from 0 to 65535, or `*`"));
            }
            Ok(())
        }
        "ipc" | "inproc" => Ok(()),
        _ => Err(invalid("expected the scheme `tcp`, `ipc` or `inproc`")),
    }
}

/// Binds or connects `socket`, returning the endpoint as libzmq resolved it (the real port of
/// an ephemeral tcp bind).
pub(crate) fn attach(socket: &zmq::Socket, how: Attach, endpoint: &str) -> Result<String> {
    validate(endpoint)?;
    let endpoint = match endpoint.strip_suffix(":0") {
        Some(stem) if endpoint.starts_with("tcp://") => format!("{stem}:*"),
        _ => endpoint.to_owned(),
    };
    match how {
        Attach::Bind => {
            socket
                .bind(&endpoint)
                .map_err(Error::zmq_at("bind", &endpoint))?;
            Ok(socket
                .get_last_endpoint()
                .ok()
                .and_then(Result::ok)
                .unwrap_or(endpoint))
        }
        Attach::Connect => {
            socket
                .connect(&endpoint)
                .map_err(Error::zmq_at("connect", &endpoint))?;
            Ok(endpoint)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_the_three_transports() {
        for endpoint in [
            "tcp://127.0.0.1:6000",
            "tcp://*:0",
            "tcp://h:*",
            "ipc:///tmp/x",
            "inproc://a",
        ] {
            assert!(validate(endpoint).is_ok(), "{endpoint}");
        }
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        for endpoint in [
            "",
            "tcp://",
            "tcp://host",
            "tcp://:1",
            "tcp://h:99999",
            "udp://h:1",
            "quotes",
        ] {
            let err = validate(endpoint).expect_err(endpoint).to_string();
            assert!(err.starts_with("invalid endpoint"), "{err}");
        }
    }
}
