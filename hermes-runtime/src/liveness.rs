//! Heartbeats and TCP keepalive on a socket ([`Liveness`]).

pub use hermes_core::Liveness;

use crate::error::{Error, Result};

/// Sets `liveness` on `socket` before it binds or connects: ZMTP heartbeats (tcp and ipc) and
/// TCP keepalive. [`Liveness::OFF`] leaves libzmq's defaults.
pub(crate) fn apply(socket: &zmq::Socket, liveness: Liveness) -> Result<()> {
    let millis = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
    if liveness.heartbeats() {
        socket
            .set_heartbeat_ivl(millis(liveness.heartbeat_ms))
            .map_err(Error::zmq("set heartbeat interval"))?;
        socket
            .set_heartbeat_timeout(millis(liveness.timeout_ms))
            .map_err(Error::zmq("set heartbeat timeout"))?;
        // The TTL travels in deciseconds, up to 6553.5 s.
        socket
            .set_heartbeat_ttl(millis(liveness.timeout_ms.min(6_553_000)))
            .map_err(Error::zmq("set heartbeat TTL"))?;
    }
    if liveness.tcp_keepalive {
        socket
            .set_tcp_keepalive(1)
            .map_err(Error::zmq("set TCP keepalive"))?;
        let options = [
            (liveness.keepalive_idle_s, "idle"),
            (liveness.keepalive_interval_s, "interval"),
            (liveness.keepalive_count, "count"),
        ];
        for (value, what) in options {
            if value == 0 {
                continue;
            }
            let set = match what {
                "idle" => zmq::Socket::set_tcp_keepalive_idle,
                "interval" => zmq::Socket::set_tcp_keepalive_intvl,
                _ => zmq::Socket::set_tcp_keepalive_cnt,
            };
            set(socket, millis(value)).map_err(Error::zmq("set TCP keepalive"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_turns_heartbeats_and_keepalive_on() {
        let context = zmq::Context::new();
        let socket = context.socket(zmq::SUB).expect("socket");
        apply(&socket, Liveness::DEFAULT).expect("apply");
        assert_eq!(socket.get_heartbeat_ivl().unwrap(), 1000);
        assert_eq!(socket.get_heartbeat_timeout().unwrap(), 5000);
        assert_eq!(socket.get_heartbeat_ttl().unwrap(), 5000);
        assert_eq!(socket.get_tcp_keepalive().unwrap(), 1);
        assert_eq!(socket.get_tcp_keepalive_idle().unwrap(), 10);
        assert_eq!(socket.get_tcp_keepalive_intvl().unwrap(), 5);
        assert_eq!(socket.get_tcp_keepalive_cnt().unwrap(), 3);
    }

    #[test]
    fn off_leaves_libzmqs_defaults() {
        let context = zmq::Context::new();
        let socket = context.socket(zmq::PUB).expect("socket");
        apply(&socket, Liveness::OFF).expect("apply");
        assert_eq!(socket.get_heartbeat_ivl().unwrap(), 0);
        assert_eq!(socket.get_tcp_keepalive().unwrap(), -1);
    }
}
