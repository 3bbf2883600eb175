//! Putting CURVE on a socket.

use std::sync::Arc;

use super::access::{Counters, Curve, Guard};
use super::monitor::HandshakeMonitor;
use super::zap::{self, Registration};
use crate::context::Context;
use crate::error::{Error, Result};

/// What a CURVE server socket keeps: its guard (access, counters), the monitor that counts
/// the handshakes it fails before ZAP is asked, and its place in the authenticator. The owner
/// declares it after the socket, so the socket closes first.
#[derive(Debug)]
pub(crate) struct Secured {
    pub(crate) guard: Guard,
    pub(crate) monitor: HandshakeMonitor,
    _registration: Registration,
}

impl Secured {
    /// The socket's counts, with the handshake failures its monitor has reported so far.
    pub(crate) fn stats(&self) -> super::SecurityStats {
        self.monitor.drain();
        self.guard.counters.snapshot()
    }
}

/// Sets `curve` on `socket` (before it binds or connects); nothing without one. A server is
/// registered with the context's authenticator under a domain of its own and monitored for
/// failed handshakes; `label` names it in logs.
pub(crate) fn configure(
    context: &Context,
    socket: &zmq::Socket,
    curve: Option<&Curve>,
    counters: Arc<Counters>,
    label: &str,
) -> Result<Option<Secured>> {
    let Some(curve) = curve else {
        return Ok(None);
    };
    match curve {
        Curve::Server { keys, access } => {
            let registration = zap::register(
                context.as_zmq(),
                context.zap_slot(),
                Arc::new(access.clone()),
                Arc::clone(&counters),
                label.to_owned(),
            )?;
            socket
                .set_zap_domain(registration.domain())
                .map_err(Error::zmq("set ZAP domain"))?;
            socket
                .set_curve_server(true)
                .map_err(Error::zmq("set CURVE server"))?;
            socket
                .set_curve_secretkey(keys.secret().as_bytes())
                .map_err(Error::zmq("set CURVE secret key"))?;
            let monitor = HandshakeMonitor::attach(context, socket, Arc::clone(&counters), label)?;
            Ok(Some(Secured {
                guard: Guard::new(Arc::new(access.clone()), counters, label.to_owned()),
                monitor,
                _registration: registration,
            }))
        }
        Curve::Client { keys, server } => {
            socket
                .set_curve_serverkey(server.as_bytes())
                .map_err(Error::zmq("set CURVE server key"))?;
            socket
                .set_curve_publickey(keys.public().as_bytes())
                .map_err(Error::zmq("set CURVE public key"))?;
            socket
                .set_curve_secretkey(keys.secret().as_bytes())
                .map_err(Error::zmq("set CURVE secret key"))?;
            Ok(None)
        }
    }
}
