//! Slow-subscriber policies: warn, drop, disconnect, each counted.

mod common;

use std::time::Duration;

use common::{DEADLINE, Tick, unique};
use hermes_runtime::{Context, Error, Publisher, Receiver, SlowSubscriber, SlowSubscriberAction};

const LIMIT: Duration = Duration::from_millis(100);

/// A receiver with `action`, ten envelopes that are already stale when read, then a fresh one.
fn stale_then_fresh(action: SlowSubscriberAction) -> (Receiver<Tick>, Vec<Result<u64, String>>) {
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

#[test]
fn warn_delivers_stale_envelopes_and_counts_them() {
    let (receiver, outcomes) = stale_then_fresh(SlowSubscriberAction::Warn);
    let expected: Vec<Result<u64, String>> = (1..=10).chain([99]).map(Ok).collect();
    assert_eq!(outcomes, expected);
    let stats = receiver.stats();
    assert_eq!(stats.lagging, 10);
    assert_eq!(stats.stale_dropped, 0);
    assert!(stats.max_lag_ns >= LIMIT.as_nanos() as u64 * 2);
}

#[test]
fn drop_discards_stale_envelopes_and_delivers_fresh_ones() {
    let (receiver, outcomes) = stale_then_fresh(SlowSubscriberAction::Drop);
    assert_eq!(outcomes, vec![Ok(99)]);
    let stats = receiver.stats();
    assert_eq!((stats.lagging, stats.stale_dropped), (10, 10));
    assert_eq!(stats.lost, 0, "dropped by policy is not lost in transit");
}

#[test]
fn disconnect_closes_the_receiver_and_says_so() {
    let (mut receiver, outcomes) = stale_then_fresh(SlowSubscriberAction::Disconnect);
    assert_eq!(outcomes, vec![Err(Error::Disconnected.to_string())]);
    assert!(receiver.stats().disconnected);
    assert!(matches!(receiver.try_recv(), Err(Error::Disconnected)));
    assert!(matches!(receiver.recv(), Err(Error::Disconnected)));
}
