//! Deterministic backtests: generated nodes fed from a recording, in process, with no sockets.
//!
//! A [`Backtest`] runs the very handlers that run live — a generated node's `Handler`, its
//! `Outputs`, its port table — on recorded envelopes: each generated node module has a
//! `backtest(&mut Backtest, handler)` function that adds the node. [`Backtest::run`] then
//! steps every node on one thread, with no ZeroMQ at all:
//!
//! - **Recorded envelopes** go to the subscriptions of the nodes under test whose topic
//!   prefix matches (by `/` segments, as everywhere in Hermes) and whose framing they have
//!   (native or `python-json`, as a SUB socket's subscription prefix would select), in
//!   log-time order. Equal log times keep the order they were given in.
//! - **A recorded topic that a node under test publishes is skipped**: the node's own output
//!   replaces it. Recording `orders` from a live strategy and backtesting a strategy
//!   delivers the backtested strategy's orders, not the recorded ones (counted in
//!   [`Report::skipped`]).
//! - **A virtual clock** reads recorded time. It starts at the first log time, and moves to
//!   each envelope's log time as it is delivered. A node whose `tick_interval` is 100 ms ticks
//!   at every multiple of 100 ms of that time after the start, up to the last log time,
//!   interleaved with the envelopes: an envelope logged at exactly a tick's time comes first.
//!   Nodes at one tick time tick in the order they were added. Envelopes published by nodes
//!   under test are stamped with the virtual clock, the slow-subscriber policy measures lag on
//!   it (a recorded envelope's lag is its log time minus its timestamp), and handlers that
//!   read the time with [`clock_ns`] get it too.
//! - **What nodes under test publish** goes to the nodes under test that subscribe to it on
//!   the same proxy or direct channel, with the same topic matching, at the virtual time of
//!   the event that caused it (no latency). After each event — one recorded envelope
//!   delivered to every subscriber, or one node's tick — what was published is delivered
//!   first in, first out, with whatever that publishes in turn, until nothing is left; then the
//!   next event. Subscribers of one envelope get it in the order their nodes were added, and
//!   within a node in the order of its subscriptions.
//! - `on_start` runs for every node in order at the start, each followed by the delivery of
//!   what it published; `on_stop` at the end, whose publications are counted and captured
//!   but not delivered.
//!
//! Publishers and receivers are the runtime's own, with an in-memory transport: encoding,
//! sequence numbers, topic filters, type fingerprints, decoding and the counts of
//! [`ReceiverStats`] are the live ones. A recorded envelope of another type than a
//! subscription's is counted in [`ReceiverStats::type_mismatches`] and not delivered, as live.
//! Nothing depends on threads, hash-map order or the wall clock, so the same recording gives
//! the same calls in the same order, with the same arguments, every run.
//!
//! # Examples
//!
//! A node with a tick and a subscription, as hermes-build generates it (hidden here: the
//! port table, `Outputs` and `Handler` of a topology with node `counter`):
//!
//! ```
//! # mod counter {
//! #     use hermes_runtime::__private::driver;
//! #     use hermes_runtime::topology::{NodeInfo, PortInfo, PortWiring, ProxySide};
//! #     use hermes_runtime::{Codec, Envelope, HandlerResult, Hooks, Publisher};
//! #     use serde_json::Value;
//! #     pub const NODE: NodeInfo = NodeInfo::new(
//! #         "counter",
//! #         &[PortInfo::of::<Value>("counts", Codec::Json, 1000, PortWiring::Proxy("bus", ProxySide::Frontend))],
//! #         &[PortInfo::of::<Value>("numbers", Codec::Json, 1000, PortWiring::Proxy("bus", ProxySide::Backend))],
//! #     );
//! #     pub static TOPOLOGY: hermes_runtime::topology::TopologyInfo =
//! #         hermes_runtime::topology::TopologyInfo::new("doc", &[], &[], &[], &[NODE]);
//! #     pub struct Outputs { counts: Publisher<Value> }
//! #     impl Outputs {
//! #         pub fn counts(&mut self, message: &Value) -> driver::Result<()> { self.counts.send(message) }
//! #     }
//! #     pub trait Handler: Hooks<Outputs> + Send + 'static {
//! #         fn on_numbers(&mut self, envelope: Envelope<Value>, outputs: &mut Outputs) -> HandlerResult;
//! #     }
//! #     pub struct Node;
//! #     impl<H: Handler> driver::NodeSpec<H> for Node {
//! #         const INFO: &'static NodeInfo = &NODE;
//! #         type Outputs = Outputs;
//! #         fn outputs(ports: &mut driver::Ports) -> driver::Result<Outputs> {
//! #             Ok(Outputs { counts: ports.publisher()? })
//! #         }
//! #         fn subscribe(node: driver::NodeOf<H, Outputs>, ports: &mut driver::Ports) -> driver::Result<driver::NodeOf<H, Outputs>> {
//! #             ports.subscribe(node, H::on_numbers)
//! #         }
//! #     }
//! #     pub fn backtest<H: Handler>(backtest: &mut hermes_runtime::backtest::Backtest, handler: H) -> driver::Result<()> {
//! #         backtest.node::<Node, H>(handler).map(drop)
//! #     }
//! # }
//! use std::time::Duration;
//! use hermes_runtime::backtest::Backtest;
//! use hermes_runtime::{Envelope, HandlerResult, Hooks, RawEnvelope};
//! use serde_json::{Value, json};
//!
//! /// Sums the numbers it receives; publishes the sum every 100 ms.
//! struct Counter(i64);
//!
//! impl Hooks<counter::Outputs> for Counter {
//!     fn tick_interval(&self) -> Option<Duration> {
//!         Some(Duration::from_millis(100))
//!     }
//!     fn on_tick(&mut self, outputs: &mut counter::Outputs) -> HandlerResult {
//!         outputs.counts(&json!(self.0)).map_err(Into::into)
//!     }
//! }
//!
//! impl counter::Handler for Counter {
//!     fn on_numbers(&mut self, envelope: Envelope<Value>, _: &mut counter::Outputs) -> HandlerResult {
//!         self.0 += envelope.message.as_i64().unwrap_or(0);
//!         Ok(())
//!     }
//! }
//!
//! // A recording: `(log time, envelope)`, here one number every 30 ms for a second.
//! # fn number(n: i64, at_ns: u64) -> RawEnvelope {
//! #     use hermes_runtime::__private::envelope::{Frames, Stamp, encode};
//! #     let stamp = Stamp { codec: hermes_runtime::Codec::Json, topic: "numbers", origin: "feed",
//! #         epoch: 7, seq: n as u64, timestamp_ns: at_ns, python_layout: hermes_runtime::PythonLayout::Message };
//! #     let mut frames = Frames::new();
//! #     encode(&stamp, &json!(n), &mut frames).unwrap();
//! #     let parts: Vec<&[u8]> = frames.parts().iter().map(Vec::as_slice).collect();
//! #     RawEnvelope::from_frames(&parts).unwrap()
//! # }
//! let start = 1_700_000_000_000_000_000u64;
//! let recording: Vec<(u64, RawEnvelope)> = (0..34)
//!     .map(|n| (start + n as u64 * 30_000_000, number(1, start + n as u64 * 30_000_000)))
//!     .collect();
//!
//! let mut backtest = Backtest::new(&counter::TOPOLOGY);
//! counter::backtest(&mut backtest, Counter(0))?;
//! backtest.capture("counts")?;
//! let report = backtest.run(recording)?;
//!
//! // Ticks at each 100 ms of recorded time, the first 100 ms after the start.
//! assert_eq!(report.nodes[0].ticks, 9);
//! let sums: Vec<i64> = report.captured.iter()
//!     .map(|(_, raw)| raw.decode::<Value>().unwrap().message.as_i64().unwrap())
//!     .collect();
//! assert_eq!(sums, [4, 7, 11, 14, 17, 21, 24, 27, 31]); // a number per 30 ms, 0 ms included
//! assert_eq!(report.captured[0].0, start + 100_000_000); // on the virtual clock
//! assert_eq!(report.captured[0].1.timestamp_ns, start + 100_000_000);
//! # Ok::<(), hermes_runtime::Error>(())
//! ```

