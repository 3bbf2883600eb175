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
