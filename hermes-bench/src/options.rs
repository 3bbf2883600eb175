//! What to measure: scenarios, transports, payload sizes and run lengths, from the command line.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use hermes_runtime::Codec;
use serde::{Deserialize, Serialize};

/// One thing `hermes-bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Typed publisher → typed receiver, connected directly.
    Direct,
    /// Typed publisher → proxy → typed receiver (capture off, protobuf).
    Proxy,
    /// Source → relay node → relay node → sink, each hop a direct connection.
    Pipeline,
    /// As `proxy`, with the proxy's capture socket on and a tap reading it.
    Capture,
    /// As `proxy`, with the publisher batching under load (`Batching::DEFAULT`: 50 µs, 64 KiB).
    Batched,
    /// As `proxy`, with the `json` codec.
    Json,
    /// As `proxy`, with the `python-json` codec (hermes-zmq 1.3's four frames).
    PythonJson,
    /// CPU used by a runtime with a proxy and a node and no traffic.
    Idle,
    /// RSS of a publisher, a proxy and a stalled subscriber, each in its own process, while the
    /// publisher sends at full rate.
    Stall,
    /// `hermes record`'s receive → record loop writing MCAP over tcp, the publisher paced at
    /// 200,000 envelopes a second of 64 B and then faster, against a raw SUB writing a file.
    Record,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 10] = [
        Scenario::Direct,
        Scenario::Proxy,
        Scenario::Batched,
        Scenario::Pipeline,
        Scenario::Capture,
        Scenario::Json,
        Scenario::PythonJson,
        Scenario::Idle,
        Scenario::Stall,
        Scenario::Record,
    ];

    /// The name used on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Scenario::Direct => "direct",
            Scenario::Proxy => "proxy",
            Scenario::Batched => "batched",
            Scenario::Pipeline => "pipeline",
            Scenario::Capture => "capture",
            Scenario::Json => "json",
            Scenario::PythonJson => "python-json",
            Scenario::Idle => "idle",
            Scenario::Stall => "stall",
            Scenario::Record => "record",
        }
    }

    /// Whether the scenario is a raw-versus-Hermes pair of message paths (a table row per
    /// transport and payload), rather than a single figure.
    pub const fn is_path(self) -> bool {
        !matches!(self, Scenario::Idle | Scenario::Stall | Scenario::Record)
    }

    /// Whether `--curve` measures the scenario with CURVE too: the direct and proxy paths,
    /// whose sockets the benchmark configures itself (the pipeline's relays are generated
    /// nodes, and the codec and capture variations add nothing CURVE changes).
    pub const fn carries_curve(self) -> bool {
        matches!(self, Scenario::Direct | Scenario::Proxy)
    }

    /// Whether the latency-under-load figure is measured on the scenario: the direct and proxy
    /// paths, the ones a latency-sensitive user runs (the rest vary what the proxy does).
    pub const fn carries_load(self) -> bool {
        matches!(self, Scenario::Direct | Scenario::Proxy)
    }

    /// The codec the Hermes side uses.
    pub const fn codec(self) -> Codec {
        match self {
            Scenario::Json => Codec::Json,
            Scenario::PythonJson => Codec::PythonJson,
            _ => Codec::Protobuf,
        }
    }

    /// Transports measured when `--transport` is not given.
    pub fn default_transports(self) -> &'static [Transport] {
        match self {
            Scenario::Proxy => &[Transport::Tcp, Transport::Ipc, Transport::Inproc],
            _ => &[Transport::Tcp],
        }
    }

    /// Payload sizes measured when `--payload` is not given: every size for the paths
    /// themselves, fewer for the variations on the proxy path (what capture or a codec costs
    /// shows at 64 B), so that a default run stays near 6 minutes.
    pub fn default_payloads(self) -> &'static [usize] {
        match self {
            Scenario::Direct | Scenario::Proxy => &[64, 1024, 65_536],
            Scenario::Pipeline | Scenario::Batched => &[64, 1024],
            _ => &[64],
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A ZeroMQ transport.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP over the loopback interface.
    #[default]
    Tcp,
    /// Unix domain sockets.
    Ipc,
    /// Within the process, no kernel involved.
    Inproc,
}

