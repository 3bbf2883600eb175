//! The ZAP authenticator: one per [`Context`](crate::Context), admitting each secured
//! socket's peers by their CURVE keys (ZeroMQ RFC 27).
//!
//! It runs while at least one server socket is registered: the first registration starts its
//! thread (a REP socket bound at `inproc://zeromq.zap.01`), and dropping the last stops it and
//! joins it, so it never outlives the sockets it serves and never keeps a context alive. A
//! server socket must close before its [`Registration`] drops: without a handler, libzmq 4.3
//! admits every CURVE client that knows the server key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use super::access::{Access, Counters, LogLimiter};
use crate::error::{Error, Result};

/// Where libzmq sends ZAP requests.
const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// A context's authenticator slot, shared by every clone of the context.
#[derive(Default)]
pub(crate) struct ZapSlot {
    state: Mutex<SlotState>,
    domains: Arc<RwLock<HashMap<String, Domain>>>,
}

#[derive(Default)]
struct SlotState {
    running: Option<Running>,
}

struct Running {
    stop: zmq::Socket,
    thread: JoinHandle<()>,
}

/// One secured socket's entry: whom it admits and where its refusals are counted.
#[derive(Clone)]
struct Domain {
    access: Arc<Access>,
    counters: Arc<Counters>,
    label: String,
}

/// A server socket's place in the authenticator; dropping it unregisters the socket and, for
/// the last one, stops the authenticator.
pub(crate) struct Registration {
    domain: String,
    slot: Arc<ZapSlot>,
}

impl Registration {
    /// The ZAP domain to set on the socket.
    pub(crate) fn domain(&self) -> &str {
        &self.domain
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("domain", &self.domain)
            .finish()
    }
}

/// Registers a server socket admitting `access`, starting the authenticator if it is not
/// running.
pub(crate) fn register(
    context: &zmq::Context,
    slot: &Arc<ZapSlot>,
    access: Arc<Access>,
    counters: Arc<Counters>,
    label: String,
) -> Result<Registration> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let domain = format!("hermes-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let mut state = lock(&slot.state);
    if state.running.is_none() {
        state.running = Some(start(context, Arc::clone(&slot.domains))?);
    }
    write(&slot.domains).insert(
        domain.clone(),
        Domain {
            access,
            counters,
            label,
        },
    );
    Ok(Registration {
        domain,
        slot: Arc::clone(slot),
    })
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut state = lock(&self.slot.state);
        let empty = {
            let mut domains = write(&self.slot.domains);
            domains.remove(&self.domain);
            domains.is_empty()
        };
        if empty && let Some(running) = state.running.take() {
            stop(running);
        }
    }
}

/// Whether the context's authenticator thread is running (for tests).
pub(crate) fn is_running(slot: &ZapSlot) -> bool {
    lock(&slot.state).running.is_some()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn start(context: &zmq::Context, domains: Arc<RwLock<HashMap<String, Domain>>>) -> Result<Running> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let handler = context
        .socket(zmq::REP)
        .map_err(Error::zmq("create ZAP socket"))?;
    handler.set_linger(0).map_err(Error::zmq("set linger"))?;
    bind_zap(&handler)?;
    let stop_endpoint = format!(
        "inproc://hermes-zap-stop-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let stop = context
        .socket(zmq::PAIR)
        .map_err(Error::zmq("create socket"))?;
    stop.set_linger(0).map_err(Error::zmq("set linger"))?;
    stop.bind(&stop_endpoint)
        .map_err(Error::zmq_at("bind", &stop_endpoint))?;
    let listener = context
        .socket(zmq::PAIR)
        .map_err(Error::zmq("create socket"))?;
    listener.set_linger(0).map_err(Error::zmq("set linger"))?;
    listener
        .connect(&stop_endpoint)
        .map_err(Error::zmq_at("connect", &stop_endpoint))?;
    let thread = std::thread::Builder::new()
        .name("hermes-zap".to_owned())
        .spawn(move || serve(&handler, &listener, &domains))
        .map_err(|source| Error::Thread {
            name: "hermes-zap".to_owned(),
            source,
        })?;
    Ok(Running { stop, thread })
}

/// Binds the ZAP endpoint. A previous authenticator of this context unbinds it as it stops,
/// but libzmq closes sockets on its reaper thread, so the endpoint can stay taken for a moment
/// after; retry briefly rather than fail a socket that starts right after another closed.
fn bind_zap(handler: &zmq::Socket) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match handler.bind(ZAP_ENDPOINT) {
            Ok(()) => return Ok(()),
            Err(zmq::Error::EADDRINUSE) if std::time::Instant::now() < deadline => {
                std::thread::yield_now();
            }
            Err(err) => return Err(Error::zmq_at("bind", ZAP_ENDPOINT)(err)),
        }
    }
}

