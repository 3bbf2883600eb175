//! Test support: message types and bounded waits. No mocks: real sockets only.
#![allow(dead_code, reason = "each test binary uses part of the support module")]

use std::io::{BufRead, BufReader};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hermes_runtime::{
    Context, Envelope, Error, HermesMessage, Message, Publisher, Receiver, SlowSubscriber,
    SlowSubscriberAction,
};

/// The bound on every wait in these tests.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A small message with every codec.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "test.Tick")]
pub struct Tick {
    #[prost(uint64, tag = "1")]
    pub n: u64,
    #[prost(string, tag = "2")]
    pub note: String,
}

impl Tick {
    pub fn new(n: u64) -> Tick {
        Tick {
            n,
            note: format!("tick {n}"),
        }
    }
}

/// Another shape, so its fingerprint differs from `Tick`'s.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "test.Other")]
pub struct Other {
    #[prost(double, tag = "1")]
    pub value: f64,
}

/// A name no other test in this process uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// An `ipc://` endpoint in a fresh temporary directory (kept alive by the returned guard).
pub fn ipc_endpoint() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let endpoint = format!("ipc://{}", dir.path().join("socket").display());
    (endpoint, dir)
}

/// The endpoints each transport test binds: tcp on an ephemeral loopback port, ipc, inproc.
pub fn transports() -> Vec<(&'static str, String, Option<tempfile::TempDir>)> {
    let (ipc, dir) = ipc_endpoint();
    vec![
        ("tcp", "tcp://127.0.0.1:0".to_owned(), None),
        ("ipc", ipc, Some(dir)),
        ("inproc", format!("inproc://{}", unique("transport")), None),
    ]
}

/// Sends `probe` on `topic` until `receiver` gets an envelope (PUB/SUB drops what is sent
/// before the subscription arrives), then drains what is left of the probes; returns the last.
pub fn await_subscription<P: Message, R: Message>(
    publisher: &mut Publisher<P>,
    receiver: &mut Receiver<R>,
    topic: &str,
    probe: &P,
) -> Envelope<R> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        publisher.send_to(topic, probe).expect("send probe");
        match receiver.recv_timeout(Duration::from_millis(20)) {
            Ok(mut last) => {
                while let Ok(envelope) = receiver.recv_timeout(Duration::from_millis(50)) {
                    last = envelope;
                }
                return last;
            }
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "subscription never arrived"),
            Err(err) => panic!("receive failed: {err}"),
        }
    }
}

/// Sends `marker` (flushing any batch) until one arrives, bounded by [`DEADLINE`]: after a
/// stall, a marker that arrives closes any gap at the end of what was sent before it.
pub fn send_until_received<M: Message>(
    publisher: &mut Publisher<M>,
    receiver: &mut Receiver<M>,
    marker: &M,
) -> Envelope<M> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        publisher.send(marker).expect("send marker");
        publisher.flush().expect("flush marker");
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(envelope) => return envelope,
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "no marker arrived"),
            Err(err) => panic!("receive failed: {err}"),
        }
    }
}

/// Waits for a condition, polling it, up to [`DEADLINE`].
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The slow-subscriber limit of [`stale_then_fresh`].
pub const LIMIT: Duration = Duration::from_millis(100);

/// A receiver with `action`, ten envelopes that are already stale when read, then a fresh one.
pub fn stale_then_fresh(
    action: SlowSubscriberAction,
) -> (Receiver<Tick>, Vec<Result<u64, String>>) {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("slow"));
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .slow_subscriber(SlowSubscriber::new(LIMIT, action))
        .bind(&endpoint)
        .unwrap();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .connect(&endpoint)
        .unwrap();
    // Handshake without reading stale data: the probe is read at once.
    let deadline = std::time::Instant::now() + DEADLINE;
    while receiver.recv_timeout(Duration::from_millis(10)).is_err() {
        publisher.send(&Tick::new(0)).unwrap();
        assert!(std::time::Instant::now() < deadline);
    }
    while receiver.recv_timeout(Duration::from_millis(20)).is_ok() {}
    for n in 1..=10 {
        publisher.send(&Tick::new(n)).unwrap();
    }
    // The subscriber stalls past its limit, so all ten are stale when it reads them.
    std::thread::sleep(LIMIT * 2);
    publisher.send(&Tick::new(99)).unwrap();
    let mut outcomes = Vec::new();
    loop {
        match receiver.recv_timeout(Duration::from_millis(200)) {
            Ok(envelope) => outcomes.push(Ok(envelope.message.n)),
            Err(Error::Timeout) => break,
            Err(err) => {
                outcomes.push(Err(err.to_string()));
                break;
            }
        }
    }
    (receiver, outcomes)
}

/// Set in the environment of a test binary started by [`child_test`].
const CHILD: &str = "HERMES_TEST_CHILD";

/// This test binary, running only its ignored test `name`, as a child process with piped
/// standard input and output: the tests that need a process of their own (signals, exits,
/// memory) start one this way.
pub fn child_test(name: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// Panics unless this process was started by [`child_test`]: the child tests are not tests
/// on their own.
pub fn assert_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "only run as a child process"
    );
}

/// The environment variable `name`, which the parent test sets.
pub fn set_by_parent(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the parent test"))
}

/// A child process's standard output, read on a thread of its own so that every wait for a
/// line has a deadline.
pub struct ChildLines(mpsc::Receiver<String>);

impl ChildLines {
    /// Starts reading `stdout`.
    pub fn of(stdout: ChildStdout) -> ChildLines {
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        ChildLines(lines)
    }

    /// Skips lines until one contains `marker` and returns what follows it. libtest's own
    /// lines are skipped too, also its `test NAME ... ` in front of the child's first line.
    pub fn after(&self, marker: &str, deadline: Instant) -> String {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(line) => {
                    if let Some((_, rest)) = line.split_once(marker) {
                        return rest.to_owned();
                    }
                }
                Err(_) => panic!("the child never said `{marker}`"),
            }
        }
    }
}

/// The frame sets a real publisher of `M` sends for each of `messages` on topic `t` from
/// `origin` in `codec`, caught by a raw SUB socket: valid envelopes to send again, spoil or cut
/// up, without a second encoder.
pub fn frames_of<M: Message>(
    context: &Context,
    origin: &str,
    codec: hermes_runtime::Codec,
    messages: &[M],
) -> Vec<Vec<Vec<u8>>> {
    let endpoint = format!("inproc://{}", unique("frames"));
    let catcher = hermes_runtime::__private::zmq_context(context)
        .socket(zmq::SUB)
        .unwrap();
    catcher.set_subscribe(b"").unwrap();
    catcher.bind(&endpoint).unwrap();
    let mut publisher = Publisher::<M>::builder(context)
        .topic("t")
        .origin(origin)
        .codec(codec)
        .connect(&endpoint)
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    messages
        .iter()
        .map(|message| {
            loop {
                publisher.send(message).unwrap();
                if catcher.poll(zmq::POLLIN, 20).unwrap() > 0 {
                    break catcher.recv_multipart(0).unwrap();
                }
                assert!(
                    Instant::now() < deadline,
                    "the catcher never got an envelope"
                );
            }
        })
        .collect()
}
