//! The report: every figure of a run, rendered as Markdown tables or as JSON.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::options::{Scenario, Transport};

/// Everything one `hermes-bench` run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// How it ran.
    pub settings: Settings,
    /// One row per scenario, transport and payload size.
    pub rows: Vec<Row>,
    /// The rows measured with CURVE too (`--curve`); empty otherwise, and in reports saved
    /// before it existed.
    #[serde(default)]
    pub curve: Vec<CurveRow>,
    /// CPU of an idle runtime, when measured.
    pub idle: Option<Idle>,
    /// The stalled-subscriber RSS check, when run.
    pub stall: Option<Stall>,
    /// The recorder's figures (`record`), when run; absent in reports saved before it existed.
    #[serde(default)]
    pub record: Option<Record>,
    /// The targets, each with its measured value.
    pub targets: Vec<Target>,
    /// What failed, one line each; the rest of the report still stands.
    pub errors: Vec<String>,
    /// Wall-clock time of the whole run, in seconds.
    pub elapsed_s: f64,
    /// The 1, 5 and 15-minute load averages when the run ended; absent in reports saved before
    /// it existed.
    #[serde(default)]
    pub load_average_end: [f64; 3],
}

/// The machine a report was measured on.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs available to the process.
    pub cpus: usize,
    /// The CPU model from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The kernel release.
    pub kernel: String,
    /// The 1, 5 and 15-minute load averages when the run started (other work on the machine
    /// makes figures noisy; ratios hold up better than absolute numbers).
    pub load_average: [f64; 3],
    /// The libzmq version both sides use.
    pub libzmq: String,
}

/// The settings of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    /// Seconds per throughput run.
    pub run_s: f64,
    /// Seconds per delivery, one-way latency and round-trip run; absent in reports saved
    /// before it existed.
    #[serde(default)]
    pub latency_run_s: f64,
    /// Rounds per figure: each runs every side once, in an order rotating from round to round
    /// (`runs` in reports saved before rounds).
    #[serde(alias = "runs")]
    pub rounds: usize,
    /// Messages per second of the one-way latency figure.
    pub latency_rate: u64,
    /// Loads of the latency-under-load figure, percent of each path's maximum rate.
    #[serde(default)]
    pub load_percent: Vec<u32>,
    /// Seconds per latency-under-load run.
    #[serde(default)]
    pub load_run_s: f64,
    /// Whether this was a smoke run (rough figures).
    pub smoke: bool,
}

/// One scenario, transport and payload size: Hermes and raw libzmq side by side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// The scenario.
    pub scenario: Scenario,
    /// The transport.
    pub transport: Transport,
    /// Payload bytes per message (what raw sends after its topic frame).
    pub payload_bytes: usize,
    /// The Hermes codec.
    pub codec: String,
    /// Bytes per message on the wire, all frames, raw.
    pub wire_bytes_raw: usize,
    /// Bytes per message on the wire, all frames, Hermes (topic, header, origin, payload).
    pub wire_bytes_hermes: usize,
    /// Throughput with every high-water mark unlimited: nothing drops.
    pub throughput: Throughput,
    /// Throughput with the default high-water mark (1000): what arrives, what drops.
    pub default_hwm: Delivery,
    /// One-way latency at a fixed rate.
    pub latency: Latency,
    /// Round trip: out on one path, echoed back on another.
    pub round_trip: Latency,
    /// One-way latency at shares of the path's maximum rate (`direct` and `proxy` rows, unless
    /// `--no-load`); empty otherwise and in reports saved before it existed.
    #[serde(default)]
    pub load: Vec<LoadPoint>,
    /// Zenoh carrying the same payloads in the same invocation (`batched` tcp rows of a build
    /// with the `zenoh` feature); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zenoh: Option<ZenohPeer>,
}

/// Zenoh pub/sub measured beside a row: its throughput and Hermes' over it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZenohPeer {
    /// The zenoh crate's version.
    pub version: String,
    /// Median messages per second over its runs.
    pub msg_per_s: f64,
    /// Each run's messages per second.
    pub runs_msg_per_s: Vec<f64>,
    /// Hermes' median throughput in the row over Zenoh's.
    pub ratio: f64,
}

