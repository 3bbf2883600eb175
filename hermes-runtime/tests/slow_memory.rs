//! A slow subscriber under each policy (`warn`, `drop`, `disconnect`), in a process of its
//! own, while a publisher floods it with 16 KiB envelopes: its resident memory stays within
//! its queue's high-water mark × message size, and each policy's counter moves.
//!
//! Under `warn` the high-water mark is what holds memory (with unlimited queues this test
//! fails by hundreds of MiB); `drop` drains stale envelopes as fast as they come and
//! `disconnect` closes the socket, so those two stay bounded even without one.

mod common;

use std::process::{Child, ChildStdin};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{ChildLines, assert_child, child_test, set_by_parent};
use hermes_runtime::{
    Codec, Context, Error, Payload, Publisher, Receiver, SlowSubscriber, SlowSubscriberAction,
};

const ENDPOINT: &str = "HERMES_SLOW_MEMORY_ENDPOINT";
const ACTION: &str = "HERMES_SLOW_MEMORY_ACTION";

/// The queue of every socket here, in envelopes.
const HWM: u32 = 1000;
/// Large enough that HWM × size stands out from allocator noise.
const PAYLOAD: usize = 16 * 1024;
/// How long the publisher floods.
const FLOOD: Duration = Duration::from_secs(2);
/// The bound on every wait for the child.
const DEADLINE: Duration = Duration::from_secs(20);

fn action_named(name: &str) -> SlowSubscriberAction {
    match name {
        "warn" => SlowSubscriberAction::Warn,
        "drop" => SlowSubscriberAction::Drop,
        "disconnect" => SlowSubscriberAction::Disconnect,
        other => panic!("unknown action `{other}`"),
    }
}

/// Not a test on its own: the slow subscriber `slow_subscriber_memory` starts (the test binary
/// runs itself with this test selected). Reads one envelope every 2 ms until its standard
/// input closes, then prints its counters.
#[test]
#[ignore = "runs as the child process of the slow-subscriber memory tests"]
fn slow_subscriber_child() {
    assert_child();
    let endpoint = set_by_parent(ENDPOINT);
    let action = action_named(&set_by_parent(ACTION));
    let context = Context::new();
    let mut receiver = Receiver::<Payload>::builder(&context)
        .topic("flood")
        .codec(Codec::Protobuf)
        .hwm(HWM)
        .slow_subscriber(SlowSubscriber::new(Duration::from_millis(1), action))
        .connect(&endpoint)
        .expect("receiver connects");
    let (stop, stopped) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let _ = stop.send(());
    });
    println!("ready");
    let mut disconnected = false;
    while stopped.try_recv().is_err() {
        if disconnected {
            // Nothing more to read: wait for the parent to say stop.
            let _ = stopped.recv_timeout(DEADLINE);
            break;
        }
        match receiver.recv_timeout(Duration::from_millis(2)) {
            Ok(_) | Err(Error::Timeout) => {}
            Err(Error::Disconnected) => {
                disconnected = true;
                println!("disconnected");
            }
            Err(err) => panic!("receive failed: {err}"),
        }
        // The slow part of a slow subscriber: its work on each envelope.
        std::thread::sleep(Duration::from_millis(2));
    }
    let stats = receiver.stats();
    println!(
        "stats received {} lagging {} stale_dropped {} disconnected {}",
        stats.received, stats.lagging, stats.stale_dropped, stats.disconnected
    );
}

/// The child's resident set, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS")
}

/// The slow subscriber process, killed if the test fails before it exits.
struct Subscriber {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: ChildLines,
}

impl Subscriber {
    fn start(endpoint: &str, action: &str) -> Subscriber {
        let mut child = child_test("slow_subscriber_child")
            .env(ENDPOINT, endpoint)
            .env(ACTION, action)
            .spawn()
            .expect("child starts");
        let lines = ChildLines::of(child.stdout.take().expect("stdout"));
        let stdin = child.stdin.take();
        Subscriber {
            child,
            stdin,
            lines,
        }
    }

