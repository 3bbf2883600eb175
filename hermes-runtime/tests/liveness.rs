//! Liveness: with heartbeats on, a proxy notices a subscriber that stopped answering (a frozen
//! or unplugged host: its process stopped with SIGSTOP, its connection still open) within
//! seconds and drops its subscription; with them off, it does not.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{DEADLINE, Tick};
use hermes_runtime::{Context, Liveness, Metrics, Proxy, ProxyConfig, Receiver};

/// The environment variable that makes this test binary a subscriber child.
const CHILD: &str = "HERMES_LIVENESS_CHILD_ENDPOINT";

/// Run by the parent as a separate process: subscribes at the endpoint, then waits (it is
/// frozen and killed from outside).
#[test]
#[ignore = "a child process of the liveness tests, not a test"]
fn subscriber_child() {
    let Ok(endpoint) = std::env::var(CHILD) else {
        return;
    };
    let context = Context::new();
    let _receiver = Receiver::<Tick>::builder(&context)
        .topic("ticks")
        .connect(&endpoint)
        .unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

/// A child process subscribed at `endpoint`, killed when dropped.
struct Subscriber(Child);

impl Subscriber {
    fn start(endpoint: &str) -> Subscriber {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "subscriber_child", "--nocapture"])
            .env(CHILD, endpoint)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Subscriber(child)
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The proxy's current subscriptions, from its metrics.
fn subscriptions(metrics: &Metrics) -> u64 {
    metrics
        .encode()
        .lines()
        .find_map(|line| {
            line.strip_prefix("hermes_proxy_subscriptions{")?
                .rsplit(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Waits, bounded, until the proxy's subscriptions are `count`; how long that took.
fn until_subscriptions(metrics: &Metrics, count: u64, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if subscriptions(metrics) == count {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A proxy with `liveness`, a subscriber child on its backend, subscribed; the child is then
/// frozen. Returns how long the proxy took to drop its subscription, if it did within 4 s.
fn frozen_subscriber_noticed_after(liveness: Liveness) -> Option<Duration> {
    let context = Context::new();
    let metrics = context.enable_metrics();
    let mut config = ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0").with_name("hub");
    config.liveness = liveness;
    let proxy = Proxy::spawn(&context, config).unwrap();
    let subscriber = Subscriber::start(proxy.backend());
    assert!(
        until_subscriptions(&metrics, 1, DEADLINE).is_some(),
        "the child never subscribed"
    );
    subscriber.signal("-STOP");
    let noticed = until_subscriptions(&metrics, 0, Duration::from_secs(4));
    subscriber.signal("-CONT");
    proxy.stop().unwrap();
    noticed
}

#[test]
fn heartbeats_drop_a_frozen_subscriber_within_seconds_and_without_them_it_stays() {
    let fast = Liveness {
        heartbeat_ms: 200,
        timeout_ms: 1000,
        ..Liveness::DEFAULT
    };
    let noticed = frozen_subscriber_noticed_after(fast);
    assert!(
        noticed.is_some_and(|after| after < Duration::from_secs(3)),
        "with heartbeats every 200 ms and a 1 s timeout: {noticed:?}"
    );
    // Without heartbeats the frozen peer's open connection looks alive.
    assert_eq!(frozen_subscriber_noticed_after(Liveness::OFF), None);
}
