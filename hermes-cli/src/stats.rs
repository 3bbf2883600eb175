//! `hermes stats [TOPOLOGY]`: per-topic rate, bandwidth, lag and loss, live or as one report.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use hermes_runtime::{Context, Error, RawEnvelope, SecurityReport, SecurityStats};
use serde_json::{Value, json};

use crate::interrupt::Interrupt;
use crate::listen::NotEnvelopes;
use crate::tap::{Decoder, lag_ns, seconds, split_arguments};
use crate::topology;
use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Lag samples kept per topic; past it the oldest are overwritten.
const MAX_LAG_SAMPLES: usize = 100_000;

/// Arguments of `hermes stats`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "hermes stats [OPTIONS] [TOPOLOGY] [TOPIC]...",
    after_help = "\
Live, the table is redrawn every second: rate, bandwidth and lag over the last second, lost \
and received since the start. With `--json`, one report over the whole `--duration` is \
printed and stats exits.

On a secured topology, each proxy's security report (topic `hermes/security/<proxy>`) adds \
its refused connections, dropped publications and dropped subscriptions to the output.

Lag is the receiving clock minus the envelope's send timestamp (one-way, so across machines it \
includes their clock offset). Lost envelopes are gaps in each publisher's per-topic sequence \
numbers; python-json envelopes carry none, so their loss is not counted.

Examples:
  hermes stats
  hermes stats trading/topology.yaml --proxy market quotes
  hermes stats topology.yaml --json --duration 10 > report.json"
)]
pub struct Args {
    /// The topology (default `./topology.yaml`), then topic prefixes to count (default all).
    #[arg(value_name = "TOPOLOGY_AND_TOPICS")]
    arguments: Vec<String>,
    #[command(flatten)]
    source: crate::listen::Source,
    /// Stop after this many seconds (default: until Ctrl-C; 5 with `--json`).
    #[arg(long, value_name = "S")]
    duration: Option<f64>,
    /// Print one JSON report after `--duration` instead of a live table.
    #[arg(long)]
    json: bool,
}

/// Counters of one topic.
#[derive(Debug, Default)]
struct TopicStats {
    message: Option<String>,
    received: u64,
    bytes: u64,
    lost: u64,
    out_of_order: u64,
    restarts: u64,
    lags_ns: Vec<u64>,
    lag_cursor: usize,
    max_lag_ns: u64,
    window_received: u64,
    window_bytes: u64,
    window_lags_ns: Vec<u64>,
}

/// Sequence state of one publisher on one topic.
#[derive(Debug)]
struct Sequence {
    epoch: u32,
    next: u64,
}

/// What the counters need of one envelope.
#[derive(Debug)]
struct Sample<'a> {
    topic: &'a str,
    origin: &'a str,
    epoch: u32,
    seq: u64,
    lag_ns: u64,
    wire_size: usize,
}

impl<'a> Sample<'a> {
    fn of(received: &'a RawEnvelope) -> Sample<'a> {
        Sample {
            topic: &received.topic,
            origin: &received.origin,
            epoch: received.epoch,
            seq: received.seq,
            lag_ns: lag_ns(received),
            wire_size: received.wire_size,
        }
    }
}

/// Everything counted so far.
#[derive(Debug, Default)]
struct Counters {
    topics: BTreeMap<String, TopicStats>,
    sequences: HashMap<(String, String), Sequence>,
    malformed: u64,
    /// The latest security report of each secured proxy, by name.
    security: BTreeMap<String, SecurityStats>,
}

impl Counters {
    fn record(&mut self, received: &Sample<'_>, message: Option<String>) {
        let lag = received.lag_ns;
        let stats = self.topics.entry(received.topic.to_owned()).or_default();
        if stats.message.is_none() {
            stats.message = message;
        }
        stats.received += 1;
        stats.bytes += received.wire_size as u64;
        stats.window_received += 1;
        stats.window_bytes += received.wire_size as u64;
        stats.max_lag_ns = stats.max_lag_ns.max(lag);
        if stats.lags_ns.len() < MAX_LAG_SAMPLES {
            stats.lags_ns.push(lag);
        } else {
            stats.lags_ns[stats.lag_cursor] = lag;
            stats.lag_cursor = (stats.lag_cursor + 1) % MAX_LAG_SAMPLES;
        }
        if stats.window_lags_ns.len() < MAX_LAG_SAMPLES {
            stats.window_lags_ns.push(lag);
        }
        if received.epoch == 0 {
            return; // python-json: no sequence numbers
        }
        let key = (received.origin.to_owned(), received.topic.to_owned());
        match self.sequences.get_mut(&key) {
            Some(sequence) if sequence.epoch != received.epoch => {
                stats.restarts += 1;
                *sequence = Sequence {
                    epoch: received.epoch,
                    next: received.seq.wrapping_add(1),
                };
            }
            Some(sequence) if received.seq >= sequence.next => {
                stats.lost += received.seq - sequence.next;
                sequence.next = received.seq.wrapping_add(1);
            }
            Some(_) => stats.out_of_order += 1,
            // The first envelope seen from a publisher starts its sequence; it is no gap.
            None => {
                self.sequences.insert(
                    key,
                    Sequence {
                        epoch: received.epoch,
                        next: received.seq.wrapping_add(1),
                    },
                );
            }
        }
    }