/// How a ratio varied over the rounds of a figure; the ratio reported is their median.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Each round's ratio (Hermes in round i / raw in round i), in round order.
    pub rounds: Vec<f64>,
    /// The smallest.
    pub min: f64,
    /// The first quartile.
    pub q1: f64,
    /// The third quartile.
    pub q3: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// The median of `rounds` and their spread; 0 and an empty spread for none.
    pub fn of(rounds: Vec<f64>) -> (f64, Spread) {
        let mut sorted = rounds.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| -> f64 {
            if sorted.is_empty() {
                return 0.0;
            }
            // Linear interpolation between closest ranks, so that 9 rounds give quartiles at
            // the 3rd and 7th.
            let position = q * (sorted.len() - 1) as f64;
            let (low, high) = (position.floor() as usize, position.ceil() as usize);
            sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
        };
        let spread = Spread {
            min: sorted.first().copied().unwrap_or(0.0),
            q1: at(0.25),
            q3: at(0.75),
            max: sorted.last().copied().unwrap_or(0.0),
            rounds,
        };
        (at(0.5), spread)
    }

    /// `min–max`, as the tables print it.
    fn range(&self) -> String {
        format!("{:.2}–{:.2}", self.min, self.max)
    }
}

/// One load of the latency-under-load figure: raw and Hermes sent the same rate, a share of
/// the slower side's throughput, and each message's one-way latency was measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadPoint {
    /// The share of the path's maximum rate, percent.
    pub percent: u32,
    /// Messages per second asked of both sources: `percent` of the lower of raw's and Hermes'
    /// median throughput in the same row.
    pub rate: u64,
    /// Messages per second raw's source achieved.
    pub raw_sent_per_s: f64,
    /// Messages per second Hermes' source achieved.
    pub hermes_sent_per_s: f64,
    /// Raw libzmq.
    pub raw: Percentiles,
    /// Hermes.
    pub hermes: Percentiles,
    /// Hermes / raw at p50.
    pub ratio_p50: f64,
    /// Hermes / raw at p99.
    pub ratio_p99: f64,
}

/// Throughput of raw, raw padded to Hermes' wire size, and Hermes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Throughput {
    /// Raw libzmq, same payload.
    pub raw: Rate,
    /// Raw libzmq with as many extra payload bytes as Hermes' envelope adds: separates the
    /// cost of Hermes' code from the cost of its header's size.
    pub raw_padded: Rate,
    /// Hermes.
    pub hermes: Rate,
    /// Hermes / raw messages per second (the headline): the median of the rounds' ratios.
    pub ratio: f64,
    /// Hermes / raw-padded messages per second, the median of the rounds' ratios.
    pub ratio_vs_padded: f64,
    /// `ratio` in each round.
    #[serde(default)]
    pub ratio_spread: Spread,
    /// `ratio_vs_padded` in each round.
    #[serde(default)]
    pub ratio_vs_padded_spread: Spread,
}

/// One side's throughput figures, medians over the rounds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rate {
    /// Messages per second received.
    pub msg_per_s: f64,
    /// Payload megabytes (10^6 bytes) per second received.
    pub mb_per_s: f64,
    /// CPU seconds (every thread of the process) per million messages.
    pub cpu_s_per_million: f64,
    /// The largest peak RSS of any run, MiB (whole process, queues included).
    pub peak_rss_mib: f64,
    /// Each round's messages per second, in order.
    pub runs_msg_per_s: Vec<f64>,
}

/// Throughput with the default high-water mark, raw and Hermes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Delivery {
    /// The high-water mark on every socket.
    pub hwm: i32,
    /// Raw libzmq.
    pub raw: Delivered,
    /// Hermes.
    pub hermes: Delivered,
    /// Hermes / raw delivered messages per second, the median of the rounds' ratios.
    pub ratio: f64,
    /// `ratio` in each round.
    #[serde(default)]
    pub ratio_spread: Spread,
}

/// One side's sent and delivered rates, medians over the runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Delivered {
    /// Messages per second the source sent.
    pub sent_per_s: f64,
    /// Messages per second that arrived.
    pub delivered_per_s: f64,
    /// Percentage of sent messages dropped by a high-water mark.
    pub dropped_pct: f64,
}

/// Latency percentiles of raw and Hermes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    /// Messages per second sent, for one-way latency; 0 for round trips (one at a time).
    pub rate: u64,
    /// Raw libzmq.
    pub raw: Percentiles,
    /// Hermes.
    pub hermes: Percentiles,
    /// Hermes / raw at p50: the median of the rounds' ratios (`raw` and `hermes` pool every
    /// round's samples).
    pub ratio_p50: f64,
    /// Hermes / raw at p99: the median of the rounds' ratios.
    pub ratio_p99: f64,
    /// Hermes / raw at p50 in each round.
    #[serde(default)]
    pub ratio_p50_spread: Spread,
    /// Hermes / raw at p99 in each round: whether a tail is Hermes' in every round, or one
    /// round's (a stall of the machine) that pooled samples would take whole.
    #[serde(default)]
    pub ratio_p99_spread: Spread,
}

