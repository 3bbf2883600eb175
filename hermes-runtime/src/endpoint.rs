//! Endpoints: checking them and attaching sockets to them.

use crate::error::{Error, Result};

/// Whether a socket binds its endpoint or connects to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attach {
    Bind,
    Connect,
}

/// Checks an endpoint against the shared grammar ([`hermes_core::Endpoint`]); `tcp://host:0`
/// and `tcp://host:*` ask for an ephemeral port. Returns it as libzmq takes it.
pub(crate) fn validate(endpoint: &str) -> Result<String> {
    hermes_core::Endpoint::parse(endpoint)
        .map(|parsed| parsed.to_zmq())
        .map_err(|error| Error::Endpoint {
            endpoint: endpoint.to_owned(),
            reason: error.to_string(),
        })
}

/// Binds or connects `socket`, returning the endpoint as libzmq resolved it (the real port of
/// an ephemeral tcp bind).
pub(crate) fn attach(socket: &zmq::Socket, how: Attach, endpoint: &str) -> Result<String> {
    let endpoint = validate(endpoint)?;
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

/// [`attach`]es `socket` and records the resolved endpoint in `endpoints`: what every socket
/// type's `bind` and `connect` do. `None` is a socket closed by a disconnect.
pub(crate) fn attach_recorded(
    socket: Option<&zmq::Socket>,
    endpoints: &mut Vec<String>,
    how: Attach,
    endpoint: &str,
) -> Result<String> {
    let socket = socket.ok_or(Error::Disconnected)?;
    let resolved = attach(socket, how, endpoint)?;
    endpoints.push(resolved.clone());
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::validate;

    // The grammar itself is hermes-core's, tested there; here, what the runtime makes of it.
    #[test]
    fn ephemeral_ports_become_libzmq_wildcards_and_errors_name_the_endpoint() {
        assert_eq!(validate("tcp://127.0.0.1:0").unwrap(), "tcp://127.0.0.1:*");
        assert_eq!(validate("ipc:///tmp/x").unwrap(), "ipc:///tmp/x");
        let error = validate("udp://h:1").unwrap_err().to_string();
        assert!(error.starts_with("invalid endpoint `udp://h:1`"), "{error}");
    }
}