    /// What follows `marker` in the next line holding it, waiting at most [`DEADLINE`].
    fn expect(&self, marker: &str) -> String {
        self.lines.after(marker, Instant::now() + DEADLINE)
    }

    /// Closes its standard input and returns its counters line.
    fn stop(&mut self) -> String {
        drop(self.stdin.take());
        let line = self.expect("stats");
        let deadline = Instant::now() + DEADLINE;
        while self.child.try_wait().expect("wait").is_none() {
            assert!(
                Instant::now() < deadline,
                "the slow subscriber did not exit"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        line
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number after `label` in the child's counters line.
fn counter(line: &str, label: &str) -> String {
    let mut words = line.split_whitespace();
    words
        .find(|word| *word == label)
        .and_then(|_| words.next())
        .unwrap_or_else(|| panic!("no `{label}` in `{line}`"))
        .to_owned()
}

/// Floods a slow subscriber with `action` and returns its counters line, asserting its
/// memory growth stays within HWM × message size (+10 % and 2 MiB, as `hermes-bench`'s stall
/// check allows for libzmq's bookkeeping, allocator rounding and I/O buffers).
fn flood_a_slow_subscriber(action: &str) -> String {
    let context = Context::new();
    let mut publisher = Publisher::<Payload>::builder(&context)
        .topic("flood")
        .origin("flood")
        .hwm(HWM)
        .linger(Duration::ZERO)
        .bind("tcp://127.0.0.1:0")
        .expect("publisher binds");
    let endpoint = publisher.endpoints()[0].clone();
    let mut subscriber = Subscriber::start(&endpoint, action);
    subscriber.expect("ready");
    let pid = subscriber.child.id();
    let baseline = rss_kib(pid);

    let payload = Payload::new(Codec::Protobuf, 0x5107_5107, vec![0x5a; PAYLOAD]);
    let started = Instant::now();
    let mut peak = baseline;
    let mut sent = 0u64;
    while started.elapsed() < FLOOD {
        publisher.send(&payload).expect("send");
        sent += 1;
        if sent.is_multiple_of(256) {
            peak = peak.max(rss_kib(pid));
        }
    }
    peak = peak.max(rss_kib(pid));
    let line = subscriber.stop();

    let bound_kib = u64::from(HWM) * (PAYLOAD as u64) / 1024;
    let limit_kib = bound_kib + bound_kib / 10 + 2048;
    let grown = peak.saturating_sub(baseline);
    assert!(
        grown <= limit_kib,
        "`{action}`: the slow subscriber grew by {grown} KiB, more than its queue allows \
         ({limit_kib} KiB), while {sent} envelopes ({} MiB) were sent; {line}",
        sent * PAYLOAD as u64 / (1024 * 1024)
    );
    // The flood was far larger than the queue, so the bound means something.
    assert!(
        sent * PAYLOAD as u64 / 1024 > 4 * limit_kib,
        "only {sent} envelopes sent: {line}"
    );
    line
}

#[test]
fn warn_keeps_a_slow_subscribers_memory_bounded_and_counts_lagging_envelopes() {
    let line = flood_a_slow_subscriber("warn");
    assert_ne!(counter(&line, "lagging"), "0", "{line}");
    assert_eq!(counter(&line, "stale_dropped"), "0", "{line}");
}

#[test]
fn drop_keeps_a_slow_subscribers_memory_bounded_and_counts_what_it_discards() {
    let line = flood_a_slow_subscriber("drop");
    assert_ne!(counter(&line, "stale_dropped"), "0", "{line}");
}

#[test]
fn disconnect_keeps_a_slow_subscribers_memory_bounded_and_closes_it() {
    let line = flood_a_slow_subscriber("disconnect");
    assert_eq!(counter(&line, "disconnected"), "true", "{line}");
}