    fn publishers(&self, topic: &str) -> usize {
        self.sequences.keys().filter(|(_, t)| t == topic).count()
    }
}

/// The nearest-rank percentile `p` (0–100) of `samples`, in milliseconds.
fn percentile_ms(samples: &[u64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let value = sorted[rank.clamp(1, sorted.len()) - 1];
    Some(value as f64 / 1e6)
}

/// Runs stats and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let (path, topics) = split_arguments(&args.arguments);
    let loaded = match topology::load(&path) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let duration = match args
        .duration
        .or(args.json.then_some(5.0))
        .map(|s| seconds(s, "--duration"))
        .transpose()
    {
        Ok(duration) => duration,
        Err(error) => {
            eprintln!("error: {error}");
            return USAGE_OR_IO;
        }
    };
    let context = Context::new();
    let mut topics = topics;
    if args.source.operator.secured(&loaded) && !topics.is_empty() {
        // Security reports come whatever topics are counted.
        topics.push(SecurityReport::TOPIC_PREFIX.to_owned());
    }
    let (endpoint, mut receiver) = match args.source.connect(&loaded, &context, &topics) {
        Ok(connected) => connected,
        Err(error) => {
            eprintln!("error: {error}");
            return USAGE_OR_IO;
        }
    };
    let decoder = Decoder::new(&loaded);
    let interrupt = Interrupt::install();
    let live = !args.json;
    let terminal = std::io::stdout().is_terminal();
    if live {
        eprintln!("listening to {endpoint} (Ctrl-C to stop)");
    }
    let start = Instant::now();
    let end = duration.map(|duration| start + duration);
    let mut counters = Counters::default();
    let mut not_envelopes = NotEnvelopes::new();
    let mut window_start = start;
    loop {
        let now = Instant::now();
        if let Some(warning) = not_envelopes.due(&receiver, now) {
            eprintln!("{warning}");
        }
        if interrupt.is_set() || end.is_some_and(|end| now >= end) {
            break;
        }
        if live && now.duration_since(window_start) >= Duration::from_secs(1) {
            let table = render_table(&counters, now.duration_since(window_start), &endpoint);
            let clear = if terminal { "\x1b[2J\x1b[H" } else { "" };
            let mut out = std::io::stdout().lock();
            if write!(out, "{clear}{table}")
                .and_then(|()| out.flush())
                .is_err()
            {
                return SUCCESS;
            }
            for stats in counters.topics.values_mut() {
                stats.window_received = 0;
                stats.window_bytes = 0;
                stats.window_lags_ns.clear();
            }
            window_start = now;
        }
        let wait = end.map_or(Duration::from_millis(100), |end| {
            end.saturating_duration_since(now)
                .min(Duration::from_millis(100))
        });
        match receiver.recv_timeout(wait) {
            Ok(received) => {
                if SecurityReport::is_report_topic(&received.topic)
                    && let Ok(report) = received.decode::<SecurityReport>()
                {
                    let report = report.message;
                    counters.security.insert(report.proxy, report.stats);
                    continue;
                }
                let message = decoder.message_of(&received);
                counters.record(&Sample::of(&received), message);
            }
            Err(Error::Timeout) => {}
            // Ctrl-C or SIGTERM interrupted the wait: report what was counted.
            Err(_) if interrupt.is_set() => break,
            Err(error) => {
                eprintln!("error: cannot receive from `{endpoint}`: {error}");
                return FINDINGS;
            }
        }
    }
    if let Some(warning) = not_envelopes.rest(&receiver) {
        eprintln!("{warning}");
    }
    counters.malformed = receiver.stats().decode_errors;
    let elapsed = start.elapsed();
    if args.json {
        println!("{}", report(&counters, elapsed, &endpoint));
    } else {
        print!("{}", render_table_totals(&counters, elapsed));
    }
    SUCCESS
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    let count = count as f64;
    count / elapsed.as_secs_f64().max(1e-3)
}

/// The one-shot JSON report over the whole run.
fn report(counters: &Counters, elapsed: Duration, endpoint: &str) -> Value {
    let topics: Vec<Value> = counters
        .topics
        .iter()
        .map(|(topic, stats)| {
            json!({
                "topic": topic,
                "message": stats.message,
                "received": stats.received,
                "lost": stats.lost,
                "out_of_order": stats.out_of_order,
                "publisher_restarts": stats.restarts,
                "publishers": counters.publishers(topic),
                "rate_hz": per_second(stats.received, elapsed),
                "bytes": stats.bytes,
                "bandwidth_bytes_per_s": per_second(stats.bytes, elapsed),
                "lag_ms": {
                    "p50": percentile_ms(&stats.lags_ns, 50.0),
                    "p99": percentile_ms(&stats.lags_ns, 99.0),
                    "max": stats.max_lag_ns as f64 / 1e6,
                },
            })
        })
        .collect();
    let mut report = json!({
        "endpoint": endpoint,
        "duration_s": elapsed.as_secs_f64(),
        "received": counters.topics.values().map(|s| s.received).sum::<u64>(),
        "lost": counters.topics.values().map(|s| s.lost).sum::<u64>(),
        "malformed": counters.malformed,
        "topics": topics,
    });
    if !counters.security.is_empty() {
        let security: Vec<Value> = counters
            .security
            .iter()
            .map(|(proxy, stats)| {
                json!({
                    "proxy": proxy,
                    "refused_connections": stats.refused_connections,
                    "dropped_publications": stats.dropped_publications,
                    "dropped_subscriptions": stats.dropped_subscriptions,
                })
            })
            .collect();
        report["security"] = Value::Array(security);
    }
    report
}

/// The security section of the tables: one row per secured proxy; empty without reports.
fn render_security(counters: &Counters) -> String {
    if counters.security.is_empty() {
        return String::new();
    }
    const HEADER: [&str; 4] = [
        "PROXY",
        "REFUSED CONNECTIONS",
        "DROPPED PUBLICATIONS",
        "DROPPED SUBSCRIPTIONS",
    ];
    let rows: Vec<[String; 4]> = counters
        .security
        .iter()
        .map(|(proxy, stats)| {
            [
                proxy.clone(),
                stats.refused_connections.to_string(),
                stats.dropped_publications.to_string(),
                stats.dropped_subscriptions.to_string(),
            ]
        })
        .collect();
    format!("\nsecurity:\n{}", aligned(HEADER, &rows, 1))
}

/// `rows` under `header`, in columns as wide as their widest cell, the first `left` columns
/// aligned left and the others (numbers) right.
fn aligned<const N: usize>(header: [&str; N], rows: &[[String; N]], left: usize) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(column, (cell, width))| {
                if column < left {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn bandwidth(bytes_per_second: f64) -> String {
    if bytes_per_second >= 1e6 {
        format!("{:.1} MB/s", bytes_per_second / 1e6)
    } else if bytes_per_second >= 1e3 {
        format!("{:.1} kB/s", bytes_per_second / 1e3)
    } else {
        format!("{bytes_per_second:.0} B/s")
    }
}

fn millis(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |ms| format!("{ms:.2}ms"))
}

const HEADER: [&str; 8] = [
    "TOPIC",
    "MESSAGE",
    "MSG/S",
    "BANDWIDTH",
    "LAG P50",
    "LAG P99",
    "LOST",
    "RECEIVED",
];

fn table(rows: Vec<[String; 8]>) -> String {
    aligned(HEADER, &rows, 2)
}

/// The live table: the last window's rates and lags, totals of loss and receipts.
fn render_table(counters: &Counters, window: Duration, endpoint: &str) -> String {
    let rows = counters
        .topics
        .iter()
        .map(|(topic, stats)| {
            [
                topic.clone(),
                stats.message.clone().unwrap_or_else(|| "?".into()),
                format!("{:.1}", per_second(stats.window_received, window)),
                bandwidth(per_second(stats.window_bytes, window)),
                millis(percentile_ms(&stats.window_lags_ns, 50.0)),
                millis(percentile_ms(&stats.window_lags_ns, 99.0)),
                stats.lost.to_string(),
                stats.received.to_string(),
            ]
        })
        .collect();
    let mut out = format!("hermes stats: {endpoint} (last second; Ctrl-C to stop)\n\n");
    out.push_str(&table(rows));
    if counters.topics.is_empty() {
        out.push_str("(no envelopes yet)\n");
    }
    out.push_str(&render_security(counters));
    out
}

/// The final table after a live run: averages over the whole run.
fn render_table_totals(counters: &Counters, elapsed: Duration) -> String {
    let rows = counters
        .topics
        .iter()
        .map(|(topic, stats)| {
            [
                topic.clone(),
                stats.message.clone().unwrap_or_else(|| "?".into()),
                format!("{:.1}", per_second(stats.received, elapsed)),
                bandwidth(per_second(stats.bytes, elapsed)),
                millis(percentile_ms(&stats.lags_ns, 50.0)),
                millis(percentile_ms(&stats.lags_ns, 99.0)),
                stats.lost.to_string(),
                stats.received.to_string(),
            ]
        })
        .collect();
    format!(
        "\nover {:.1}s:\n{}{}",
        elapsed.as_secs_f64(),
        table(rows),
        render_security(counters)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(origin: &str, epoch: u32, seq: u64) -> Sample<'_> {
        Sample {
            topic: "ticks",
            origin,
            epoch,
            seq,
            lag_ns: 1_000_000,
            wire_size: 30,
        }
    }

    #[test]
    fn gaps_in_sequence_numbers_count_as_lost() {
        let mut counters = Counters::default();
        for seq in [5, 6, 9, 10, 14] {
            counters.record(&envelope("a", 1, seq), None);
        }
        assert_eq!(counters.topics["ticks"].lost, 2 + 3);
        assert_eq!(counters.topics["ticks"].received, 5);
    }

    #[test]
    fn a_new_epoch_restarts_the_sequence_without_loss() {
        let mut counters = Counters::default();
        counters.record(&envelope("a", 1, 100), None);
        counters.record(&envelope("a", 2, 0), None);
        counters.record(&envelope("a", 2, 1), None);
        let stats = &counters.topics["ticks"];
        assert_eq!((stats.lost, stats.restarts), (0, 1));
    }

    #[test]
    fn publishers_are_tracked_apart() {
        let mut counters = Counters::default();
        counters.record(&envelope("a", 1, 0), None);
        counters.record(&envelope("b", 7, 50), None);
        counters.record(&envelope("a", 1, 1), None);
        counters.record(&envelope("b", 7, 52), None);
        assert_eq!(counters.topics["ticks"].lost, 1);
        assert_eq!(counters.publishers("ticks"), 2);
    }

    #[test]
    fn security_counts_show_only_when_a_proxy_reported_them() {
        let mut counters = Counters::default();
        let quiet = report(&counters, Duration::from_secs(1), "tcp://x:1");
        assert!(quiet.get("security").is_none());
        assert_eq!(render_security(&counters), "");
        let mut stats = SecurityStats::default();
        stats.refused_connections = 4;
        stats.dropped_publications = 2;
        counters.security.insert("hub".to_owned(), stats);
        let loud = report(&counters, Duration::from_secs(1), "tcp://x:1");
        assert_eq!(
            loud["security"],
            json!([{"proxy": "hub", "refused_connections": 4, "dropped_publications": 2, "dropped_subscriptions": 0}])
        );
        let table = render_security(&counters);
        assert!(table.contains("PROXY  REFUSED CONNECTIONS"), "{table}");
        assert!(table.lines().last().unwrap().starts_with("hub"), "{table}");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<u64> = (1..=100).map(|ms| ms * 1_000_000).collect();
        assert_eq!(percentile_ms(&samples, 50.0), Some(50.0));
        assert_eq!(percentile_ms(&samples, 99.0), Some(99.0));
        assert_eq!(percentile_ms(&[], 50.0), None);
    }
}