impl Transport {
    /// The name used on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Ipc => "ipc",
            Transport::Inproc => "inproc",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `hermes-bench` command line, for `#[command(flatten)]`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Scenarios to run (repeat or separate with commas); default: all.
    #[arg(
        long = "scenario",
        value_name = "NAME",
        value_enum,
        num_args = 1..,
        value_delimiter = ','
    )]
    pub scenarios: Vec<Scenario>,
    /// Transports for the message-path scenarios; default: tcp, ipc and inproc for `proxy`,
    /// tcp for the others.
    #[arg(
        long = "transport",
        value_name = "tcp|ipc|inproc",
        value_enum,
        num_args = 1..,
        value_delimiter = ','
    )]
    pub transports: Vec<Transport>,
    /// Payload sizes in bytes, `k`/`KiB` suffixes allowed; default: 64, 1KiB and 64KiB for
    /// direct and proxy, 64 and 1KiB for pipeline, 64 for the others.
    #[arg(
        long = "payload",
        value_name = "BYTES",
        num_args = 1..,
        value_delimiter = ',',
        value_parser = parse_size
    )]
    pub payloads: Vec<usize>,
    /// Seconds the source of each throughput, delivery, latency and round-trip run sends
    /// (default 0.1; a throughput run lasts until its backlog has arrived); each
    /// latency-under-load run lasts four times as long.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Rounds per figure (default 9): each round runs raw and Hermes once, back to back, in an
    /// order that rotates from round to round; each ratio is the median of the rounds' ratios.
    #[arg(long, value_name = "N")]
    pub runs: Option<usize>,
    /// Messages per second for the one-way latency figure.
    #[arg(long, value_name = "MSG/S", default_value_t = DEFAULT_RATE)]
    pub rate: u64,
    /// Loads of the latency-under-load figure, in percent of the path's maximum rate (the
    /// slower side's throughput); default 10, 50 and 90. Measured on the `direct` and `proxy`
    /// rows.
    #[arg(
        long = "load",
        value_name = "PERCENT",
        num_args = 1..,
        value_delimiter = ',',
        value_parser = clap::value_parser!(u32).range(1..=100),
        conflicts_with = "no_load"
    )]
    pub load: Vec<u32>,
    /// Skip the latency-under-load figure.
    #[arg(long)]
    pub no_load: bool,
    /// Seconds the subscriber of the `stall` scenario stays stalled.
    #[arg(long, value_name = "S")]
    pub stall: Option<f64>,
    /// Seconds of the `record` scenario's run at 200,000 envelopes a second (each side; each
    /// faster step takes half as long).
    #[arg(long, value_name = "S")]
    pub record: Option<f64>,
    /// Also measure the direct and proxy rows over tcp and ipc with CURVE: Hermes secured
    /// (CURVE, ZAP, per-sender topic checks) against raw libzmq with CURVE, and against
    /// Hermes without it (inproc has no CURVE; the other scenarios are measured without).
    #[arg(long)]
    pub curve: bool,
    /// A quick run for CI (about 10 s): 64-byte payloads only, one short run per figure, so
    /// ratios are rough.
    #[arg(long)]
    pub smoke: bool,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also draw throughput and latency by payload size as an SVG file, and latency under load
    /// beside it (`-load` added to the file's stem).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Draw the plot from a saved `--json` report instead of measuring.
    #[arg(long, value_name = "REPORT", requires = "plot")]
    pub plot_from: Option<PathBuf>,
    /// A child process's part in the `stall` scenario (internal).
    #[arg(long, hide = true, value_enum)]
    pub role: Option<crate::stall::Role>,
    /// The endpoint a child process connects to (internal).
    #[arg(long, hide = true)]
    pub endpoint: Option<String>,
}

/// Messages per second of the one-way latency figure unless `--rate` says otherwise.
pub const DEFAULT_RATE: u64 = 10_000;

/// Loads of the latency-under-load figure unless `--load` says otherwise, in percent of the
/// path's maximum rate.
pub const DEFAULT_LOAD: [u32; 3] = [10, 50, 90];

impl Default for Args {
    /// The arguments of a plain `hermes-bench`.
    fn default() -> Self {
        Args {
            scenarios: Vec::new(),
            transports: Vec::new(),
            payloads: Vec::new(),
            duration: None,
            runs: None,
            rate: DEFAULT_RATE,
            load: Vec::new(),
            no_load: false,
            stall: None,
            record: None,
            curve: false,
            smoke: false,
            json: false,
            plot: None,
            plot_from: None,
            role: None,
            endpoint: None,
        }
    }
}