fn stop(running: Running) {
    if let Err(err) = running.stop.send(&b"STOP"[..], 0) {
        tracing::warn!(%err, "cannot stop the ZAP authenticator");
    }
    if running.thread.join().is_err() {
        tracing::warn!("the ZAP authenticator thread panicked");
    }
}

/// Answers ZAP requests until told to stop, then releases the ZAP endpoint; the handler socket
/// closes when it returns.
fn serve(handler: &zmq::Socket, stop: &zmq::Socket, domains: &RwLock<HashMap<String, Domain>>) {
    answer_until_stopped(handler, stop, domains);
    // The next authenticator of this context binds the endpoint again.
    let _ = handler.unbind(ZAP_ENDPOINT);
}

fn answer_until_stopped(
    handler: &zmq::Socket,
    stop: &zmq::Socket,
    domains: &RwLock<HashMap<String, Domain>>,
) {
    let mut limiter = LogLimiter::default();
    loop {
        let mut items = [
            stop.as_poll_item(zmq::POLLIN),
            handler.as_poll_item(zmq::POLLIN),
        ];
        match zmq::poll(&mut items, -1) {
            Ok(_) => {}
            Err(zmq::Error::EINTR) => continue,
            Err(err) => {
                tracing::warn!(%err, "the ZAP authenticator stopped");
                return;
            }
        }
        if items[0].is_readable() {
            return;
        }
        if !items[1].is_readable() {
            continue;
        }
        let request = match handler.recv_multipart(zmq::DONTWAIT) {
            Ok(request) => request,
            Err(zmq::Error::EAGAIN | zmq::Error::EINTR) => continue,
            Err(err) => {
                tracing::warn!(%err, "the ZAP authenticator stopped");
                return;
            }
        };
        let reply = answer(&request, domains, &mut limiter);
        if let Err(err) = handler.send_multipart(reply, 0) {
            tracing::warn!(%err, "cannot answer a ZAP request");
        }
    }
}

/// The reply to one ZAP request: `[version, request id, status, text, user id, metadata]`.
fn answer(
    request: &[Vec<u8>],
    domains: &RwLock<HashMap<String, Domain>>,
    limiter: &mut LogLimiter,
) -> Vec<Vec<u8>> {
    let reply = |status: &str, text: &str, user: &str| {
        vec![
            b"1.0".to_vec(),
            request.get(1).cloned().unwrap_or_default(),
            status.as_bytes().to_vec(),
            text.as_bytes().to_vec(),
            user.as_bytes().to_vec(),
            Vec::new(),
        ]
    };
    // version, request id, domain, address, routing id, mechanism, credentials…
    let [version, _, domain, address, _, mechanism, credentials @ ..] = request else {
        return reply("500", "malformed ZAP request", "");
    };
    if version.as_slice() != b"1.0" {
        return reply("500", "unsupported ZAP version", "");
    }
    let domain = String::from_utf8_lossy(domain);
    let entry = domains
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(domain.as_ref())
        .cloned();
    let Some(entry) = entry else {
        return reply("400", "no such domain", "");
    };
    let key = match (mechanism.as_slice(), credentials) {
        (b"CURVE", [key]) => Some(key.as_slice()),
        _ => None,
    };
    if let Some(peer) = key.and_then(|key| entry.access.peer_with_key(key)) {
        return reply("200", "OK", &peer.name);
    }
    let refused = entry.counters.refused_connection();
    let address = String::from_utf8_lossy(address);
    if limiter.allow(&format!("{}\u{0}{address}", entry.label)) {
        let key = key
            .and_then(|key| <[u8; 32]>::try_from(key).ok())
            .map(|key| super::PublicKey::from_bytes(key).to_z85());
        tracing::warn!(
            socket = %entry.label,
            %address,
            key = key.as_deref().unwrap_or("<none>"),
            mechanism = %String::from_utf8_lossy(mechanism),
            refused_connections = refused,
            "refused a connection from a key the topology does not admit"
        );
    }
    reply("400", "key not admitted", "")
}
