//! The engine on a small topology written as hermes-build would generate it: `doubler` doubles
//! the `numbers` it gets onto `doubled`, `sink` logs `doubled` and ticks every 100 ms, `echo`
//! publishes `numbers` itself every 250 ms, `words` expects another type on `numbers`, and
//! `elsewhere` listens to `doubled` on another proxy.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::Backtest;
use crate::envelope::{Frames, Stamp, encode};
use crate::topology::{NodeInfo, NodeSpec, PortInfo, PortWiring, Ports, ProxySide, TopologyInfo};
use crate::{
    Codec, Envelope, Error, HandlerResult, Hooks, Message, Publisher, PythonLayout, RawEnvelope,
    SlowSubscriberAction,
};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, crate::HermesMessage)]
#[hermes(name = "test.Number", codec = "json", crate = "crate")]
struct Number {
    value: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, crate::HermesMessage)]
#[hermes(name = "test.Word", codec = "json", crate = "crate")]
struct Word {
    text: String,
}

/// 2023-11-14 22:13:20 UTC, a whole second: ticks fall on whole multiples from here.
const T0: u64 = 1_700_000_000_000_000_000;
const MS: u64 = 1_000_000;

const fn port<M: Message>(topic: &'static str, proxy: &'static str, side: ProxySide) -> PortInfo {
    PortInfo::of::<M>(topic, Codec::Json, 1000, PortWiring::Proxy(proxy, side))
}

const DOUBLER: NodeInfo = NodeInfo::new(
    "doubler",
    &[port::<Number>("doubled", "bus", ProxySide::Frontend)],
    &[port::<Number>("numbers", "bus", ProxySide::Backend)],
);
const SINK: NodeInfo = NodeInfo::new(
    "sink",
    &[],
    &[port::<Number>("doubled", "bus", ProxySide::Backend)
        .slow_subscriber(10, SlowSubscriberAction::Drop)],
);
const ECHO: NodeInfo = NodeInfo::new(
    "echo",
    &[port::<Number>("numbers", "bus", ProxySide::Frontend)],
    &[],
);
const WORDS: NodeInfo = NodeInfo::new(
    "words",
    &[],
    &[port::<Word>("numbers", "bus", ProxySide::Backend)],
);
const ELSEWHERE: NodeInfo = NodeInfo::new(
    "elsewhere",
    &[],
    &[port::<Number>("doubled", "other", ProxySide::Backend)],
);
static TOPOLOGY: TopologyInfo = TopologyInfo::new(
    "test",
    &[],
    &[],
    &[],
    &[DOUBLER, SINK, ECHO, WORDS, ELSEWHERE],
);

/// What the handlers saw, in order, shared by every node of a test.
type Log = Arc<Mutex<Vec<String>>>;

fn write(log: &Log, line: String) {
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(line);
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Milliseconds since `T0` on the virtual clock.
fn now_ms() -> u64 {
    (super::clock_ns() - T0) / MS
}

struct Doubler(Log);
struct DoublerOutputs(Publisher<Number>);
struct DoublerNode;

impl Hooks<DoublerOutputs> for Doubler {}

impl NodeSpec<Doubler> for DoublerNode {
    const INFO: &'static NodeInfo = &DOUBLER;
    type Outputs = DoublerOutputs;
    fn outputs(ports: &mut Ports) -> crate::Result<DoublerOutputs> {
        Ok(DoublerOutputs(ports.publisher()?))
    }
    fn subscribe(
        node: crate::Node<(Doubler, DoublerOutputs)>,
        ports: &mut Ports,
    ) -> crate::Result<crate::Node<(Doubler, DoublerOutputs)>> {
        ports.subscribe(
            node,
            |doubler: &mut Doubler, envelope: Envelope<Number>, outputs: &mut DoublerOutputs| {
                let value = envelope.message.value;
                write(
                    &doubler.0,
                    format!("doubler {value} from {} at {}", envelope.origin, now_ms()),
                );
                outputs.0.send(&Number { value: 2 * value })?;
                Ok(())
            },
        )
    }
}

struct Sink(Log);
struct SinkNode;

impl Hooks<()> for Sink {
    fn tick_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(100))
    }
    fn on_tick(&mut self, _: &mut ()) -> HandlerResult {
        write(&self.0, format!("sink tick at {}", now_ms()));
        Ok(())
    }
}

