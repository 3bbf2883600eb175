//! Nodes: a name, receivers with their handlers, and the state they share.

use std::time::{Duration, Instant};

use crate::envelope::{Envelope, RawEnvelope};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::receiver::Receiver;
use crate::shutdown::Shutdown;
use crate::stats::ReceiverStats;

/// What a handler returns: any error fails the node, and the runtime reports it.
pub type HandlerResult = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Most envelopes taken from one receiver before the others get a turn.
const BATCH: usize = 256;

/// How long a node blocks in `zmq::poll` at the most before looking at its stop flag again; the
/// stop signal normally wakes it at once.
const MAX_WAIT: Duration = Duration::from_millis(500);

type Hook<S> = Box<dyn FnMut(&mut S) -> HandlerResult + Send>;

/// A node: receivers, each with a handler, a tick, start and stop hooks, and state `S` they all
/// get `&mut` access to (publishers usually live in it).
///
/// [`run`](Node::run) blocks in `zmq::poll` until an envelope or the stop signal arrives, so an
/// idle node uses no CPU.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::{Context, Node, Publisher, Receiver, Shutdown};
/// use serde_json::{Value, json};
///
/// let context = Context::new();
/// let inbox = Receiver::<Value>::builder(&context).topic("numbers").bind("inproc://doc-node")?;
/// let mut sender = Publisher::<Value>::builder(&context).topic("numbers").connect("inproc://doc-node")?;
///
/// let shutdown = Shutdown::new(&context)?;
/// let stop = shutdown.clone();
/// let node = Node::new("summer", 0i64)
///     .subscribe(inbox, move |sum: &mut i64, envelope: hermes_runtime::Envelope<Value>| {
///         *sum += envelope.message.as_i64().unwrap_or(0);
///         if *sum >= 10 {
///             stop.trigger();
///         }
///         Ok(())
///     })
///     .on_tick(Duration::from_millis(5), move |_sum: &mut i64| {
///         sender.send(&json!(1)).map_err(Into::into)
///     });
/// let sum = node.run(&shutdown)?;
/// assert!(sum >= 10);
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
pub struct Node<S> {
    name: String,
    state: S,
    inputs: Vec<Box<dyn Input<S>>>,
    tick: Option<(Duration, Hook<S>)>,
    on_start: Option<Hook<S>>,
    on_stop: Option<Hook<S>>,
}