/// Parses `64`, `1k`, `1KiB`, `64kb`, `1M`, `1MiB` as a byte count.
///
/// # Errors
///
/// A message naming the value when it is not a size.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let lower = text.trim().to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let scale = match unit {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        _ => {
            return Err(format!(
                "expected a size such as `64`, `1KiB` or `64k`, found `{text}`"
            ));
        }
    };
    let value: usize = digits
        .parse()
        .map_err(|_| format!("expected a size such as `64`, `1KiB` or `64k`, found `{text}`"))?;
    value
        .checked_mul(scale)
        .ok_or_else(|| format!("size `{text}` is too large"))
}

/// Smallest payload: the timestamp every message carries, and its framing.
pub const MIN_PAYLOAD: usize = 16;
/// Largest payload.
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// One raw-versus-Hermes pair of message paths to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSpec {
    /// The scenario.
    pub scenario: Scenario,
    /// The transport.
    pub transport: Transport,
    /// The payload size in bytes.
    pub payload: usize,
}

/// Everything [`run`](crate::run) needs, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The message-path rows, in order.
    pub rows: Vec<RowSpec>,
    /// The rows also measured with CURVE (`--curve`), in order.
    pub curve_rows: Vec<RowSpec>,
    /// Whether to measure an idle node's CPU.
    pub idle: bool,
    /// Whether to run the stalled-subscriber RSS check.
    pub stall: bool,
    /// How long each throughput run lasts.
    pub run_time: Duration,
    /// How long each delivery, one-way latency and round-trip run lasts.
    pub latency_time: Duration,
    /// Rounds per figure, each running every side once.
    pub rounds: usize,
    /// Messages per second for one-way latency.
    pub rate: u64,
    /// Loads of the latency-under-load figure, percent of the path's maximum rate; empty to
    /// skip it.
    pub load: Vec<u32>,
    /// How long each latency-under-load run lasts.
    pub load_time: Duration,
    /// How long the idle node is watched.
    pub idle_time: Duration,
    /// How long the stalled subscriber stays stalled.
    pub stall_time: Duration,
    /// Whether to measure the recorder (`record`).
    pub record: bool,
    /// How long each side records at the target rate.
    pub record_time: Duration,
    /// Whether this is a smoke run (recorded in the report).
    pub smoke: bool,
}

impl Default for Options {
    fn default() -> Self {
        Args::default()
            .options()
            .unwrap_or_else(|_| unreachable!("the default arguments are valid"))
    }
}

