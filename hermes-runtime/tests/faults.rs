//! Faults with real processes: a proxy killed and restarted, a publisher exiting with
//! envelopes still queued.

mod common;

use std::io::Write;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{ChildLines, DEADLINE, Tick, assert_child, child_test, set_by_parent};
use hermes_runtime::{Context, Error, Proxy, ProxyConfig, Publisher, Receiver};

/// This test binary, run again as a child process in one of the modes below.
struct ChildProcess {
    child: Child,
    lines: ChildLines,
}

impl ChildProcess {
    fn start(test: &str, env: &[(&str, &str)]) -> ChildProcess {
        let mut child = child_test(test).envs(env.iter().copied()).spawn().unwrap();
        let lines = ChildLines::of(child.stdout.take().unwrap());
        ChildProcess { child, lines }
    }

    /// What follows `marker` in the child's first line holding it.
    fn wait_for(&self, marker: &str) -> String {
        self.lines.after(marker, Instant::now() + DEADLINE)
    }

    fn say(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn kill_hard(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the child did not exit");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "runs as a child process of the fault tests"]
fn proxy_process() {
    assert_child();
    let context = Context::new();
    let config = ProxyConfig::new(set_by_parent("FRONTEND"), set_by_parent("BACKEND"));
    let proxy = Proxy::spawn(&context, config).unwrap();
    println!("ready {} {}", proxy.frontend(), proxy.backend());
    // Until the parent kills it; never longer than a minute, so nothing is orphaned.
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_restarted_proxy_is_reconnected_and_the_outage_is_counted_as_loss() {
    // The first proxy picks free ports; its replacement binds the same ones.
    let mut first = ChildProcess::start(
        "proxy_process",
        &[
            ("FRONTEND", "tcp://127.0.0.1:0"),
            ("BACKEND", "tcp://127.0.0.1:0"),
        ],
    );
    let ready = first.wait_for("ready ");
    let (frontend, backend) = ready
        .split_once(' ')
        .map(|(f, b)| (f.to_owned(), b.to_owned()))
        .expect("two endpoints");

    let context = Context::new();
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .connect(&backend)
        .unwrap();
    // While the proxy is away, libzmq queues for it up to the high-water mark (10 here) and drops
    // the rest: that is the loss the receiver must report.
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .origin("feed")
        .hwm(10)
        .connect(&frontend)
        .unwrap();
    let first_seq =
        common::await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0)).seq;
    let mut received = 1u64;

    first.kill_hard();
    // Keep publishing through the outage and the restart.
    for n in 0..50 {
        publisher.send(&Tick::new(n)).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let restarted_at = Instant::now();
    let second = ChildProcess::start(
        "proxy_process",
        &[
            ("FRONTEND", frontend.as_str()),
            ("BACKEND", backend.as_str()),
        ],
    );
    second.wait_for(&format!("ready {frontend} {backend}"));
    loop {
        publisher.send(&Tick::new(1)).unwrap();
        match receiver.recv_timeout(Duration::from_millis(10)) {
            Ok(_) => {
                received += 1;
                break;
            }
            Err(Error::Timeout) => assert!(restarted_at.elapsed() < DEADLINE, "flow never resumed"),
            Err(err) => panic!("{err}"),
        }
    }
    assert!(
        restarted_at.elapsed() < Duration::from_secs(2),
        "resumed after {:?}",
        restarted_at.elapsed()
    );
    // Count everything still on its way, up to a marker sent after it.
    let marker = loop {
        publisher.send(&Tick::new(999)).unwrap();
        match receiver.recv_timeout(Duration::from_millis(20)) {
            Ok(envelope) => {
                received += 1;
                if envelope.message.n == 999 {
                    break envelope;
                }
            }
            Err(Error::Timeout) => assert!(restarted_at.elapsed() < DEADLINE, "no marker"),
            Err(err) => panic!("{err}"),
        }
    };
    let stats = receiver.stats();
    assert!(stats.lost > 0, "the outage must show as loss: {stats:?}");
    assert_eq!(
        stats.lost,
        (marker.seq - first_seq + 1) - received,
        "{stats:?}"
    );
    assert_eq!(stats.publisher_restarts, 0, "the publisher did not restart");
}

#[test]
#[ignore = "runs as a child process of the fault tests"]
fn publisher_process_exiting_after_send() {
    assert_child();
    let context = Context::new();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .hwm(0) // queue everything: this test is about linger, not the high-water mark
        .linger(Duration::from_secs(5))
        .connect(&set_by_parent("ENDPOINT"))
        .unwrap();
    let count: u64 = set_by_parent("COUNT").parse().unwrap();
    let stdin = std::io::stdin();
    let (go, went) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = stdin.read_line(&mut line);
        let _ = go.send(());
    });
    // Probe until the parent has seen one and says "go".
    while went.try_recv().is_err() {
        publisher.send(&Tick::new(u64::MAX)).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    for n in 0..count {
        publisher.send(&Tick::new(n)).unwrap();
    }
    println!("sent");
    // Returning drops the publisher and its context; linger lets the queue drain first.
}

#[test]
fn envelopes_accepted_by_send_are_flushed_when_a_process_exits() {
    let context = Context::new();
    // A slow link: the receiver reads only after the publisher has exited.
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .hwm(0)
        .bind("tcp://127.0.0.1:0")
        .unwrap();
    let endpoint = receiver.endpoints()[0].clone();
    let count = 20_000u64;
    let mut child = ChildProcess::start(
        "publisher_process_exiting_after_send",
        &[
            ("ENDPOINT", endpoint.as_str()),
            ("COUNT", &count.to_string()),
        ],
    );
    let deadline = Instant::now() + DEADLINE;
    loop {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(envelope) if envelope.message.n == u64::MAX => break,
            Ok(other) => panic!("unexpected {:?}", other.message),
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "no probe"),
            Err(err) => panic!("{err}"),
        }
    }
    child.say("go");
    child.wait_for("sent");
    let status = child.wait_exit();
    assert!(status.success(), "{status:?}");
    let mut next = 0;
    while next < count {
        match receiver.recv_timeout(DEADLINE) {
            Ok(envelope) if envelope.message.n == u64::MAX => {}
            Ok(envelope) => {
                assert_eq!(envelope.message.n, next);
                next += 1;
            }
            Err(err) => panic!("after {next} of {count}: {err}"),
        }
    }
    assert_eq!(receiver.stats().lost, 0);
}