/// Percentiles over every sample of every run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Percentiles {
    /// How many samples.
    pub samples: usize,
    /// Median, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// 99.9th percentile, µs.
    pub p999_us: f64,
}

/// A direct or proxy path over tcp or ipc, raw and Hermes, each with and without CURVE, in
/// alternating runs (`--curve`).
///
/// Secured Hermes runs as a topology with security on: CURVE servers whose ZAP handler admits
/// the declared peers, and per-sender checks (a proxy checks every envelope's topic; a bound
/// publisher, every subscription). Raw libzmq has CURVE and no ZAP handler: it has no rules
/// to check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurveRow {
    /// The scenario (`direct` or `proxy`).
    pub scenario: Scenario,
    /// The transport (`tcp` or `ipc`).
    pub transport: Transport,
    /// Payload bytes per message.
    pub payload_bytes: usize,
    /// Throughput with every high-water mark unlimited.
    pub throughput: CurveThroughput,
    /// One-way latency at a fixed rate.
    pub latency: CurveLatency,
}

/// Throughput of the four sides of a [`CurveRow`], medians over the runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CurveThroughput {
    /// Raw libzmq without CURVE.
    pub raw: Rate,
    /// Raw libzmq with CURVE.
    pub raw_curve: Rate,
    /// Hermes without security.
    pub hermes: Rate,
    /// Hermes with security.
    pub hermes_curve: Rate,
    /// Hermes with security / raw with CURVE, messages per second (the headline).
    pub ratio: f64,
    /// Hermes with security / Hermes without: what security costs Hermes.
    pub ratio_vs_unsecured: f64,
    /// Raw with CURVE / raw without: what the encryption alone costs libzmq.
    pub raw_ratio: f64,
}

/// One-way latency of the four sides of a [`CurveRow`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CurveLatency {
    /// Messages per second sent.
    pub rate: u64,
    /// Raw libzmq without CURVE.
    pub raw: Percentiles,
    /// Raw libzmq with CURVE.
    pub raw_curve: Percentiles,
    /// Hermes without security.
    pub hermes: Percentiles,
    /// Hermes with security.
    pub hermes_curve: Percentiles,
    /// Hermes with security / raw with CURVE at p50.
    pub ratio_p50: f64,
    /// Hermes with security / raw with CURVE at p99.
    pub ratio_p99: f64,
    /// Hermes with security / Hermes without at p50.
    pub ratio_p50_vs_unsecured: f64,
    /// Hermes with security / Hermes without at p99.
    pub ratio_p99_vs_unsecured: f64,
}

/// CPU of a runtime with a proxy and a subscribed node and no traffic.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Idle {
    /// How long it was watched, seconds.
    pub seconds: f64,
    /// Share of one core used, percent.
    pub cpu_pct: f64,
}

/// RSS of each process while a subscriber is stalled and the publisher sends at full rate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stall {
    /// How long the subscriber was stalled, seconds.
    pub seconds: f64,
    /// Payload bytes per message.
    pub payload_bytes: usize,
    /// The high-water mark configured on every socket.
    pub hwm: u32,
    /// Messages the publisher sent.
    pub sent: u64,
    /// The three processes.
    pub processes: Vec<StallProcess>,
    /// Whether every process stayed within its bound.
    pub bounded: bool,
}

/// One process of the stall check.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StallProcess {
    /// `publisher`, `proxy` or `subscriber`.
    pub role: String,
    /// RSS before traffic, MiB.
    pub start_mib: f64,
    /// RSS halfway through, MiB.
    pub half_mib: f64,
    /// RSS at the end, MiB.
    pub end_mib: f64,
    /// Peak RSS (`VmHWM`), MiB.
    pub peak_mib: f64,
    /// Peak minus start, MiB.
    pub growth_mib: f64,
    /// High-water-mark queues in the process × HWM × wire bytes per message, MiB.
    pub bound_mib: f64,
    /// Whether growth stayed within the bound plus 10 % and 2 MiB (libzmq bookkeeping,
    /// allocator rounding, I/O buffers).
    pub bounded: bool,
}

