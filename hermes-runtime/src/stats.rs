//! Receiver statistics and the slow-subscriber policy.

use std::time::Duration;

pub use hermes_core::SlowSubscriberAction;

/// The slow-subscriber policy: how old an envelope may be, and what happens past that.
///
/// Lag is the receiver's clock minus the envelope's timestamp, so across hosts it includes clock
/// offset: keep clocks in sync (NTP/PTP) before relying on small limits.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hermes_runtime::{SlowSubscriber, SlowSubscriberAction};
///
/// let policy = SlowSubscriber::new(Duration::from_millis(250), SlowSubscriberAction::Drop);
/// assert_eq!(SlowSubscriber::default().max_lag, Duration::from_secs(1));
/// assert_eq!(policy.action, SlowSubscriberAction::Drop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SlowSubscriber {
    /// The largest lag that is not "slow".
    pub max_lag: Duration,
    /// What to do with an envelope past it.
    pub action: SlowSubscriberAction,
}

impl SlowSubscriber {
    /// A policy.
    pub fn new(max_lag: Duration, action: SlowSubscriberAction) -> SlowSubscriber {
        SlowSubscriber { max_lag, action }
    }
}

impl Default for SlowSubscriber {
    /// One second, then warn: the Python original's limit, without its self-termination.
    fn default() -> Self {
        SlowSubscriber::new(Duration::from_secs(1), SlowSubscriberAction::Warn)
    }
}

/// What a receiver has seen, counted; every envelope that reached the socket is in exactly one of
/// `received`, `filtered`, `decode_errors`, `type_mismatches`, `stale_dropped`, or is the one that
/// triggered a disconnect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverStats {
    /// Envelopes delivered to the application.
    pub received: u64,
    /// Envelopes that never arrived, from gaps in per-publisher, per-topic sequence numbers
    /// (lost to a high-water mark, a reconnect or a restart of a proxy).
    pub lost: u64,
    /// Frame sets that were not valid envelopes (frame count, header, text or payload).
    pub decode_errors: u64,
    /// Envelopes whose type fingerprint or codec differs from the receiver's.
    pub type_mismatches: u64,
    /// Envelopes outside the topic's segment boundary or from an origin not asked for.
    pub filtered: u64,
    /// Envelopes whose sequence number did not advance (duplicated or reordered).
    pub out_of_order: u64,
    /// Times a publisher was seen with a new epoch (it restarted); not counted as loss.
    pub publisher_restarts: u64,
    /// Envelopes a publisher sent before this receiver heard from it (at the receiver's start
    /// or the publisher's restart): the first sequence number seen. ZeroMQ's slow joiner;
    /// not counted as loss, and 0 when subscribers are up before their publishers.
    pub missed_at_start: u64,
    /// Envelopes older than the slow-subscriber limit, whatever the action.
    pub lagging: u64,
    /// Stale envelopes discarded by the `drop` action.
    pub stale_dropped: u64,
    /// Whether the `disconnect` action closed the socket.
    pub disconnected: bool,
    /// The largest lag seen, in nanoseconds.
    pub max_lag_ns: u64,
}

impl ReceiverStats {
    /// Adds another receiver's counts to these (for a node's or a topology's totals).
    pub fn merge(&mut self, other: &ReceiverStats) {
        self.received += other.received;
        self.lost += other.lost;
        self.decode_errors += other.decode_errors;
        self.type_mismatches += other.type_mismatches;
        self.filtered += other.filtered;
        self.out_of_order += other.out_of_order;
        self.publisher_restarts += other.publisher_restarts;
        self.missed_at_start += other.missed_at_start;
        self.lagging += other.lagging;
        self.stale_dropped += other.stale_dropped;
        self.disconnected |= other.disconnected;
        self.max_lag_ns = self.max_lag_ns.max(other.max_lag_ns);
    }
}