impl<S: Send + 'static> Node<S> {
    /// A node named `name` holding `state`.
    pub fn new(name: impl Into<String>, state: S) -> Node<S> {
        Node {
            name: name.into(),
            state,
            inputs: Vec::new(),
            tick: None,
            on_start: None,
            on_stop: None,
        }
    }

    /// Calls `handler` for each envelope `receiver` delivers. With [`metrics`](crate::metrics),
    /// the receiver's series carry this node's name as their `node` label.
    pub fn subscribe<M: Message>(
        mut self,
        mut receiver: Receiver<M>,
        handler: impl FnMut(&mut S, Envelope<M>) -> HandlerResult + Send + 'static,
    ) -> Node<S> {
        receiver.set_metrics_node(&self.name);
        self.inputs.push(Box::new(Subscription {
            receiver,
            handler,
            closed: false,
        }));
        self
    }

    /// Calls `tick` every `period`, measured from the end of the previous tick's slot (ticks
    /// that fall behind are skipped, not bunched up).
    pub fn on_tick(
        mut self,
        period: Duration,
        tick: impl FnMut(&mut S) -> HandlerResult + Send + 'static,
    ) -> Node<S> {
        self.tick = Some((period.max(Duration::from_micros(100)), Box::new(tick)));
        self
    }

    /// Calls `hook` once before the first envelope.
    pub fn on_start(
        mut self,
        hook: impl FnMut(&mut S) -> HandlerResult + Send + 'static,
    ) -> Node<S> {
        self.on_start = Some(Box::new(hook));
        self
    }

    /// Calls `hook` once after the last envelope, when the node stops without failing.
    pub fn on_stop(
        mut self,
        hook: impl FnMut(&mut S) -> HandlerResult + Send + 'static,
    ) -> Node<S> {
        self.on_stop = Some(Box::new(hook));
        self
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs the node on this thread until `shutdown` triggers, then returns its state.
    ///
    /// A node with no receivers and no tick has nothing to wait for and returns after
    /// `on_start` and `on_stop`.
    ///
    /// # Errors
    ///
    /// [`Error::Node`] when a handler or hook fails; [`Error::Zmq`] when polling fails.
    pub fn run(mut self, shutdown: &Shutdown) -> Result<S> {
        let control = shutdown.listener()?;
        let name = self.name.clone();
        let fail = |reason: Box<dyn std::error::Error + Send + Sync>| Error::Node {
            node: name.clone(),
            reason: reason.to_string(),
        };
        if let Some(hook) = &mut self.on_start {
            hook(&mut self.state).map_err(fail)?;
        }
        let mut next_tick = self
            .tick
            .as_ref()
            .map(|(period, _)| Instant::now() + *period);
        let mut readable = Vec::with_capacity(self.inputs.len());
        loop {
            let open = self.inputs.iter().any(|input| !input.is_closed());
            if shutdown.is_triggered() || (!open && next_tick.is_none()) {
                break;
            }
            let wait = next_tick.map_or(MAX_WAIT, |at| {
                at.saturating_duration_since(Instant::now()).min(MAX_WAIT)
            });
            readable.clear();
            // A batch's envelopes left over from the last drain are not seen by the poll:
            // look without waiting, and drain those inputs as well.
            readable.extend((0..self.inputs.len()).filter(|&i| self.inputs[i].has_unpacked()));
            let wait = if readable.is_empty() {
                wait
            } else {
                Duration::ZERO
            };
            {
                let mut items = Vec::with_capacity(self.inputs.len() + 1);
                items.push(control.as_poll_item(zmq::POLLIN));
                let mut owners = Vec::with_capacity(self.inputs.len());
                for (i, input) in self.inputs.iter().enumerate() {
                    if let Some(socket) = input.socket() {
                        items.push(socket.as_poll_item(zmq::POLLIN));
                        owners.push(i);
                    }
                }
                let millis = i64::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(i64::MAX);
                match zmq::poll(&mut items, millis) {
                    Ok(_) => {}
                    Err(zmq::Error::EINTR) => continue,
                    Err(zmq::Error::ETERM) => break,
                    Err(err) => return Err(Error::zmq("poll")(err)),
                }
                if items[0].is_readable() {
                    break;
                }
                for (item, &owner) in items[1..].iter().zip(&owners) {
                    if item.is_readable() && !readable.contains(&owner) {
                        readable.push(owner);
                    }
                }
            }
            for &i in &readable {
                self.inputs[i].drain(&mut self.state, BATCH).map_err(fail)?;
            }
            if let (Some(at), Some((period, tick))) = (next_tick, &mut self.tick)
                && Instant::now() >= at
            {
                tick(&mut self.state).map_err(fail)?;
                next_tick = Some(Instant::now().max(at + *period));
            }
        }
        if let Some(hook) = &mut self.on_stop {
            hook(&mut self.state).map_err(fail)?;
        }
        if !self.inputs.is_empty() {
            let stats = self.stats();
            tracing::info!(
                node = %self.name,
                received = stats.received,
                lost = stats.lost,
                missed_at_start = stats.missed_at_start,
                publisher_restarts = stats.publisher_restarts,
                "stopped"
            );
        }
        Ok(self.state)
    }

    /// Counts of every receiver of the node, added up.
    pub fn stats(&self) -> ReceiverStats {
        let mut total = ReceiverStats::default();
        for input in &self.inputs {
            total.merge(&input.stats());
        }
        total
    }
}

impl<S> std::fmt::Debug for Node<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name)
            .field("inputs", &self.inputs.len())
            .field("tick", &self.tick.as_ref().map(|(period, _)| period))
            .finish_non_exhaustive()
    }
}

