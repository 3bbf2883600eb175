//! Slow-subscriber policies: warn, drop, disconnect, each counted.

mod common;

use common::{LIMIT, stale_then_fresh};
use hermes_runtime::{Error, SlowSubscriberAction};

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