/// The `record` scenario: a publisher paced at fixed rates over tcp loopback, every envelope
/// received by a `RawReceiver` and written by a `Recorder` to an MCAP file, as `hermes record`
/// does; and raw libzmq, a SUB socket writing each payload to a file, at the same rates.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    /// The transport (tcp).
    pub transport: Transport,
    /// Payload bytes per envelope.
    pub payload_bytes: usize,
    /// The rate the recorder must keep up with, envelopes a second.
    pub target_rate: u64,
    /// Raw libzmq at (just above) the target rate, RSS sampled.
    pub raw: RecordRun,
    /// Hermes at (just above) the target rate, RSS sampled: the target's run.
    pub hermes: RecordRun,
    /// Raw libzmq at the target rate with the publisher at the default high-water mark (1000).
    pub raw_default_hwm: RecordRun,
    /// Hermes at the target rate with the publisher at the default high-water mark (1000).
    pub hermes_default_hwm: RecordRun,
    /// Hermes at the target rate through a proxy, recording its capture socket (the proxy's
    /// high-water mark 100,000), as `hermes record` reads a topology's proxy.
    #[serde(default)]
    pub hermes_capture: Option<RecordRun>,
    /// Rising rates, each side run until it no longer keeps up (empty in a smoke run).
    pub ladder: Vec<RecordStep>,
    /// The highest offered rate raw kept up with, envelopes a second.
    pub raw_max_per_s: f64,
    /// The highest offered rate Hermes kept up with, envelopes a second.
    pub hermes_max_per_s: f64,
    /// Hermes / raw recording-thread CPU per envelope at the target rate.
    pub cpu_ratio: f64,
}

/// One rate of the search for the highest rate each side keeps up with.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordStep {
    /// Envelopes a second asked of the publisher.
    pub rate: u64,
    /// Raw libzmq, unless it stopped keeping up at a lower rate.
    pub raw: Option<RecordRun>,
    /// Hermes, unless it stopped keeping up at a lower rate.
    pub hermes: Option<RecordRun>,
}

/// One recording run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordRun {
    /// The publisher's high-water mark (the receiver's is 100,000, as in `hermes record`).
    pub publisher_hwm: u32,
    /// Envelopes a second asked of the publisher.
    pub requested_per_s: u64,
    /// Envelopes a second the publisher sent.
    pub offered_per_s: f64,
    /// Envelopes sent.
    pub sent: u64,
    /// Envelopes recorded.
    pub recorded: u64,
    /// Envelopes recorded by the time the publisher stopped, per second of sending.
    pub recorded_per_s: f64,
    /// Envelopes sent but not yet recorded when the publisher stopped.
    pub backlog_at_end: u64,
    /// Sequence gaps: envelopes lost upstream of the recorder (the `RawReceiver`'s `lost`; raw:
    /// a counter in the payload).
    pub gaps: u64,
    /// Envelopes sent and never recorded (gaps, and losses at the end that no later envelope
    /// reveals).
    pub missing: u64,
    /// No gaps, nothing missing, and no backlog beyond 2 % of the run when the publisher stopped.
    pub kept_up: bool,
    /// CPU seconds of the recording thread (receive, record, write) per million envelopes.
    pub recorder_cpu_s_per_million: f64,
    /// CPU seconds of the whole process (publisher and libzmq's I/O threads included) per
    /// million envelopes.
    pub process_cpu_s_per_million: f64,
    /// Resident memory over the run.
    pub rss: RssTrace,
    /// Payload bytes recorded.
    pub payload_bytes: u64,
    /// Bytes received, every frame of every envelope.
    pub wire_bytes: u64,
    /// Size of the file written.
    pub file_bytes: u64,
    /// File bytes per envelope.
    pub file_bytes_per_envelope: f64,
    /// Wire bytes / file bytes.
    pub compression: f64,
}

/// The process's resident memory sampled every 50 ms of a run; the first quarter is warm-up.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RssTrace {
    /// Before traffic, MiB.
    pub start_mib: f64,
    /// After warm-up, MiB.
    pub warm_mib: f64,
    /// At the end, MiB.
    pub end_mib: f64,
    /// Peak (`VmHWM`, reset at the start), MiB.
    pub peak_mib: f64,
    /// Highest sample after warm-up minus the sample at the end of warm-up, MiB: about 0 when
    /// memory is bounded.
    pub growth_after_warm_up_mib: f64,
    /// How many samples.
    pub samples: usize,
}

/// One of the issues' targets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    /// What is measured.
    pub name: String,
    /// The measured value (a ratio, or a percentage for idle CPU); `None` when this run could
    /// not measure it, and then [`Target::note`] says why.
    pub value: Option<f64>,
    /// `>=`, `<=` or `<`.
    pub comparison: String,
    /// The threshold.
    pub threshold: f64,
    /// Whether the value meets the threshold (never for a value not measured).
    pub met: bool,
    /// The value's smallest and largest over the rounds, for a ratio of per-round figures.
    #[serde(default)]
    pub spread: Option<[f64; 2]>,
    /// Why the value was not measured.
    #[serde(default)]
    pub note: Option<String>,
}