mod clock;
mod outbox;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crossbeam_channel::{Receiver as Queue, Sender};

pub use clock::clock_ns;
pub(crate) use outbox::{Outbox, Published};

use crate::codec::Codec;
use crate::envelope::RawEnvelope;
use crate::error::{Error, Result};
use crate::node::Step;
use crate::stats::ReceiverStats;
use crate::topic::TopicFilter;
use crate::topology::{Hooks, NodeInfo, NodeSpec, PortWiring, Ports, TopologyInfo, build_node};
use clock::VirtualClock;

/// Most envelopes nodes under test may publish in reaction to one event: past it, they are
/// taken to be publishing to each other in a cycle, and the run fails instead of never ending.
const MAX_CASCADE: u64 = 1_000_000;

/// A deterministic backtest of generated nodes: add nodes with their handlers (with each
/// generated node module's `backtest` function, or [`node`](Backtest::node)), then
/// [`run`](Backtest::run) them on recorded envelopes. The [module docs](self) say in which
/// order everything happens.
pub struct Backtest {
    topology: &'static TopologyInfo,
    nodes: Vec<UnderTest>,
    captures: Vec<TopicFilter>,
    outbox: Sender<Published>,
    published: Queue<Published>,
}

/// A node under test.
struct UnderTest {
    info: &'static NodeInfo,
    node: Box<dyn Step + Send>,
}

