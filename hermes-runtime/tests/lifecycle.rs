//! Starting and stopping: proxies and runtimes join within a second, failures are reported,
//! and SIGTERM stops a real process gracefully.

mod common;

use std::io::Write;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use common::{
    ChildLines, DEADLINE, Tick, assert_child, child_test, eventually, set_by_parent, unique,
};
use hermes_runtime::{
    Context, Error, Node, NodeFailure, Proxy, ProxyConfig, Publisher, Receiver, Runtime,
};

const JOIN_LIMIT: Duration = Duration::from_secs(1);

#[test]
fn a_proxy_stops_and_joins_within_a_second() {
    let context = Context::new();
    let proxy = Proxy::spawn(
        &context,
        ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
    )
    .unwrap();
    // Traffic in flight while it stops.
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .connect(proxy.frontend())
        .unwrap();
    let _receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .connect(proxy.backend())
        .unwrap();
    for n in 0..1000 {
        publisher.send(&Tick::new(n)).unwrap();
    }
    let started = Instant::now();
    proxy.stop().unwrap();
    assert!(
        started.elapsed() < JOIN_LIMIT,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_bind_conflict_is_reported_by_spawn() {
    let context = Context::new();
    let first = Proxy::spawn(
        &context,
        ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
    )
    .unwrap();
    let taken = first.frontend().to_owned();
    let err = Proxy::spawn(
        &context,
        ProxyConfig::new(taken.clone(), "tcp://127.0.0.1:0"),
    )
    .unwrap_err();
    assert!(err.to_string().contains(&taken), "{err}");
}

/// A runtime with a proxy, a source ticking every 200 µs and a sink, plus the sink's count of
/// envelopes so far, so a test can wait until traffic flows.
fn busy_runtime() -> (Runtime, Arc<AtomicU64>) {
    let mut runtime = Runtime::new().unwrap();
    let front = format!("inproc://{}", unique("front"));
    let back = format!("inproc://{}", unique("back"));
    let proxy = runtime
        .spawn_proxy("market", ProxyConfig::new(front, back))
        .unwrap();
    let context = runtime.context().clone();
    let inbox = Receiver::<Tick>::builder(&context)
        .topic("t")
        .connect(&proxy.backend)
        .unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&received);
    runtime
        .spawn_node(Node::new("sink", ()).subscribe(inbox, move |_, _| {
            count.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }))
        .unwrap();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .connect(&proxy.frontend)
        .unwrap();
    let mut n = 0;
    runtime
        .spawn_node(
            Node::new("source", ()).on_tick(Duration::from_micros(200), move |_| {
                n += 1;
                publisher.send(&Tick::new(n)).map_err(Into::into)
            }),
        )
        .unwrap();
    (runtime, received)
}

#[test]
fn a_runtime_stops_every_thread_within_a_second() {
    let (runtime, received) = busy_runtime();
    let shutdown = runtime.shutdown();
    let stopper = std::thread::spawn(move || {
        // Traffic in flight: the sink has seen envelopes and the source keeps sending.
        eventually("traffic through the runtime", || {
            received.load(Ordering::Relaxed) >= 100
        });
        let started = Instant::now();
        shutdown.trigger();
        started
    });
    let outcome = runtime.wait_timeout(DEADLINE);
    let stop_requested = stopper.join().unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(
        stop_requested.elapsed() < JOIN_LIMIT,
        "took {:?}",
        stop_requested.elapsed()
    );
}

#[test]
fn dropping_a_runtime_stops_and_joins_its_nodes() {
    let (runtime, received) = busy_runtime();
    eventually("traffic through the runtime", || {
        received.load(Ordering::Relaxed) >= 100
    });
    let dropped = Instant::now();
    drop(runtime);
    assert!(
        dropped.elapsed() < JOIN_LIMIT,
        "took {:?}",
        dropped.elapsed()
    );
    // Joined: nothing receives any more.
    let after = received.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(received.load(Ordering::Relaxed), after, "a node still runs");
}

#[test]
fn a_failing_node_is_reported_and_stops_the_runtime() {
    let (mut runtime, _) = busy_runtime();
    runtime
        .spawn_node(
            Node::new("broken", ()).on_tick(Duration::from_millis(20), |_| {
                Err("exchange feed went away".into())
            }),
        )
        .unwrap();
    let started = Instant::now();
    let failures = runtime.wait_timeout(DEADLINE).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(failures.len(), 1, "{failures:?}");
    let message = failures[0].to_string();
    assert!(
        matches!(failures[0], NodeFailure::Failed { .. }),
        "{message}"
    );
    assert!(
        message.contains("broken") && message.contains("exchange feed went away"),
        "{message}"
    );
}

#[test]
fn a_panicking_node_is_reported_not_hidden() {
    let (mut runtime, _) = busy_runtime();
    runtime
        .spawn_node(
            Node::new("buggy", ())
                .on_tick(Duration::from_millis(20), |_| panic!("index out of range")),
        )
        .unwrap();
    let failures = runtime.wait_timeout(DEADLINE).unwrap_err();
    assert!(
        matches!(&failures[..], [NodeFailure::Panicked { node, message }] if node == "buggy" && message.contains("index out of range")),
        "{failures:?}"
    );
}

/// The endpoint of the test's receiver, for the child's exporting publisher.
const EXPORT_TO: &str = "HERMES_LIFECYCLE_EXPORT_TO";
/// Envelopes the child's exporter sends in its stop hook, right before its publisher closes:
/// they are certainly still queued then, so only linger gets them out.
const LAST_BURST: u64 = 2_000;

/// Not a test on its own: the process `sigterm_stops_a_runtime_process_gracefully` starts and
/// signals (the test binary runs itself with this test selected).
///
/// A busy runtime plus an exporter node publishing over tcp to the parent's receiver with
/// linger configured; it prints how many envelopes `send` accepted once it has stopped.
#[test]
#[ignore = "runs as the child process of sigterm_stops_a_runtime_process_gracefully"]
fn runtime_process_child() {
    assert_child();
    let endpoint = set_by_parent(EXPORT_TO);
    let (mut runtime, _) = busy_runtime();
    let mut exporter = Publisher::<Tick>::builder(runtime.context())
        .topic("t")
        .hwm(0) // queue everything: this test is about linger, not the high-water mark
        .linger(Duration::from_secs(5))
        .connect(&endpoint)
        .unwrap();

    // Probe until the parent's receiver has one and says "go" (PUB/SUB drops what is sent
    // before the subscription arrives, and those would not count as accepted).
    let (go, went) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let _ = go.send(());
    });
    let deadline = Instant::now() + DEADLINE;
    while went.recv_timeout(Duration::from_millis(5)).is_err() {
        assert!(Instant::now() < deadline, "no `go` from the parent");
        exporter.send_to("probe", &Tick::new(0)).unwrap();
    }

    let mut n = 0;
    let node = Node::new("exporter", (exporter, 0u64))
        .on_tick(Duration::from_micros(200), move |(exporter, sent)| {
            n += 1;
            exporter.send(&Tick::new(n))?;
            *sent += 1;
            Ok(())
        })
        .on_stop(|(exporter, sent)| {
            for _ in 0..LAST_BURST {
                exporter.send(&Tick::new(0))?;
                *sent += 1;
            }
            println!("child sent {sent}");
            Ok(())
        });
    runtime.spawn_node(node).unwrap();
    println!("child ready");
    let outcome = runtime.run_until_signal_or(Some(DEADLINE));
    println!(
        "child stopped: {}",
        if outcome.is_ok() { "clean" } else { "failed" }
    );
    // Returning drops the last socket and the context: libzmq flushes within the linger.
}

