//! Starting and stopping: proxies and runtimes join within a second, failures are reported,
//! and SIGTERM stops a real process gracefully.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{DEADLINE, Tick, unique};
use hermes_runtime::{
    Context, Node, NodeFailure, Proxy, ProxyConfig, Publisher, Receiver, Runtime,
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

fn busy_runtime() -> Runtime {
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
    runtime
        .spawn_node(
            Node::new("sink", 0u64).subscribe(inbox, |count: &mut u64, _| {
                *count += 1;
                Ok(())
            }),
        )
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
    runtime
}

#[test]
fn a_runtime_stops_every_thread_within_a_second() {
    let runtime = busy_runtime();
    let shutdown = runtime.shutdown();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200)); // let traffic flow first
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
fn a_failing_node_is_reported_and_stops_the_runtime() {
    let mut runtime = busy_runtime();
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
    let mut runtime = busy_runtime();
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

const CHILD: &str = "HERMES_LIFECYCLE_CHILD";

/// Not a test on its own: the process `sigterm_stops_a_runtime_process_gracefully` starts and
/// signals (the test binary runs itself with this test selected).
#[test]
#[ignore = "runs as the child process of sigterm_stops_a_runtime_process_gracefully"]
fn runtime_process_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "only run as a child process"
    );
    let runtime = busy_runtime();
    println!("child ready");
    let outcome = runtime.run_until_signal_or(Some(DEADLINE));
    println!(
        "child stopped: {}",
        if outcome.is_ok() { "clean" } else { "failed" }
    );
}

#[test]
fn sigterm_stops_a_runtime_process_gracefully() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "runtime_process_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    assert!(
        lines.any(|line| line.ends_with("child ready")),
        "the child never started"
    );
    std::thread::sleep(Duration::from_millis(200)); // traffic in flight
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(5) {
            child.kill().unwrap();
            panic!("the process did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(status.success(), "{status:?}");
    assert!(
        lines.any(|line| line.ends_with("child stopped: clean")),
        "no clean stop reported"
    );
}