impl Backtest {
    /// A backtest of nodes of `topology` (a generated module's `TOPOLOGY`), with none yet.
    pub fn new(topology: &'static TopologyInfo) -> Backtest {
        let (outbox, published) = crossbeam_channel::unbounded();
        Backtest {
            topology,
            nodes: Vec::new(),
            captures: Vec::new(),
            outbox,
            published,
        }
    }

    /// Adds node `N` (a generated node module's `Node`) run by `handler`: what the generated
    /// `backtest` function calls.
    ///
    /// # Errors
    ///
    /// [`Error::Backtest`] when the topology has no such node or it is already added;
    /// [`Error::Codec`] when its port table and generated code disagree on a type.
    pub fn node<N, H>(&mut self, handler: H) -> Result<&mut Backtest>
    where
        N: NodeSpec<H>,
        H: Hooks<N::Outputs> + Send + 'static,
    {
        let info = N::INFO;
        if self.topology.node(info.name) != Some(info) {
            return Err(Error::Backtest {
                reason: format!(
                    "topology `{}` has no node `{}` with this port table",
                    self.topology.name, info.name
                ),
            });
        }
        if self.nodes.iter().any(|node| node.info.name == info.name) {
            return Err(Error::Backtest {
                reason: format!("node `{}` is already in the backtest", info.name),
            });
        }
        let mut ports = Ports::in_memory(info, self.nodes.len(), &self.outbox)?;
        let node = build_node::<N, H>(handler, &mut ports)?;
        self.nodes.push(UnderTest {
            info,
            node: Box::new(node),
        });
        Ok(self)
    }

    /// Keeps what nodes under test publish on topics under `topic` in [`Report::captured`]:
    /// call once per topic prefix (`""` for everything).
    ///
    /// # Errors
    ///
    /// [`Error::Topic`] for an invalid topic.
    pub fn capture(&mut self, topic: &str) -> Result<&mut Backtest> {
        self.captures.push(TopicFilter::new(topic)?);
        Ok(self)
    }

    /// Runs the nodes on `envelopes`, `(log time in ns since the Unix epoch, envelope)` as a
    /// recording's reader yields them, and reports what happened. The envelopes are sorted by
    /// log time first (a stable sort, so they need not come in order).
    ///
    /// # Errors
    ///
    /// [`Error::Node`] when a handler or hook fails (the run stops there);
    /// [`Error::Backtest`] when nodes under test publish more than a million envelopes in
    /// reaction to one event (a cycle).
    pub fn run(
        mut self,
        envelopes: impl IntoIterator<Item = (u64, RawEnvelope)>,
    ) -> Result<Report> {
        let mut recorded: Vec<(u64, RawEnvelope)> = envelopes.into_iter().collect();
        recorded.sort_by_key(|(log_time_ns, _)| *log_time_ns);
        let start_ns = recorded.first().map_or(0, |(at, _)| *at);
        let end_ns = recorded.last().map_or(start_ns, |(at, _)| *at);
        let routes = Routes::new(&self.nodes);
        let mut report = Report {
            start_ns,
            end_ns,
            nodes: self
                .nodes
                .iter()
                .map(|node| NodeReport {
                    name: node.info.name,
                    ticks: 0,
                    published: 0,
                    subscriptions: Vec::new(),
                })
                .collect(),
            ..Report::default()
        };
        let clock = VirtualClock::start(start_ns);
        let mut engine = Engine {
            nodes: &mut self.nodes,
            routes: &routes,
            captures: &self.captures,
            published: &self.published,
            report: &mut report,
            targets: Vec::new(),
        };

        for index in 0..engine.nodes.len() {
            engine.nodes[index].node.start()?;
            engine.cascade(start_ns)?;
        }
        // Per node: the next tick's time and the period, both in ns.
        let mut ticks: Vec<Option<(u64, u64)>> = engine
            .nodes
            .iter()
            .map(|node| {
                let period = node.node.tick_period()?;
                let period = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX).max(1);
                let first = (start_ns / period).checked_add(1)?.checked_mul(period)?;
                Some((first, period))
            })
            .collect();
        let mut recorded = recorded.into_iter().peekable();
        loop {
            let next_tick = ticks
                .iter()
                .flatten()
                .map(|(at, _)| *at)
                .filter(|at| *at <= end_ns)
                .min();
            let next_envelope = recorded.peek().map(|(at, _)| *at);
            match (next_envelope, next_tick) {
                (Some(envelope_at), Some(tick_at)) if tick_at < envelope_at => {
                    engine.tick(&clock, &mut ticks, tick_at)?;
                }
                (None, Some(tick_at)) => engine.tick(&clock, &mut ticks, tick_at)?,
                (Some(_), _) => {
                    if let Some((at, raw)) = recorded.next() {
                        clock.set(at);
                        engine.replay(at, &raw)?;
                    }
                }
                (None, None) => break,
            }
        }
        clock.set(end_ns);
        for index in 0..engine.nodes.len() {
            engine.nodes[index].node.stop()?;
        }
        // What `on_stop` published has no one left to go to: counted and captured only.
        while let Ok(published) = engine.published.try_recv() {
            engine.take(end_ns, published)?;
        }
        drop(clock);
        for (node, report) in self.nodes.iter().zip(&mut report.nodes) {
            report.subscriptions = node.node.input_stats();
        }
        Ok(report)
    }
}