impl NodeSpec<Sink> for SinkNode {
    const INFO: &'static NodeInfo = &SINK;
    type Outputs = ();
    fn outputs(_: &mut Ports) -> crate::Result<()> {
        Ok(())
    }
    fn subscribe(
        node: crate::Node<(Sink, ())>,
        ports: &mut Ports,
    ) -> crate::Result<crate::Node<(Sink, ())>> {
        ports.subscribe(
            node,
            |sink: &mut Sink, envelope: Envelope<Number>, _: &mut ()| {
                write(
                    &sink.0,
                    format!(
                        "sink {} at {} stamped {}",
                        envelope.message.value,
                        now_ms(),
                        (envelope.timestamp_ns - T0) / MS
                    ),
                );
                Ok(())
            },
        )
    }
}

struct Echo;
struct EchoOutputs(Publisher<Number>);
struct EchoNode;

impl Hooks<EchoOutputs> for Echo {
    fn tick_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(250))
    }
    fn on_tick(&mut self, outputs: &mut EchoOutputs) -> HandlerResult {
        outputs.0.send(&Number { value: 1000 })?;
        Ok(())
    }
}

impl NodeSpec<Echo> for EchoNode {
    const INFO: &'static NodeInfo = &ECHO;
    type Outputs = EchoOutputs;
    fn outputs(ports: &mut Ports) -> crate::Result<EchoOutputs> {
        Ok(EchoOutputs(ports.publisher()?))
    }
}

struct Words(Log);
struct WordsNode;

impl Hooks<()> for Words {}

impl NodeSpec<Words> for WordsNode {
    const INFO: &'static NodeInfo = &WORDS;
    type Outputs = ();
    fn outputs(_: &mut Ports) -> crate::Result<()> {
        Ok(())
    }
    fn subscribe(
        node: crate::Node<(Words, ())>,
        ports: &mut Ports,
    ) -> crate::Result<crate::Node<(Words, ())>> {
        ports.subscribe(
            node,
            |words: &mut Words, envelope: Envelope<Word>, _: &mut ()| {
                write(&words.0, format!("words {}", envelope.message.text));
                Ok(())
            },
        )
    }
}

struct Elsewhere(Log);
struct ElsewhereNode;

impl Hooks<()> for Elsewhere {}

impl NodeSpec<Elsewhere> for ElsewhereNode {
    const INFO: &'static NodeInfo = &ELSEWHERE;
    type Outputs = ();
    fn outputs(_: &mut Ports) -> crate::Result<()> {
        Ok(())
    }
    fn subscribe(
        node: crate::Node<(Elsewhere, ())>,
        ports: &mut Ports,
    ) -> crate::Result<crate::Node<(Elsewhere, ())>> {
        ports.subscribe(
            node,
            |elsewhere: &mut Elsewhere, envelope: Envelope<Number>, _: &mut ()| {
                write(
                    &elsewhere.0,
                    format!("elsewhere {}", envelope.message.value),
                );
                Ok(())
            },
        )
    }
}

/// A recorded `Number` on `topic`, logged at `T0 + at_ms` and stamped `lag_ms` before.
fn recorded(topic: &str, value: i64, at_ms: u64, lag_ms: u64) -> (u64, RawEnvelope) {
    let at = T0 + at_ms * MS;
    let stamp = Stamp {
        codec: Codec::Json,
        topic,
        origin: "feed",
        epoch: 9,
        seq: at_ms,
        timestamp_ns: at - lag_ms * MS,
        python_layout: PythonLayout::Message,
    };
    let mut frames = Frames::new();
    encode(&stamp, &Number { value }, &mut frames).expect("encodes");
    let parts: Vec<&[u8]> = frames.parts().iter().map(Vec::as_slice).collect();
    (at, RawEnvelope::from_frames(&parts).expect("decodes"))
}

#[test]
fn recorded_envelopes_are_delivered_in_log_time_order() {
    let log = Log::default();
    let mut backtest = Backtest::new(&TOPOLOGY);
    backtest
        .node::<DoublerNode, _>(Doubler(Arc::clone(&log)))
        .expect("adds doubler");
    let report = backtest
        .run([
            recorded("numbers", 3, 30, 0),
            recorded("numbers", 1, 10, 0),
            recorded("numbers", 2, 20, 0),
            recorded("numbers", 4, 20, 0), // the same log time as 2: after it, as given
        ])
        .expect("runs");
    assert_eq!(
        lines(&log),
        [
            "doubler 1 from feed at 10",
            "doubler 2 from feed at 20",
            "doubler 4 from feed at 20",
            "doubler 3 from feed at 30",
        ]
    );
    assert_eq!(
        (report.start_ns, report.end_ns),
        (T0 + 10 * MS, T0 + 30 * MS)
    );
    assert_eq!(report.recorded, 4);
}

