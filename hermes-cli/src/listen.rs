//! What `tap` and `stats` share: the runtime's [`RawReceiver`] with the tools' settings, and a
//! summary of frame sets that are not envelopes, at most once a second.

use std::time::{Duration, Instant};

use hermes_runtime::{Context, RawReceiver};

/// Envelopes queued in the socket before the tool itself starts losing them.
const RECEIVE_HWM: u32 = 100_000;

/// The shortest time between two summaries of frame sets that are not envelopes.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(1);

/// Where and as whom `tap` and `stats` listen.
pub struct Listener<'a> {
    /// The topology.
    pub loaded: &'a hermes_build::Loaded,
    /// The operator's credentials.
    pub operator: &'a crate::operator::OperatorArgs,
    /// `--proxy`.
    pub proxy: Option<&'a str>,
    /// The endpoint to connect to.
    pub endpoint: &'a str,
}

impl Listener<'_> {
    /// Connects a raw receiver subscribed to `topics` (all topics when empty) in both
    /// framings, as a CURVE client with the operator's keys when the topology is secured.
    ///
    /// # Errors
    ///
    /// A message when a key cannot be read, the socket cannot be made or the endpoint is not
    /// valid.
    pub fn connect(&self, context: &Context, topics: &[String]) -> Result<RawReceiver, String> {
        let curve = self
            .operator
            .curve_to_listen(self.loaded, self.proxy, self.endpoint)?;
        let mut builder = RawReceiver::builder(context)
            .topics(topics)
            .hwm(RECEIVE_HWM);
        if let Some(curve) = curve {
            builder = builder.curve(curve);
        }
        builder
            .connect(self.endpoint)
            .map_err(|error| format!("cannot connect to `{}`: {error}", self.endpoint))
    }
}

/// Turns a receiver's count of frame sets that are not envelopes into warning lines: the
/// first at once, then at most one a second, so hostile or foreign traffic cannot flood the
/// terminal.
#[derive(Debug)]
pub struct NotEnvelopes {
    reported: u64,
    since: Instant,
}

impl NotEnvelopes {
    /// Starts counting now.
    pub fn new() -> NotEnvelopes {
        NotEnvelopes {
            reported: 0,
            since: Instant::now(),
        }
    }

    /// The warning line due now, if any: frame sets refused since the last line, when a second
    /// has passed since it.
    pub fn due(&mut self, receiver: &RawReceiver, now: Instant) -> Option<String> {
        if now.duration_since(self.since) < SUMMARY_INTERVAL {
            return None;
        }
        self.line(receiver, now)
    }

    /// The warning line for frame sets refused since the last line, whenever it was; for the
    /// end of a run.
    pub fn rest(&mut self, receiver: &RawReceiver) -> Option<String> {
        self.line(receiver, Instant::now())
    }

    fn line(&mut self, receiver: &RawReceiver, now: Instant) -> Option<String> {
        let total = receiver.stats().decode_errors;
        let count = total
            .checked_sub(self.reported)
            .filter(|&count| count > 0)?;
        let window = now.duration_since(self.since).as_secs_f64();
        self.reported = total;
        self.since = now;
        let what = if count == 1 {
            "frame set that is not a Hermes envelope"
        } else {
            "frame sets that are not Hermes envelopes"
        };
        let last = receiver
            .last_decode_error()
            .map(|error| format!(" (last: {error})"))
            .unwrap_or_default();
        Some(format!(
            "warning: {count} {what} in the last {window:.1}s{last}"
        ))
    }
}