impl std::fmt::Debug for Backtest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes: Vec<&str> = self.nodes.iter().map(|node| node.info.name).collect();
        f.debug_struct("Backtest")
            .field("topology", &self.topology.name)
            .field("nodes", &nodes)
            .field("captures", &self.captures)
            .finish_non_exhaustive()
    }
}

/// What a [`Backtest::run`] did.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The virtual clock's first time: the earliest log time (0 with no envelopes).
    pub start_ns: u64,
    /// The virtual clock's last time: the latest log time.
    pub end_ns: u64,
    /// Recorded envelopes read.
    pub recorded: u64,
    /// Recorded envelopes on a topic a node under test publishes, so not delivered.
    pub skipped: u64,
    /// Recorded envelopes no subscription of a node under test matched.
    pub unsubscribed: u64,
    /// Envelopes the nodes under test published.
    pub published: u64,
    /// Per node under test, in the order they were added.
    pub nodes: Vec<NodeReport>,
    /// What nodes under test published on the topics of [`Backtest::capture`], in the order
    /// they published it, with the virtual time it was published at.
    pub captured: Vec<(u64, RawEnvelope)>,
}

impl Report {
    /// The report of node `name`.
    pub fn node(&self, name: &str) -> Option<&NodeReport> {
        self.nodes.iter().find(|node| node.name == name)
    }
}

/// What one node under test did in a [`Backtest::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeReport {
    /// The node's name.
    pub name: &'static str,
    /// Times its tick ran.
    pub ticks: u64,
    /// Envelopes it published.
    pub published: u64,
    /// Each subscription's counts, in port-table order: `received` is the handler's calls.
    pub subscriptions: Vec<ReceiverStats>,
}

impl NodeReport {
    /// Every subscription's counts, added up.
    pub fn stats(&self) -> ReceiverStats {
        let mut total = ReceiverStats::default();
        for stats in &self.subscriptions {
            total.merge(stats);
        }
        total
    }
}

/// The engine of one run: the nodes, where envelopes go, and the counts.
struct Engine<'a> {
    nodes: &'a mut [UnderTest],
    routes: &'a Routes,
    captures: &'a [TopicFilter],
    published: &'a Queue<Published>,
    report: &'a mut Report,
    /// The subscriptions of the envelope being delivered, reused from envelope to envelope.
    targets: Vec<(usize, usize)>,
}