#[test]
fn ticks_fire_at_each_period_of_recorded_time_between_the_envelopes() {
    let log = Log::default();
    let mut backtest = Backtest::new(&TOPOLOGY);
    backtest
        .node::<SinkNode, _>(Sink(Arc::clone(&log)))
        .expect("adds sink");
    let report = backtest
        .run([
            recorded("doubled", 1, 0, 0),
            recorded("doubled", 2, 150, 0),
            recorded("doubled", 3, 230, 0),
            recorded("doubled", 4, 300, 0),
            recorded("doubled", 5, 420, 0),
        ])
        .expect("runs");
    assert_eq!(
        lines(&log),
        [
            "sink 1 at 0 stamped 0",
            "sink tick at 100",
            "sink 2 at 150 stamped 150",
            "sink tick at 200",
            "sink 3 at 230 stamped 230",
            "sink 4 at 300 stamped 300", // an envelope at a tick's time comes first
            "sink tick at 300",
            "sink tick at 400",
            "sink 5 at 420 stamped 420", // no tick after the last log time
        ]
    );
    assert_eq!(report.nodes[0].ticks, 4);
}

#[test]
fn what_a_node_publishes_reaches_subscribers_at_once_stamped_with_the_virtual_clock() {
    let log = Log::default();
    let mut backtest = Backtest::new(&TOPOLOGY);
    backtest
        .node::<SinkNode, _>(Sink(Arc::clone(&log)))
        .and_then(|backtest| backtest.node::<DoublerNode, _>(Doubler(Arc::clone(&log))))
        .and_then(|backtest| backtest.capture("doubled"))
        .expect("adds sink and doubler");
    let report = backtest
        .run([
            recorded("numbers", 1, 50, 5),
            recorded("numbers", 2, 50, 5),
            recorded("numbers", 3, 180, 5),
        ])
        .expect("runs");
    assert_eq!(
        lines(&log),
        [
            "doubler 1 from feed at 50",
            "sink 2 at 50 stamped 50",
            "doubler 2 from feed at 50",
            "sink 4 at 50 stamped 50",
            "sink tick at 100",
            "doubler 3 from feed at 180",
            "sink 6 at 180 stamped 180",
        ]
    );
    let doubled: Vec<(u64, i64, u64, u32, u64)> = report
        .captured
        .iter()
        .map(|(at, raw)| {
            let envelope = raw.decode::<Number>().expect("a number");
            let at = (at - T0) / MS;
            (
                at,
                envelope.message.value,
                envelope.seq,
                envelope.epoch,
                (envelope.timestamp_ns - T0) / MS,
            )
        })
        .collect();
    assert_eq!(
        doubled,
        [(50, 2, 0, 1, 50), (50, 4, 1, 1, 50), (180, 6, 2, 1, 180)]
    );
    assert_eq!(report.captured[0].1.origin, "doubler");
    let doubler = report.node("doubler").expect("doubler's report");
    assert_eq!(doubler.published, 3);
    assert_eq!(report.node("sink").expect("sink").stats().received, 3);
    assert_eq!(report.published, 3);
}

#[test]
fn two_runs_on_the_same_recording_are_identical() {
    let run = || {
        let log = Log::default();
        let mut backtest = Backtest::new(&TOPOLOGY);
        backtest
            .node::<DoublerNode, _>(Doubler(Arc::clone(&log)))
            .and_then(|backtest| backtest.node::<SinkNode, _>(Sink(Arc::clone(&log))))
            .and_then(|backtest| backtest.capture(""))
            .expect("adds nodes");
        let recording = (0..200).map(|i| recorded("numbers", i, (i as u64 * 37) % 1000, 1));
        let report = backtest.run(recording).expect("runs");
        (lines(&log), report)
    };
    let (first_log, first) = run();
    let (second_log, second) = run();
    assert!(first.published == 200 && first_log.len() > 400);
    assert_eq!(first_log, second_log);
    assert_eq!(first, second);
}