impl Target {
    pub(crate) fn at_least(name: String, value: f64, threshold: f64) -> Target {
        Target {
            name,
            value: Some(value),
            comparison: ">=".to_owned(),
            threshold,
            met: value >= threshold,
            spread: None,
            note: None,
        }
    }

    /// Below `threshold`, strictly.
    pub(crate) fn below(name: String, value: f64, threshold: f64) -> Target {
        Target {
            comparison: "<".to_owned(),
            met: value < threshold,
            ..Target::at_most(name, value, threshold)
        }
    }

    /// A target this run cannot measure, and why: reported as not met.
    pub(crate) fn not_measured(
        name: String,
        comparison: &str,
        threshold: f64,
        why: String,
    ) -> Target {
        Target {
            name,
            value: None,
            comparison: comparison.to_owned(),
            threshold,
            met: false,
            spread: None,
            note: Some(why),
        }
    }

    /// The same target, with the spread of its value over the rounds.
    pub(crate) fn over(mut self, spread: &Spread) -> Target {
        if !spread.rounds.is_empty() {
            self.spread = Some([spread.min, spread.max]);
        }
        self
    }

    /// At least `threshold`, and only if `also` holds (a condition the name states).
    pub(crate) fn at_least_and(name: String, value: f64, threshold: f64, also: bool) -> Target {
        let mut target = Target::at_least(name, value, threshold);
        target.met &= also;
        target
    }

    pub(crate) fn at_most(name: String, value: f64, threshold: f64) -> Target {
        Target {
            name,
            value: Some(value),
            comparison: "<=".to_owned(),
            threshold,
            met: value <= threshold,
            spread: None,
            note: None,
        }
    }
}