/// A receiver and its handler, with the message type erased.
trait Input<S>: Send {
    fn socket(&self) -> Option<&zmq::Socket>;
    fn is_closed(&self) -> bool;
    /// Whether envelopes of a batch already read off the socket are waiting.
    fn has_unpacked(&self) -> bool;
    fn drain(&mut self, state: &mut S, budget: usize) -> HandlerResult;
    /// Hands the handler an envelope given by a backtest's engine, through the receiver's
    /// filters, sequence tracking, lag policy and type check.
    fn deliver(&mut self, state: &mut S, raw: &RawEnvelope) -> HandlerResult;
    fn stats(&self) -> ReceiverStats;
}

struct Subscription<M, F> {
    receiver: Receiver<M>,
    handler: F,
    closed: bool,
}

impl<S, M, F> Input<S> for Subscription<M, F>
where
    M: Message,
    F: FnMut(&mut S, Envelope<M>) -> HandlerResult + Send,
{
    fn socket(&self) -> Option<&zmq::Socket> {
        self.receiver.socket()
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn has_unpacked(&self) -> bool {
        self.receiver.has_unpacked()
    }

    fn drain(&mut self, state: &mut S, budget: usize) -> HandlerResult {
        for _ in 0..budget {
            match self.receiver.try_recv() {
                Ok(envelope) => (self.handler)(state, envelope)?,
                Err(Error::Empty) => return Ok(()),
                Err(Error::Disconnected) => {
                    self.closed = true;
                    return Ok(());
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    fn deliver(&mut self, state: &mut S, raw: &RawEnvelope) -> HandlerResult {
        if self.closed {
            return Ok(());
        }
        match self.receiver.accept_envelope(raw) {
            Ok(Some(envelope)) => (self.handler)(state, envelope),
            Ok(None) => Ok(()),
            Err(Error::Disconnected) => {
                self.closed = true;
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }

    fn stats(&self) -> ReceiverStats {
        self.receiver.stats()
    }
}

/// A node a [`Backtest`](crate::backtest::Backtest) steps itself, one hook or envelope at a
/// time, instead of [`Node::run`]'s poll loop; the message and state types erased.
pub(crate) trait Step {
    /// Calls `on_start`.
    fn start(&mut self) -> Result<()>;
    /// The tick's period, if the node has a tick.
    fn tick_period(&self) -> Option<Duration>;
    /// Calls the tick.
    fn tick(&mut self) -> Result<()>;
    /// Hands `raw` to subscription `input` (in the order of [`Node::subscribe`] calls).
    fn deliver(&mut self, input: usize, raw: &RawEnvelope) -> Result<()>;
    /// Calls `on_stop`.
    fn stop(&mut self) -> Result<()>;
    /// Each subscription's counts, in order.
    fn input_stats(&self) -> Vec<ReceiverStats>;
}

/// The error of node `node` whose handler or hook reported `reason`.
fn failed(node: &str, reason: Box<dyn std::error::Error + Send + Sync>) -> Error {
    Error::Node {
        node: node.to_owned(),
        reason: reason.to_string(),
    }
}

impl<S: Send + 'static> Step for Node<S> {
    fn start(&mut self) -> Result<()> {
        match &mut self.on_start {
            Some(hook) => hook(&mut self.state).map_err(|reason| failed(&self.name, reason)),
            None => Ok(()),
        }
    }

    fn tick_period(&self) -> Option<Duration> {
        self.tick.as_ref().map(|(period, _)| *period)
    }

    fn tick(&mut self) -> Result<()> {
        match &mut self.tick {
            Some((_, tick)) => tick(&mut self.state).map_err(|reason| failed(&self.name, reason)),
            None => Ok(()),
        }
    }

    fn deliver(&mut self, input: usize, raw: &RawEnvelope) -> Result<()> {
        match self.inputs.get_mut(input) {
            Some(input) => input
                .deliver(&mut self.state, raw)
                .map_err(|reason| failed(&self.name, reason)),
            None => Ok(()),
        }
    }

    fn stop(&mut self) -> Result<()> {
        match &mut self.on_stop {
            Some(hook) => hook(&mut self.state).map_err(|reason| failed(&self.name, reason)),
            None => Ok(()),
        }
    }

    fn input_stats(&self) -> Vec<ReceiverStats> {
        self.inputs.iter().map(|input| input.stats()).collect()
    }
}
