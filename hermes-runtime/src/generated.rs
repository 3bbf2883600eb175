//! The generic machinery behind the node and proxy modules `hermes-build` generates, so that a
//! generated module holds only what is its own — its ports, its handler's methods — and 10,000
//! nodes do not mean 10,000 copies of the same socket and entry-point code. Not a public API:
//! generated code reaches it as `__private::generated`.
//!
//! Handler hooks and subscription handlers are passed as function items (`H::on_start`,
//! `H::on_quotes`), so every call is statically dispatched, as if written out.

use std::time::Duration;

pub use crate::codec::Codec;
pub use crate::stats::SlowSubscriberAction;

use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::node::{HandlerResult, Node};
use crate::proxy::ProxyConfig;
use crate::publisher::Publisher;
use crate::receiver::Receiver;
use crate::runtime::{NodeFailure, Runtime};
use crate::stats::SlowSubscriber;

/// How often a node whose handler has no tick wakes up, to keep it running
/// until the runtime stops (the stop signal wakes it at once).
const IDLE_TICK: Duration = Duration::from_secs(24 * 60 * 60);

/// A publisher on `topic` with origin `origin`, neither bound nor connected.
///
/// # Errors
///
/// As [`PublisherBuilder::build`](crate::PublisherBuilder::build).
pub fn publisher<M: Message>(
    context: &Context,
    origin: &str,
    topic: &str,
    codec: Codec,
    hwm: i32,
) -> Result<Publisher<M>> {
    Publisher::builder(context)
        .topic(topic)
        .origin(origin)
        .codec(codec)
        .hwm(hwm)
        .build()
}

/// A receiver of `topic`, neither bound nor connected.
///
/// # Errors
///
/// As [`ReceiverBuilder::build`](crate::ReceiverBuilder::build).
pub fn receiver<M: Message>(
    context: &Context,
    topic: &str,
    codec: Codec,
    hwm: i32,
    max_lag_ms: u64,
    action: SlowSubscriberAction,
) -> Result<Receiver<M>> {
    Receiver::builder(context)
        .topic(topic)
        .codec(codec)
        .hwm(hwm)
        .slow_subscriber(SlowSubscriber::new(
            Duration::from_millis(max_lag_ms),
            action,
        ))
        .build()
}

/// A generated `Sockets::open`: makes the sockets, binds them on a copy of `wiring` (which
/// records ephemeral endpoints), then connects them.
///
/// # Errors
///
/// The first error of `new`, `bind` or `connect`.
pub fn open<S, W: Clone>(
    context: &Context,
    wiring: &W,
    new: impl FnOnce(&Context) -> Result<S>,
    bind: impl FnOnce(&mut S, &mut W) -> Result<()>,
    connect: impl FnOnce(&mut S, &W) -> Result<()>,
) -> Result<S> {
    let mut wiring = wiring.clone();
    let mut sockets = new(context)?;
    bind(&mut sockets, &mut wiring)?;
    connect(&mut sockets, &wiring)?;
    Ok(sockets)
}

/// The capture endpoint of proxy `proxy`'s `config`, for ports that read its capture socket.
///
/// # Errors
///
/// [`Error::Endpoint`] when the wiring gives the proxy no capture endpoint.
pub fn capture<'a>(config: &'a ProxyConfig, proxy: &str) -> Result<&'a str> {
    config.capture.as_deref().ok_or_else(|| Error::Endpoint {
        endpoint: String::new(),
        reason: format!("the wiring of proxy `{proxy}` has no capture endpoint"),
    })
}

/// A generated node: state `(handler, outputs)`, with the handler's hooks; the generated code
/// adds a [`subscribe`](Node::subscribe) per subscription, through [`input`].
///
/// It runs until the runtime stops, as every node does, even with no subscription and no tick
/// (a bare [`Node`] with nothing to wait for returns at once): a handler without a tick gets
/// an idle one, once a day, which costs nothing.
pub fn node<H, O>(
    name: &'static str,
    handler: H,
    outputs: O,
    tick_interval: impl FnOnce(&H) -> Option<Duration>,
    on_start: impl FnMut(&mut H, &mut O) -> HandlerResult + Send + 'static,
    on_tick: impl FnMut(&mut H, &mut O) -> HandlerResult + Send + 'static,
    on_stop: impl FnMut(&mut H, &mut O) -> HandlerResult + Send + 'static,
) -> Node<(H, O)>
where
    H: Send + 'static,
    O: Send + 'static,
{
    let tick = tick_interval(&handler);
    let node = Node::new(name, (handler, outputs))
        .on_start(hook(on_start))
        .on_stop(hook(on_stop));
    match tick {
        Some(period) => node.on_tick(period, hook(on_tick)),
        None => node.on_tick(IDLE_TICK, |_: &mut (H, O)| Ok(())),
    }
}

/// A handler method `H::on_<topic>` as a [`Node::subscribe`] handler on state `(H, O)`.
pub fn input<H, O, M>(
    mut handler: impl FnMut(&mut H, Envelope<M>, &mut O) -> HandlerResult + Send + 'static,
) -> impl FnMut(&mut (H, O), Envelope<M>) -> HandlerResult + Send + 'static {
    move |state: &mut (H, O), envelope: Envelope<M>| {
        let (node_handler, outputs) = state;
        handler(node_handler, envelope, outputs)
    }
}

/// A hook `H::on_start` (or tick, or stop) as a [`Node`] hook on state `(H, O)`.
fn hook<H, O>(
    mut hook: impl FnMut(&mut H, &mut O) -> HandlerResult + Send + 'static,
) -> impl FnMut(&mut (H, O)) -> HandlerResult + Send + 'static {
    move |state: &mut (H, O)| {
        let (handler, outputs) = state;
        hook(handler, outputs)
    }
}

/// A generated `run`: a runtime of its own, `start` on it (a failure there is reported as
/// `name`'s), then [`Runtime::run_until_signal`].
///
/// # Errors
///
/// As [`Runtime::run_until_signal`], or the error that kept `start` from finishing.
pub fn run(
    name: &str,
    start: impl FnOnce(&mut Runtime) -> Result<()>,
) -> std::result::Result<(), Vec<NodeFailure>> {
    let failed = |error| {
        vec![NodeFailure::Failed {
            node: name.to_owned(),
            error,
        }]
    };
    let mut runtime = Runtime::new().map_err(failed)?;
    start(&mut runtime).map_err(failed)?;
    runtime.run_until_signal()
}

/// A generated proxy's `spawn`: starts proxy `name` as `config` says, then records in `config`
/// the endpoints it bound.
///
/// # Errors
///
/// As [`Runtime::spawn_proxy`].
pub fn spawn_proxy(runtime: &mut Runtime, name: &str, config: &mut ProxyConfig) -> Result<()> {
    let endpoints = runtime.spawn_proxy(name, config.clone())?;
    config.frontend = endpoints.frontend;
    config.backend = endpoints.backend;
    config.capture = endpoints.capture;
    Ok(())
}