fn payload_label(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Row {
    /// `proxy tcp 64 B`: how targets name the row.
    pub fn name(&self) -> String {
        format!(
            "{} {} {}",
            self.scenario,
            self.transport,
            payload_label(self.payload_bytes)
        )
    }

    fn label(&self) -> String {
        format!(
            "| {} | {} | {} | {} |",
            self.scenario,
            self.transport,
            payload_label(self.payload_bytes),
            self.codec
        )
    }
}

impl Report {
    /// The report as Markdown tables: throughput, drops, latency, idle and stall, then every
    /// target in one table (target, measured, required, met).
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "hermes-bench: {} CPUs ({}), kernel {}, libzmq {}, load {:.2} {:.2} {:.2}; \
             {} rounds per figure (throughput runs {} s, delivery and latency {} s), \
             each ratio the median of the rounds' ratios, min–max beside it{}",
            m.cpus,
            m.cpu_model,
            m.kernel,
            m.libzmq,
            m.load_average[0],
            m.load_average[1],
            m.load_average[2],
            self.settings.rounds,
            self.settings.run_s,
            self.settings.latency_run_s,
            if self.settings.smoke {
                "; SMOKE RUN: rough figures"
            } else {
                ""
            }
        );
        if !self.rows.is_empty() {
            out.push_str("\nThroughput, high-water mark unlimited (nothing drops):\n\n");
            out.push_str(
                "| scenario | transport | payload | codec | raw msg/s | hermes msg/s | ratio \
                 | min–max | raw MB/s | hermes MB/s | CPU s/M msg raw | hermes | peak RSS MiB raw \
                 | hermes | raw + header msg/s | ratio vs padded | min–max |\n",
            );
            out.push_str("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            for row in &self.rows {
                let t = &row.throughput;
                let _ = writeln!(
                    out,
                    "{} {} | {} | **{:.2}** | {} | {:.1} | {:.1} | {:.2} | {:.2} | {:.0} | {:.0} | {} | {:.2} | {} |",
                    row.label(),
                    thousands(t.raw.msg_per_s),
                    thousands(t.hermes.msg_per_s),
                    t.ratio,
                    t.ratio_spread.range(),
                    t.raw.mb_per_s,
                    t.hermes.mb_per_s,
                    t.raw.cpu_s_per_million,
                    t.hermes.cpu_s_per_million,
                    t.raw.peak_rss_mib,
                    t.hermes.peak_rss_mib,
                    thousands(t.raw_padded.msg_per_s),
                    t.ratio_vs_padded,
                    t.ratio_vs_padded_spread.range(),
                );
            }
            out.push_str("\nDefault high-water mark (1000), publisher at full rate:\n\n");
            out.push_str(
                "| scenario | transport | payload | codec | raw delivered msg/s | dropped % \
                 | hermes delivered msg/s | dropped % | ratio | min–max |\n",
            );
            out.push_str("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            for row in &self.rows {
                let d = &row.default_hwm;
                let _ = writeln!(
                    out,
                    "{} {} | {:.1} | {} | {:.1} | {:.2} | {} |",
                    row.label(),
                    thousands(d.raw.delivered_per_s),
                    d.raw.dropped_pct,
                    thousands(d.hermes.delivered_per_s),
                    d.hermes.dropped_pct,
                    d.ratio,
                    d.ratio_spread.range(),
                );
            }
            let rate = self.rows.first().map_or(0, |row| row.latency.rate);
            let _ = writeln!(
                out,
                "\nLatency, µs: one-way at {} msg/s, and round trip (one message at a time):\n",
                thousands(rate as f64)
            );
            out.push_str(
                "| scenario | transport | payload | codec | raw p50 | p99 | p99.9 | hermes p50 | p99 \
                 | p99.9 | ratio p50 | min–max | ratio p99 | min–max | RTT raw p50 | p99 | RTT hermes p50 \
                 | p99 | ratio p50 | min–max |\n",
            );
            out.push_str("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            for row in &self.rows {
                let (l, r) = (&row.latency, &row.round_trip);
                let _ = writeln!(
                    out,
                    "{} {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | **{:.2}** | {} | {:.2} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {} |",
                    row.label(),
                    l.raw.p50_us,
                    l.raw.p99_us,
                    l.raw.p999_us,
                    l.hermes.p50_us,
                    l.hermes.p99_us,
                    l.hermes.p999_us,
                    l.ratio_p50,
                    l.ratio_p50_spread.range(),
                    l.ratio_p99,
                    l.ratio_p99_spread.range(),
                    r.raw.p50_us,
                    r.raw.p99_us,
                    r.hermes.p50_us,
                    r.hermes.p99_us,
                    r.ratio_p50,
                    r.ratio_p50_spread.range(),
                );
            }
        }
        if self.rows.iter().any(|row| !row.load.is_empty()) {
            self.render_load(&mut out);
        }
        if !self.curve.is_empty() {
            self.render_curve(&mut out);
        }
        if let Some(idle) = &self.idle {
            let _ = writeln!(
                out,
                "\nIdle runtime (proxy + subscribed node, no traffic): {:.3} % of a core over {:.1} s",
                idle.cpu_pct, idle.seconds
            );
        }
        if let Some(stall) = &self.stall {
            let _ = writeln!(
                out,
                "\nStalled subscriber for {:.0} s, publisher at full rate ({} sent), {} payload, HWM {}, \
                 one process each:\n",
                stall.seconds,
                thousands(stall.sent as f64),
                payload_label(stall.payload_bytes),
                stall.hwm
            );
            out.push_str(
                "| process | RSS start MiB | halfway | end | peak | growth | bound | bounded |\n",
            );
            out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
            for p in &stall.processes {
                let _ = writeln!(
                    out,
                    "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
                    p.role,
                    p.start_mib,
                    p.half_mib,
                    p.end_mib,
                    p.peak_mib,
                    p.growth_mib,
                    p.bound_mib,
                    if p.bounded { "yes" } else { "**no**" }
                );
            }
        }
        if let Some(record) = &self.record {
            render_record(record, &mut out);
        }
        if !self.targets.is_empty() {
            out.push_str(
                "\nTargets (issue 20; the recorder's from issue 19; memory under a stalled \
                 subscriber), ratios the median of the rounds:\n\n\
                 | target | measured | min–max over rounds | required | met |\n\
                 | --- | ---: | ---: | --- | --- |\n",
            );
            for t in &self.targets {
                let measured = match (t.value, &t.note) {
                    (Some(value), _) => format!("{value:.3}"),
                    (None, Some(note)) => format!("not measured: {note}"),
                    (None, None) => "not measured".to_owned(),
                };
                let spread = t
                    .spread
                    .map_or_else(String::new, |[min, max]| format!("{min:.2}–{max:.2}"));
                let _ = writeln!(
                    out,
                    "| {} | {measured} | {spread} | {} {} | {} |",
                    t.name,
                    t.comparison,
                    t.threshold,
                    if t.met { "yes" } else { "**no**" }
                );
            }
        }
        for error in &self.errors {
            let _ = writeln!(out, "\nerror: {error}");
        }
        let _ = writeln!(
            out,
            "\n({:.0} s; load average at the end {:.2} {:.2} {:.2})",
            self.elapsed_s,
            self.load_average_end[0],
            self.load_average_end[1],
            self.load_average_end[2]
        );
        out
    }

    /// The latency-under-load table: one line per row and load.
    fn render_load(&self, out: &mut String) {
        out.push_str(
            "\nOne-way latency under load, µs: raw and Hermes sent the same rate, a share of the \
             slower side's throughput above; sent msg/s is what each source achieved:\n\n",
        );
        out.push_str(
            "| scenario | transport | payload | load | msg/s | sent raw | sent hermes | raw p50 \
             | p99 | hermes p50 | p99 | ratio p50 | ratio p99 |\n",
        );
        out.push_str(
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        );
        for row in &self.rows {
            for point in &row.load {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} % | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | **{:.2}** | {:.2} |",
                    row.scenario,
                    row.transport,
                    payload_label(row.payload_bytes),
                    point.percent,
                    thousands(point.rate as f64),
                    thousands(point.raw_sent_per_s),
                    thousands(point.hermes_sent_per_s),
                    point.raw.p50_us,
                    point.raw.p99_us,
                    point.hermes.p50_us,
                    point.hermes.p99_us,
                    point.ratio_p50,
                    point.ratio_p99,
                );
            }
        }
    }

    /// The `--curve` tables: throughput, then one-way latency, of raw and Hermes each with and
    /// without CURVE.
    fn render_curve(&self, out: &mut String) {
        out.push_str(
            "\nSecurity (CURVE), throughput, high-water mark unlimited; Hermes secured = CURVE + ZAP \
             + per-sender checks, raw = CURVE without a ZAP handler:\n\n",
        );
        out.push_str(
            "| scenario | transport | payload | raw msg/s | raw CURVE msg/s | hermes msg/s \
             | hermes CURVE msg/s | ratio vs raw CURVE | ratio vs hermes | raw CURVE / raw \
             | CPU s/M msg raw CURVE | hermes CURVE |\n",
        );
        out.push_str(
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        );
        for row in &self.curve {
            let t = &row.throughput;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | **{:.2}** | **{:.2}** | {:.2} | {:.2} | {:.2} |",
                row.scenario,
                row.transport,
                payload_label(row.payload_bytes),
                thousands(t.raw.msg_per_s),
                thousands(t.raw_curve.msg_per_s),
                thousands(t.hermes.msg_per_s),
                thousands(t.hermes_curve.msg_per_s),
                t.ratio,
                t.ratio_vs_unsecured,
                t.raw_ratio,
                t.raw_curve.cpu_s_per_million,
                t.hermes_curve.cpu_s_per_million,
            );
        }
        let rate = self.curve.first().map_or(0, |row| row.latency.rate);
        let _ = writeln!(
            out,
            "\nSecurity (CURVE), one-way latency at {} msg/s, µs:\n",
            thousands(rate as f64)
        );
        out.push_str(
            "| scenario | transport | payload | raw p50 | raw CURVE p50 | p99 | hermes p50 | p99 \
             | hermes CURVE p50 | p99 | ratio p50 vs raw CURVE | p99 | ratio p50 vs hermes | p99 |\n",
        );
        out.push_str(
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        );
        for row in &self.curve {
            let l = &row.latency;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | **{:.2}** | {:.2} | **{:.2}** | {:.2} |",
                row.scenario,
                row.transport,
                payload_label(row.payload_bytes),
                l.raw.p50_us,
                l.raw_curve.p50_us,
                l.raw_curve.p99_us,
                l.hermes.p50_us,
                l.hermes.p99_us,
                l.hermes_curve.p50_us,
                l.hermes_curve.p99_us,
                l.ratio_p50,
                l.ratio_p99,
                l.ratio_p50_vs_unsecured,
                l.ratio_p99_vs_unsecured,
            );
        }
    }

    /// The report as pretty-printed JSON, with the same fields as the tables.
    pub fn render_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"))
    }
}