impl Args {
    /// Checks the arguments and expands the defaults.
    ///
    /// # Errors
    ///
    /// A message for the user when a value is out of range.
    pub fn options(&self) -> Result<Options, String> {
        let (default_run, default_runs, idle_time, default_stall, default_record) = if self.smoke {
            (0.02, 1, 0.3, 1.0, 0.3)
        } else {
            (0.1, 9, 2.0, 10.0, 3.0)
        };
        let run_time = self.duration.unwrap_or(default_run);
        if !(run_time.is_finite() && (0.001..=600.0).contains(&run_time)) {
            return Err(format!(
                "`--duration` expected seconds between 0.001 and 600, found {run_time}"
            ));
        }
        let rounds = self.runs.unwrap_or(default_runs);
        if !(1..=1000).contains(&rounds) {
            return Err(format!(
                "`--runs` expected a number from 1 to 1000, found {rounds}"
            ));
        }
        if !(1..=10_000_000).contains(&self.rate) {
            return Err(format!(
                "`--rate` expected 1 to 10000000 messages per second, found {}",
                self.rate
            ));
        }
        let stall = self.stall.unwrap_or(default_stall);
        if !(stall.is_finite() && (0.1..=600.0).contains(&stall)) {
            return Err(format!(
                "`--stall` expected seconds between 0.1 and 600, found {stall}"
            ));
        }
        let record = self.record.unwrap_or(default_record);
        if !(record.is_finite() && (0.1..=600.0).contains(&record)) {
            return Err(format!(
                "`--record` expected seconds between 0.1 and 600, found {record}"
            ));
        }
        for &payload in &self.payloads {
            if !(MIN_PAYLOAD..=MAX_PAYLOAD).contains(&payload) {
                return Err(format!(
                    "`--payload` expected {MIN_PAYLOAD} to {MAX_PAYLOAD} bytes, found {payload}"
                ));
            }
        }
        let scenarios: Vec<Scenario> = if self.scenarios.is_empty() {
            Scenario::ALL.to_vec()
        } else {
            Scenario::ALL
                .into_iter()
                .filter(|s| self.scenarios.contains(s))
                .collect()
        };
        let mut rows = Vec::new();
        for &scenario in scenarios.iter().filter(|s| s.is_path()) {
            let transports = if self.transports.is_empty() {
                scenario.default_transports()
            } else {
                &self.transports[..]
            };
            let payloads = if self.payloads.is_empty() {
                // A smoke run checks that every scenario works, not how it scales.
                if self.smoke {
                    &[64][..]
                } else {
                    scenario.default_payloads()
                }
            } else {
                &self.payloads[..]
            };
            for &transport in transports {
                for &payload in payloads {
                    rows.push(RowSpec {
                        scenario,
                        transport,
                        payload,
                    });
                }
            }
        }
        let curve_rows: Vec<RowSpec> = if self.curve {
            rows.iter()
                .copied()
                .filter(|row| row.scenario.carries_curve() && row.transport != Transport::Inproc)
                .collect()
        } else {
            Vec::new()
        };
        if self.curve && curve_rows.is_empty() {
            return Err(
                "`--curve` expected a `direct` or `proxy` row over tcp or ipc, found none\n\
                 help: add `--scenario proxy --transport tcp`"
                    .to_owned(),
            );
        }
        Ok(Options {
            rows,
            curve_rows,
            idle: scenarios.contains(&Scenario::Idle),
            stall: scenarios.contains(&Scenario::Stall),
            run_time: Duration::from_secs_f64(run_time),
            latency_time: Duration::from_secs_f64(run_time),
            rounds,
            rate: self.rate,
            load: if self.no_load {
                Vec::new()
            } else if self.load.is_empty() {
                DEFAULT_LOAD.to_vec()
            } else {
                let mut load = self.load.clone();
                load.sort_unstable();
                load.dedup();
                load
            },
            load_time: Duration::from_secs_f64(run_time * 4.0),
            idle_time: Duration::from_secs_f64(idle_time),
            stall_time: Duration::from_secs_f64(stall),
            record: scenarios.contains(&Scenario::Record),
            record_time: Duration::from_secs_f64(record),
            smoke: self.smoke,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_suffixes() {
        assert_eq!(parse_size("64"), Ok(64));
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("64k"), Ok(65_536));
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn defaults_cover_every_scenario() {
        let options = Options::default();
        // direct 3 payloads; proxy 3 transports × 3 payloads; batched and pipeline 2 each;
        // capture, json and python-json 1 each.
        assert_eq!(options.rows.len(), 3 + 9 + 2 + 2 + 3);
        assert!(options.idle && options.stall && options.record);
        assert!(options.curve_rows.is_empty());
        assert_eq!(options.rounds, 9);
        assert_eq!(options.load, DEFAULT_LOAD);
    }

    #[test]
    fn curve_rows_are_direct_and_proxy_over_tcp_and_ipc() {
        let args = Args {
            curve: true,
            payloads: vec![64, 1024],
            ..Args::default()
        };
        let options = args.options().expect("valid arguments");
        // direct tcp; proxy tcp and ipc; each at two payloads.
        assert_eq!(options.curve_rows.len(), 2 + 4);
        assert!(
            options
                .curve_rows
                .iter()
                .all(|row| { row.scenario.carries_curve() && row.transport != Transport::Inproc })
        );
    }

    #[test]
    fn curve_without_a_row_that_carries_it_is_refused() {
        let args = Args {
            curve: true,
            scenarios: vec![Scenario::Proxy],
            transports: vec![Transport::Inproc],
            ..Args::default()
        };
        assert!(args.options().unwrap_err().contains("`--curve`"));
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let args = Args {
            payloads: vec![8],
            ..Args::default()
        };
        assert!(args.options().unwrap_err().contains("`--payload`"));
        let args = Args {
            duration: Some(f64::NAN),
            ..Args::default()
        };
        assert!(args.options().is_err());
    }
}
