//! What `tap`, `stats` and `record` share: the runtime's [`RawReceiver`] with the tools' settings, and a
//! summary of frame sets that are not envelopes, at most once a second.

use std::time::{Duration, Instant};

use hermes_runtime::{Context, RawReceiver};

/// Envelopes queued in the socket before the tool itself starts losing them.
const RECEIVE_HWM: u32 = 100_000;

/// The shortest time between two summaries of frame sets that are not envelopes.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(1);

/// Where and as whom `tap`, `stats` and `record` listen: `--proxy` or `--endpoint`, and the
/// operator's keys.
#[derive(Debug, Clone, clap::Args)]
pub struct Source {
    /// The proxy to listen to (default: the topology's only proxy).
    #[arg(long, value_name = "NAME", conflicts_with = "endpoint")]
    pub proxy: Option<String>,
    /// Listen to this endpoint instead (a proxy's capture or backend, or a bound publisher).
    #[arg(long, value_name = "EP")]
    pub endpoint: Option<String>,
    /// Keys, when the topology is secured.
    #[command(flatten)]
    pub operator: crate::operator::OperatorArgs,
}

impl Source {
    /// The endpoint to listen to and a raw receiver connected there, subscribed to `topics`
    /// (all topics when empty) in both framings, as a CURVE client with the operator's keys
    /// when the topology is secured.
    ///
    /// # Errors
    ///
    /// A message for an unknown or ambiguous proxy, a key that cannot be read, or a socket
    /// that cannot be made or connected.
    pub fn connect(
        &self,
        loaded: &hermes_build::Loaded,
        context: &Context,
        topics: &[String],
    ) -> Result<(String, RawReceiver), String> {
        let endpoint = crate::topology::listen_endpoint(
            loaded,
            self.proxy.as_deref(),
            self.endpoint.as_deref(),
        )?;
        let curve = self
            .operator
            .curve_to_listen(loaded, self.proxy.as_deref(), &endpoint)?;
        let mut builder = RawReceiver::builder(context)
            .topics(topics)
            .hwm(RECEIVE_HWM);
        if let Some(curve) = curve {
            builder = builder.curve(curve);
        }
        let receiver = builder
            .connect(&endpoint)
            .map_err(|error| format!("cannot connect to `{endpoint}`: {error}"))?;
        Ok((endpoint, receiver))
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