/// The `record` table: the target run of each side, then each step of the rising rates.
fn render_record(record: &Record, out: &mut String) {
    let _ = writeln!(
        out,
        "\nRecording, {} {}, publisher paced, receiver HWM 100,000; Hermes = \
         `RawReceiver` → `Recorder` (MCAP, zstd chunks), raw = SUB → payloads to a file:\n",
        record.transport,
        payload_label(record.payload_bytes)
    );
    out.push_str(
        "| side | publisher HWM | asked env/s | offered env/s | recorded env/s | gaps | missing | kept up \
         | recorder CPU s/M | process CPU s/M | RSS warm MiB | end | growth after warm-up \
         | file MB | B/env | compression |\n",
    );
    out.push_str(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let mut line = |side: &str, run: &RecordRun| {
        let _ = writeln!(
            out,
            "| {side} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} |",
            thousands(f64::from(run.publisher_hwm)),
            thousands(run.requested_per_s as f64),
            thousands(run.offered_per_s),
            thousands(run.recorded_per_s),
            run.gaps,
            run.missing,
            if run.kept_up { "yes" } else { "**no**" },
            run.recorder_cpu_s_per_million,
            run.process_cpu_s_per_million,
            run.rss.warm_mib,
            run.rss.end_mib,
            run.rss.growth_after_warm_up_mib,
            run.file_bytes as f64 / 1e6,
            run.file_bytes_per_envelope,
            run.compression,
        );
    };
    line("raw", &record.raw);
    line("hermes", &record.hermes);
    line("raw", &record.raw_default_hwm);
    line("hermes", &record.hermes_default_hwm);
    if let Some(run) = &record.hermes_capture {
        line("hermes, proxy capture", run);
    }
    for step in &record.ladder {
        if let Some(run) = &step.raw {
            line("raw", run);
        }
        if let Some(run) = &step.hermes {
            line("hermes", run);
        }
    }
    let _ = writeln!(
        out,
        "\nHighest rate kept up with: raw {} env/s, hermes {} env/s; recorder CPU per envelope \
         hermes/raw {:.2}",
        thousands(record.raw_max_per_s),
        thousands(record.hermes_max_per_s),
        record.cpu_ratio
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(1_172_589.4), "1,172,589");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(payload_label(65_536), "64 KiB");
        assert_eq!(payload_label(64), "64 B");
    }

    #[test]
    fn every_target_is_in_the_one_targets_table() {
        let report = Report {
            idle: Some(Idle {
                seconds: 2.0,
                cpu_pct: 0.02,
            }),
            stall: Some(Stall {
                processes: vec![StallProcess {
                    role: "proxy".to_owned(),
                    bounded: true,
                    ..StallProcess::default()
                }],
                bounded: true,
                ..Stall::default()
            }),
            targets: vec![
                Target::at_least(
                    "proxy tcp 64 B: throughput hermes/raw".to_owned(),
                    0.9,
                    0.95,
                ),
                Target::below("idle node: % of a core".to_owned(), 0.02, 1.0),
                Target::at_most("stalled subscriber, proxy: RSS growth".to_owned(), 0.5, 1.0),
                Target::not_measured(
                    "proxy tcp 64 B, batching on: throughput hermes / Zenoh 1.x".to_owned(),
                    ">=",
                    1.0,
                    "built without a Zenoh peer".to_owned(),
                ),
            ],
            ..Report::default()
        };
        let text = report.render_table();
        let headers: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| line.starts_with("| target |"))
            .map(|(index, _)| index)
            .collect();
        assert_eq!(headers.len(), 1, "{text}");
        let table: Vec<&str> = text
            .lines()
            .skip(headers[0] + 2)
            .take_while(|line| line.starts_with('|'))
            .collect();
        assert_eq!(table.len(), report.targets.len(), "{text}");
        for (line, target) in table.iter().zip(&report.targets) {
            assert!(line.starts_with(&format!("| {} |", target.name)), "{line}");
        }
        assert!(table[0].ends_with("| **no** |"), "{}", table[0]);
        assert!(table[1].ends_with("| yes |"), "{}", table[1]);
        assert!(
            table[3].contains("| not measured: built without a Zenoh peer |")
                && table[3].ends_with("| **no** |"),
            "{}",
            table[3]
        );
    }

    #[test]
    fn a_target_not_measured_is_null_in_json_and_never_met() {
        let target = Target::not_measured("zenoh".to_owned(), ">=", 1.0, "no peer".to_owned());
        let json = serde_json::to_value(&target).expect("serialisable");
        assert!(json["value"].is_null(), "{json}");
        assert_eq!(json["met"], false);
        assert_eq!(json["note"], "no peer");
    }

    #[test]
    fn spread_reports_median_quartiles_and_range_of_the_rounds() {
        let (median, spread) = Spread::of(vec![0.9, 0.5, 0.8, 0.7, 0.6]);
        assert_eq!(median, 0.7);
        assert_eq!((spread.min, spread.max), (0.5, 0.9));
        assert!((spread.q1 - 0.6).abs() < 1e-12 && (spread.q3 - 0.8).abs() < 1e-12);
        assert_eq!(
            spread.rounds,
            vec![0.9, 0.5, 0.8, 0.7, 0.6],
            "round order kept"
        );
        assert_eq!(spread.range(), "0.50–0.90");
        let (median, spread) = Spread::of(Vec::new());
        assert_eq!((median, spread.min, spread.max), (0.0, 0.0, 0.0));
    }
}