/// A child process, killed if the test ends before it does.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigterm_stops_a_runtime_process_gracefully() {
    let context = Context::new();
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topics(["t", "probe"])
        .hwm(0)
        .bind("tcp://127.0.0.1:0")
        .unwrap();
    let endpoint = receiver.endpoints()[0].clone();
    let mut child = ChildGuard(
        child_test("runtime_process_child")
            .env(EXPORT_TO, &endpoint)
            .spawn()
            .unwrap(),
    );
    let lines = ChildLines::of(child.0.stdout.take().unwrap());
    let deadline = Instant::now() + DEADLINE;
    loop {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(envelope) if envelope.topic == "probe" => break,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "no probe from the child"),
            Err(err) => panic!("{err}"),
        }
    }
    let stdin = child.0.stdin.as_mut().unwrap();
    writeln!(stdin, "go").unwrap();
    stdin.flush().unwrap();
    lines.after("child ready", deadline);

    // Count on a thread of its own, so the child never waits on this test to drain its queue.
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = {
        let (received, stop) = (Arc::clone(&received), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match receiver.recv_timeout(Duration::from_millis(20)) {
                    Ok(envelope) if envelope.topic == "t" => {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) | Err(Error::Timeout) => {}
                    Err(err) => panic!("{err}"),
                }
            }
            receiver.stats()
        })
    };
    // Traffic in flight: envelopes arrive and the exporter keeps sending.
    eventually("traffic from the child", || {
        received.load(Ordering::Relaxed) >= 200
    });

    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < DEADLINE,
            "the process did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < JOIN_LIMIT, "every thread joined only after {took:?}");
    let deadline = Instant::now() + DEADLINE;
    let sent: u64 = lines
        .after("child sent ", deadline)
        .trim()
        .parse()
        .expect("a count");
    assert_eq!(
        lines.after("child stopped: ", deadline).trim(),
        "clean",
        "every node and proxy stopped in time"
    );

    // Everything `send` accepted, including the last burst sent as the exporter closed.
    let deadline = Instant::now() + DEADLINE;
    while received.load(Ordering::Relaxed) < sent && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let stats = counter.join().unwrap();
    assert!(sent > LAST_BURST, "the exporter sent before the signal too");
    assert_eq!(received.load(Ordering::Relaxed), sent, "{stats:?}");
    assert_eq!(stats.lost, 0, "{stats:?}");
}