impl Engine<'_> {
    /// Ticks, in order, every node whose next tick is at `at`, each followed by what it
    /// published.
    fn tick(
        &mut self,
        clock: &VirtualClock,
        ticks: &mut [Option<(u64, u64)>],
        at: u64,
    ) -> Result<()> {
        clock.set(at);
        for (index, tick) in ticks.iter_mut().enumerate() {
            let Some((next, period)) = *tick else {
                continue;
            };
            if next != at {
                continue;
            }
            *tick = next.checked_add(period).map(|next| (next, period));
            self.nodes[index].node.tick()?;
            self.report.nodes[index].ticks += 1;
            self.cascade(at)?;
        }
        Ok(())
    }

    /// Delivers recorded envelope `raw` to every matching subscription, then what that caused.
    fn replay(&mut self, at: u64, raw: &RawEnvelope) -> Result<()> {
        self.report.recorded += 1;
        if self.routes.published_topics.contains(&*raw.topic) {
            self.report.skipped += 1;
            return Ok(());
        }
        self.routes.targets(raw, None, &mut self.targets);
        if self.targets.is_empty() {
            self.report.unsubscribed += 1;
            return Ok(());
        }
        self.deliver(raw)?;
        self.cascade(at)
    }

    /// Delivers `raw` to each of `targets`, in order.
    fn deliver(&mut self, raw: &RawEnvelope) -> Result<()> {
        for &(node, input) in &self.targets {
            self.nodes[node].node.deliver(input, raw)?;
        }
        Ok(())
    }

    /// Delivers what nodes under test published, first in first out, until nothing is left.
    fn cascade(&mut self, at: u64) -> Result<()> {
        let mut count = 0u64;
        while let Ok(published) = self.published.try_recv() {
            count += 1;
            if count > MAX_CASCADE {
                return Err(Error::Backtest {
                    reason: format!(
                        "nodes under test published more than {MAX_CASCADE} envelopes in \
                         reaction to one event at {at} ns; do they publish to each other in a \
                         cycle?"
                    ),
                });
            }
            let wiring = self.nodes[published.node].info.publishes[published.port].wiring;
            let raw = self.take(at, published)?;
            self.routes
                .targets(&raw, Some(Medium::of(wiring)), &mut self.targets);
            self.deliver(&raw)?;
        }
        Ok(())
    }

    /// Decodes, counts and captures one published envelope.
    fn take(&mut self, at: u64, published: Published) -> Result<RawEnvelope> {
        let frames: Vec<&[u8]> = published.frames.iter().map(Vec::as_slice).collect();
        let raw = RawEnvelope::from_frames(&frames).map_err(|err| Error::Backtest {
            reason: format!(
                "node `{}` published an envelope that does not decode: {err}",
                self.nodes[published.node].info.name
            ),
        })?;
        self.report.published += 1;
        self.report.nodes[published.node].published += 1;
        if self
            .captures
            .iter()
            .any(|filter| filter.matches(&raw.topic))
        {
            self.report.captured.push((at, raw.clone()));
        }
        Ok(raw)
    }
}

/// What carries a port's envelopes: a proxy, or a direct channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Medium {
    Proxy(&'static str),
    Channel(&'static str),
}

impl Medium {
    fn of(wiring: PortWiring) -> Medium {
        match wiring {
            PortWiring::Proxy(proxy, _) => Medium::Proxy(proxy),
            PortWiring::Bind(channel, _) | PortWiring::Connect(channel, _) => {
                Medium::Channel(channel)
            }
        }
    }
}

/// One subscription of a node under test, as routing sees it.
struct Route {
    node: usize,
    input: usize,
    topic: &'static str,
    python: bool,
    medium: Medium,
}

/// Where envelopes go: every subscription of the nodes under test, in node then port order,
/// and the topics they publish.
struct Routes {
    subscriptions: Vec<Route>,
    published_topics: BTreeSet<&'static str>,
}

impl Routes {
    fn new(nodes: &[UnderTest]) -> Routes {
        let mut subscriptions = Vec::new();
        let mut published_topics = BTreeSet::new();
        for (node, under_test) in nodes.iter().enumerate() {
            for (input, port) in under_test.info.subscribes.iter().enumerate() {
                subscriptions.push(Route {
                    node,
                    input,
                    topic: port.topic,
                    python: port.codec == Codec::PythonJson,
                    medium: Medium::of(port.wiring),
                });
            }
            published_topics.extend(under_test.info.publishes.iter().map(|port| port.topic));
        }
        Routes {
            subscriptions,
            published_topics,
        }
    }

    /// Fills `targets` with the subscriptions `raw` reaches: its topic matches theirs, its
    /// framing is theirs, and, for an envelope published on `medium`, they are on it too (a
    /// recorded envelope, `None`, reaches every medium).
    fn targets(
        &self,
        raw: &RawEnvelope,
        medium: Option<Medium>,
        targets: &mut Vec<(usize, usize)>,
    ) {
        let python = raw.codec == Codec::PythonJson;
        targets.clear();
        targets.extend(
            self.subscriptions
                .iter()
                .filter(|route| {
                    route.python == python
                        && medium.is_none_or(|medium| medium == route.medium)
                        && hermes_core::topic::matches(route.topic, &raw.topic)
                })
                .map(|route| (route.node, route.input)),
        );
    }
}