#[test]
fn a_recorded_topic_that_a_node_under_test_publishes_is_skipped() {
    let log = Log::default();
    let mut backtest = Backtest::new(&TOPOLOGY);
    backtest
        .node::<EchoNode, _>(Echo)
        .and_then(|backtest| backtest.node::<DoublerNode, _>(Doubler(Arc::clone(&log))))
        .expect("adds echo and doubler");
    let report = backtest
        .run([
            recorded("numbers", 1, 0, 0),
            recorded("numbers", 2, 300, 0),
            recorded("numbers", 3, 600, 0),
        ])
        .expect("runs");
    assert_eq!(
        lines(&log),
        [
            "doubler 1000 from echo at 250",
            "doubler 1000 from echo at 500"
        ]
    );
    assert_eq!((report.recorded, report.skipped), (3, 3));
}

#[test]
fn a_recorded_envelope_of_another_type_is_counted_not_delivered() {
    let log = Log::default();
    let mut backtest = Backtest::new(&TOPOLOGY);
    backtest
        .node::<WordsNode, _>(Words(Arc::clone(&log)))
        .expect("adds words");
    let report = backtest
        .run([recorded("numbers", 1, 0, 0), recorded("numbers", 2, 10, 0)])
        .expect("runs");
    assert!(lines(&log).is_empty());
    let stats = report.node("words").expect("words").stats();
    assert_eq!((stats.received, stats.type_mismatches), (0, 2));
}

#[test]
fn outputs_reach_only_subscribers_on_the_same_proxy() {
    let log = Log::default();
    let mut backtest = Backtest::new(&TOPOLOGY);
    backtest
        .node::<DoublerNode, _>(Doubler(Arc::clone(&log)))
        .and_then(|backtest| backtest.node::<ElsewhereNode, _>(Elsewhere(Arc::clone(&log))))
        .expect("adds doubler and elsewhere");
    let report = backtest.run([recorded("numbers", 1, 0, 0)]).expect("runs");
    assert_eq!(lines(&log), ["doubler 1 from feed at 0"]);
    assert_eq!(
        report
            .node("elsewhere")
            .expect("elsewhere")
            .stats()
            .received,
        0
    );
}

#[test]
fn lag_is_measured_on_the_virtual_clock() {
    // `sink` drops envelopes more than 10 ms old; the recording is years old by the wall clock.
    let log = Log::default();
    let mut backtest = Backtest::new(&TOPOLOGY);
    backtest
        .node::<SinkNode, _>(Sink(Arc::clone(&log)))
        .expect("adds sink");
    let report = backtest
        .run([
            recorded("doubled", 1, 100, 5),
            recorded("doubled", 2, 150, 40),
        ])
        .expect("runs");
    assert_eq!(lines(&log), ["sink 1 at 100 stamped 95"]);
    let stats = report.node("sink").expect("sink").stats();
    assert_eq!((stats.received, stats.stale_dropped), (1, 1));
}

#[test]
fn nodes_outside_the_topology_or_added_twice_are_refused() {
    static OTHER: TopologyInfo = TopologyInfo::new("other", &[], &[], &[], &[SINK]);
    let mut backtest = Backtest::new(&OTHER);
    let error = backtest
        .node::<EchoNode, _>(Echo)
        .map(drop)
        .expect_err("echo is not in `other`");
    assert!(matches!(error, Error::Backtest { .. }), "{error}");
    assert!(error.to_string().contains("no node `echo`"), "{error}");
    backtest
        .node::<SinkNode, _>(Sink(Log::default()))
        .expect("sink is");
    let error = backtest
        .node::<SinkNode, _>(Sink(Log::default()))
        .map(drop)
        .expect_err("sink twice");
    assert!(error.to_string().contains("already"), "{error}");
}

#[test]
fn a_failing_handler_stops_the_run_with_its_error() {
    struct Failing;
    struct FailingNode;
    impl Hooks<()> for Failing {
        fn on_start(&mut self, _: &mut ()) -> HandlerResult {
            Err("no luck".into())
        }
    }
    impl NodeSpec<Failing> for FailingNode {
        const INFO: &'static NodeInfo = &SINK;
        type Outputs = ();
        fn outputs(_: &mut Ports) -> crate::Result<()> {
            Ok(())
        }
    }
    let mut backtest = Backtest::new(&TOPOLOGY);
    backtest.node::<FailingNode, _>(Failing).expect("adds");
    let error = backtest.run([]).expect_err("fails");
    assert_eq!(error.to_string(), "node `sink` failed: no luck");
}
