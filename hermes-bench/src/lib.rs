//! # hermes-bench
//!
//! Every Hermes message path measured side by side with raw libzmq doing the same job (same transport, same payload bytes, same proxy topology) in the same run, so the
//! ratio holds on any machine.
//!
//! Each figure alternates raw and Hermes runs (`--runs`, default 5) and reports medians:
//! throughput with unlimited high-water marks, delivery and drops at the default high-water
//! mark, one-way latency at a fixed rate, round trips, CPU per million messages and peak RSS;
//! then the CPU of an idle runtime, the RSS of three processes while a subscriber stalls, and
//! the recorder (`hermes record`'s receive → record loop writing MCAP) at 200,000 envelopes a
//! second and faster, against raw libzmq writing the same payloads to a file.
//! With `--curve` ([`Options::curve_rows`]), the direct and proxy paths over tcp and ipc are
//! also measured with CURVE ([`CurveRow`]): secured Hermes against raw libzmq with CURVE, and
//! against unsecured Hermes.
//!
//! ```no_run
//! use hermes_bench::{Args, Scenario};
//!
//! let args = Args { scenarios: vec![Scenario::Proxy], payloads: vec![64], ..Args::default() };
//! let report = hermes_bench::run(&args.options()?);
//! println!("{}", report.render_table());
//! # Ok::<(), String>(())
//! ```
//!
//! The `hermes-bench` program parses [`Args`] and calls [`execute`]:
//!
//! ```text
//! cargo run --release -p hermes-bench -- --scenario proxy --transport tcp --payload 64
//! ```
//!
//! It is a program of its own, not a subcommand of `hermes`, so that plotting, `/proc` scraping
//! and the helper roles of the `stall` scenario stay out of the product binary.

mod measure;
mod message;
mod options;
mod path;
mod pipeline;
pub mod plot;
mod record;
mod report;
mod stall;
#[cfg(feature = "zenoh")]
pub mod zenoh_peer;

use std::process::ExitCode;
use std::time::{Duration, Instant};

pub use options::{
    Args, MAX_PAYLOAD, MIN_PAYLOAD, Options, RowSpec, Scenario, Transport, parse_size,
};
pub use report::{
    CurveLatency, CurveRow, CurveThroughput, Delivered, Delivery, Idle, Latency, Machine,
    Percentiles, Rate, Record, RecordRun, RecordStep, Report, Row, RssTrace, Settings, Stall,
    StallProcess, Target, Throughput,
};
pub use stall::{Role, STALL_PAYLOAD, run_role};

use measure::{Flood, median, process_cpu, quantile};
use path::{Side, open};

/// Runs every figure `options` asks for and returns the report; failures are recorded in
/// [`Report::errors`] and the run goes on.
pub fn run(options: &Options) -> Report {
    run_with_progress(options, &mut |_| {})
}

/// As [`run`], calling `progress` with a line before each step.
pub fn run_with_progress(options: &Options, progress: &mut dyn FnMut(&str)) -> Report {
    let started = Instant::now();
    let mut report = Report {
        machine: machine(),
        settings: Settings {
            run_s: options.run_time.as_secs_f64(),
            runs: options.runs,
            latency_rate: options.rate,
            smoke: options.smoke,
        },
        ..Report::default()
    };
    for (i, spec) in options.rows.iter().enumerate() {
        progress(&format!(
            "[{}/{}] {} {} {} B",
            i + 1,
            options.rows.len(),
            spec.scenario,
            spec.transport,
            spec.payload
        ));
        match measure_row(spec, options) {
            Ok(row) => report.rows.push(row),
            Err(err) => report.errors.push(format!(
                "{} {} {} B: {err}",
                spec.scenario, spec.transport, spec.payload
            )),
        }
    }
    if !options.curve_rows.is_empty() && zmq::has("curve") != Some(true) {
        report
            .errors
            .push("curve: this libzmq was built without CURVE".to_owned());
    } else {
        for (i, spec) in options.curve_rows.iter().enumerate() {
            progress(&format!(
                "[{}/{}] {} {} {} B, CURVE",
                i + 1,
                options.curve_rows.len(),
                spec.scenario,
                spec.transport,
                spec.payload
            ));
            match measure_curve_row(spec, options) {
                Ok(row) => report.curve.push(row),
                Err(err) => report.errors.push(format!(
                    "{} {} {} B, CURVE: {err}",
                    spec.scenario, spec.transport, spec.payload
                )),
            }
        }
    }
    if options.idle {
        progress("idle runtime");
        match idle_cpu(options.idle_time) {
            Ok(idle) => report.idle = Some(idle),
            Err(err) => report.errors.push(format!("idle: {err}")),
        }
    }
    if options.stall {
        progress("stalled subscriber");
        match stall::check(options) {
            Ok(stall) => report.stall = Some(stall),
            Err(err) => report.errors.push(format!("stall: {err}")),
        }
    }
    if options.record {
        match record::check(options, progress) {
            Ok(record) => report.record = Some(record),
            Err(err) => report.errors.push(format!("record: {err}")),
        }
    }
    report.targets = targets(&report);
    report.elapsed_s = started.elapsed().as_secs_f64();
    report
}

/// The sides in the order of run `run`: alternating which goes first cancels drift.
fn order<T: Copy>(run: usize, sides: &[T]) -> Vec<T> {
    let mut sides = sides.to_vec();
    let shift = run % sides.len();
    sides.rotate_left(shift);
    sides
}

fn measure_row(spec: &RowSpec, options: &Options) -> Result<Row, String> {
    let (wire_hermes, wire_raw) = path::wire_bytes(spec);
    let padding = wire_hermes.saturating_sub(wire_raw);
    let raw = Side::Raw {
        padding: 0,
        curve: false,
    };
    let padded = Side::Raw {
        padding,
        curve: false,
    };
    let hermes = Side::Hermes { curve: false };
    let run_time = options.run_time;

    // Throughput, nothing dropped.
    let mut floods: [Vec<Flood>; 3] = Default::default();
    for run in 0..options.runs {
        for (index, side) in order(run, &[(0, raw), (1, padded), (2, hermes)]) {
            let mut path = open(spec, side, 0)?;
            path.warm_up()?;
            floods[index].push(measure::flood(path, run_time, spec.payload, false)?);
        }
    }
    let throughput = {
        let raw = rate(&floods[0], spec.payload);
        let raw_padded = rate(&floods[1], spec.payload);
        let hermes = rate(&floods[2], spec.payload);
        Throughput {
            ratio: ratio(hermes.msg_per_s, raw.msg_per_s),
            ratio_vs_padded: ratio(hermes.msg_per_s, raw_padded.msg_per_s),
            raw,
            raw_padded,
            hermes,
        }
    };

    // The default high-water mark: what arrives when the publisher outruns the rest.
    let default_hwm = 1000;
    let mut lossy: [Vec<Flood>; 2] = Default::default();
    for run in 0..options.runs {
        for (index, side) in order(run, &[(0, raw), (1, hermes)]) {
            let mut path = open(spec, side, default_hwm)?;
            path.warm_up()?;
            lossy[index].push(measure::flood(path, run_time, spec.payload, true)?);
        }
    }
    let delivered = |floods: &[Flood]| Delivered {
        sent_per_s: median(
            &floods
                .iter()
                .map(|f| f.sent as f64 / f.send_time.as_secs_f64().max(1e-9))
                .collect::<Vec<_>>(),
        ),
        delivered_per_s: median(&floods.iter().map(Flood::rate).collect::<Vec<_>>()),
        dropped_pct: median(
            &floods
                .iter()
                .map(|f| 100.0 * f.sent.saturating_sub(f.received) as f64 / f.sent.max(1) as f64)
                .collect::<Vec<_>>(),
        ),
    };
    let default_hwm = {
        let (raw, hermes) = (delivered(&lossy[0]), delivered(&lossy[1]));
        Delivery {
            hwm: default_hwm,
            ratio: ratio(hermes.delivered_per_s, raw.delivered_per_s),
            raw,
            hermes,
        }
    };

    // One-way latency at a fixed rate, and round trips.
    let mut one_way: [Vec<u64>; 2] = Default::default();
    let mut round: [Vec<u64>; 2] = Default::default();
    for run in 0..options.runs {
        for (index, side) in order(run, &[(0, raw), (1, hermes)]) {
            let mut path = open(spec, side, default_hwm.hwm)?;
            path.warm_up()?;
            one_way[index].extend(measure::paced(path, options.rate, run_time)?);
        }
        for (index, side) in order(run, &[(0, raw), (1, hermes)]) {
            let mut forward = open(spec, side, default_hwm.hwm)?;
            let mut back = open(spec, side, default_hwm.hwm)?;
            forward.warm_up()?;
            back.warm_up()?;
            round[index].extend(measure::round_trips(forward, back, run_time)?);
        }
    }
    let latency = |samples: &mut [Vec<u64>; 2], rate: u64| {
        let [raw, hermes] = samples;
        let (raw, hermes) = (percentiles(raw), percentiles(hermes));
        Latency {
            rate,
            ratio_p50: ratio(hermes.p50_us, raw.p50_us),
            ratio_p99: ratio(hermes.p99_us, raw.p99_us),
            raw,
            hermes,
        }
    };
    Ok(Row {
        scenario: spec.scenario,
        transport: spec.transport,
        payload_bytes: spec.payload,
        codec: spec.scenario.codec().to_string(),
        wire_bytes_raw: wire_raw,
        wire_bytes_hermes: wire_hermes,
        throughput,
        default_hwm,
        latency: latency(&mut one_way, options.rate),
        round_trip: latency(&mut round, 0),
    })
}

/// The CURVE figures of `spec` (`--curve`): raw and Hermes, each with and without CURVE, in
/// alternating runs; throughput with unlimited high-water marks, and one-way latency.
fn measure_curve_row(spec: &RowSpec, options: &Options) -> Result<CurveRow, String> {
    let sides = [
        (
            0,
            Side::Raw {
                padding: 0,
                curve: false,
            },
        ),
        (
            1,
            Side::Raw {
                padding: 0,
                curve: true,
            },
        ),
        (2, Side::Hermes { curve: false }),
        (3, Side::Hermes { curve: true }),
    ];
    let mut floods: [Vec<Flood>; 4] = Default::default();
    for run in 0..options.runs {
        for (index, side) in order(run, &sides) {
            let mut path = open(spec, side, 0)?;
            path.warm_up()?;
            floods[index].push(measure::flood(path, options.run_time, spec.payload, false)?);
        }
    }
    let [raw, raw_curve, hermes, hermes_curve] = floods.map(|floods| rate(&floods, spec.payload));
    let throughput = CurveThroughput {
        ratio: ratio(hermes_curve.msg_per_s, raw_curve.msg_per_s),
        ratio_vs_unsecured: ratio(hermes_curve.msg_per_s, hermes.msg_per_s),
        raw_ratio: ratio(raw_curve.msg_per_s, raw.msg_per_s),
        raw,
        raw_curve,
        hermes,
        hermes_curve,
    };
    let mut one_way: [Vec<u64>; 4] = Default::default();
    for run in 0..options.runs {
        for (index, side) in order(run, &sides) {
            let mut path = open(spec, side, 1000)?;
            path.warm_up()?;
            one_way[index].extend(measure::paced(path, options.rate, options.run_time)?);
        }
    }
    let [raw, raw_curve, hermes, hermes_curve] =
        one_way.map(|mut samples| percentiles(&mut samples));
    let latency = CurveLatency {
        rate: options.rate,
        ratio_p50: ratio(hermes_curve.p50_us, raw_curve.p50_us),
        ratio_p99: ratio(hermes_curve.p99_us, raw_curve.p99_us),
        ratio_p50_vs_unsecured: ratio(hermes_curve.p50_us, hermes.p50_us),
        ratio_p99_vs_unsecured: ratio(hermes_curve.p99_us, hermes.p99_us),
        raw,
        raw_curve,
        hermes,
        hermes_curve,
    };
    Ok(CurveRow {
        scenario: spec.scenario,
        transport: spec.transport,
        payload_bytes: spec.payload,
        throughput,
        latency,
    })
}

/// One side's throughput figures from its flood runs with `bytes` of payload: medians, and the
/// largest peak RSS.
fn rate(floods: &[Flood], bytes: usize) -> Rate {
    Rate {
        msg_per_s: median(&floods.iter().map(Flood::rate).collect::<Vec<_>>()),
        mb_per_s: median(
            &floods
                .iter()
                .map(|f| f.rate() * bytes as f64 / 1e6)
                .collect::<Vec<_>>(),
        ),
        cpu_s_per_million: median(
            &floods
                .iter()
                .map(|f| f.cpu.as_secs_f64() * 1e6 / f.received.max(1) as f64)
                .collect::<Vec<_>>(),
        ),
        peak_rss_mib: floods
            .iter()
            .filter_map(|f| f.peak_rss_kib)
            .max()
            .unwrap_or(0) as f64
            / 1024.0,
        runs_msg_per_s: floods.iter().map(Flood::rate).collect(),
    }
}

fn ratio(hermes: f64, raw: f64) -> f64 {
    if raw > 0.0 { hermes / raw } else { 0.0 }
}

fn percentiles(samples: &mut [u64]) -> Percentiles {
    samples.sort_unstable();
    let us = |q| quantile(samples, q) as f64 / 1000.0;
    Percentiles {
        samples: samples.len(),
        p50_us: us(0.5),
        p99_us: us(0.99),
        p999_us: us(0.999),
    }
}

/// CPU share of a runtime with a proxy and a node that waits for input that never comes.
fn idle_cpu(watch: Duration) -> Result<Idle, String> {
    use hermes_runtime::{Node, ProxyConfig, Receiver, Runtime};
    let error = |err: hermes_runtime::Error| err.to_string();
    let mut runtime = Runtime::new().map_err(error)?;
    let proxy = runtime
        .spawn_proxy(
            "idle",
            ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
        )
        .map_err(error)?;
    let inbox = Receiver::<message::Blob>::builder(runtime.context())
        .topic("never")
        .connect(&proxy.backend)
        .map_err(error)?;
    runtime
        .spawn_node(Node::new("idle", ()).subscribe(inbox, |_, _| Ok(())))
        .map_err(error)?;
    let stop = runtime.shutdown();
    let waiter = std::thread::spawn(move || runtime.wait_timeout(Duration::from_secs(600)));
    std::thread::sleep(Duration::from_millis(200));
    let (before, started) = (process_cpu(), Instant::now());
    std::thread::sleep(watch);
    let used = process_cpu().saturating_sub(before);
    let seconds = started.elapsed().as_secs_f64();
    stop.trigger();
    let _ = waiter.join();
    Ok(Idle {
        seconds,
        cpu_pct: 100.0 * used.as_secs_f64() / seconds,
    })
}

/// The issue's targets, from the rows and figures that were measured.
fn targets(report: &Report) -> Vec<Target> {
    let mut targets = Vec::new();
    for row in &report.rows {
        if row.scenario == Scenario::Proxy && matches!(row.payload_bytes, 64 | 1024) {
            let name = format!("proxy {} {} B", row.transport, row.payload_bytes);
            targets.push(Target::at_least(
                format!("{name}: throughput hermes/raw"),
                row.throughput.ratio,
                0.95,
            ));
            targets.push(Target::at_most(
                format!("{name}: p50 latency hermes/raw"),
                row.latency.ratio_p50,
                1.1,
            ));
        }
    }
    if let Some(idle) = &report.idle {
        targets.push(Target::at_most(
            "idle node: % of a core".to_owned(),
            idle.cpu_pct,
            1.0,
        ));
    }
    if let Some(stall) = &report.stall {
        for process in &stall.processes {
            let limit_mib = stall::limit_kib((process.bound_mib * 1024.0) as u64) as f64 / 1024.0;
            targets.push(Target::at_most(
                format!(
                    "stalled subscriber, {}: RSS growth / (queues × HWM × message + 10 % + 2 MiB) \
                     ({:.1} of {:.1} MiB)",
                    process.role, process.growth_mib, limit_mib
                ),
                process.growth_mib / limit_mib.max(f64::MIN_POSITIVE),
                1.0,
            ));
        }
    }
    if let Some(record) = &report.record {
        let run = &record.hermes;
        // The rate kept up with: what was offered when every envelope was recorded in time,
        // else what was recorded.
        let rate = if run.kept_up {
            run.offered_per_s
        } else {
            run.recorded_per_s
        };
        targets.push(Target::at_least_and(
            format!(
                "record {} {} B: envelopes/s kept up with, 0 sequence gaps ({} gaps, {} missing)",
                record.transport, record.payload_bytes, run.gaps, run.missing
            ),
            rate,
            record.target_rate as f64,
            run.kept_up && run.gaps == 0,
        ));
        // Bounded: after warm-up, no more than the chunk being built (1 MiB), its compressed
        // copy and 2 MiB for the allocator and socket buffers.
        targets.push(Target::at_most(
            format!(
                "record {} {} B: RSS growth after warm-up, MiB (1 MiB chunk + its compressed copy \
                 + 2 MiB)",
                record.transport, record.payload_bytes
            ),
            run.rss.growth_after_warm_up_mib,
            4.0,
        ));
    }
    targets
}

fn machine() -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu_model = read("/proc/cpuinfo")
        .lines()
        .find_map(|line| {
            Some(
                line.strip_prefix("model name")?
                    .split_once(':')?
                    .1
                    .trim()
                    .to_owned(),
            )
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let mut load_average = [0.0; 3];
    for (slot, value) in load_average
        .iter_mut()
        .zip(read("/proc/loadavg").split_whitespace())
    {
        *slot = value.parse().unwrap_or(0.0);
    }
    let (major, minor, patch) = zmq::version();
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        cpu_model,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
        load_average,
        libzmq: format!("{major}.{minor}.{patch}"),
    }
}

/// Does what the arguments say: a child role, a plot from a saved report, or a run printed as
/// tables or JSON (and plotted with `--plot`). Progress goes to standard error.
///
/// The `stall` scenario starts the running program again (`std::env::current_exe`) with
/// `--role`, so only a program whose command line is [`Args`], such as `hermes-bench`, can run it.
///
/// Exit codes: 0 done, 1 a figure failed to measure (the report says which), 2 bad arguments or
/// an unwritable file.
pub fn execute(args: &Args) -> ExitCode {
    if let Some(role) = args.role {
        return match run_role(role, args.endpoint.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::from(1)
            }
        };
    }
    if let (Some(from), Some(plot)) = (&args.plot_from, &args.plot) {
        let report = std::fs::read_to_string(from)
            .map_err(|err| format!("cannot read `{}`: {err}", from.display()))
            .and_then(|text| {
                serde_json::from_str::<Report>(&text)
                    .map_err(|err| format!("`{}` is not a bench report: {err}", from.display()))
            });
        return match report.and_then(|report| plot::draw(&report, plot)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::from(2)
            }
        };
    }
    let options = match args.options() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let report = run_with_progress(&options, &mut |line| eprintln!("{line}"));
    if args.json {
        println!("{}", report.render_json());
    } else {
        print!("{}", report.render_table());
    }
    if let Some(plot) = &args.plot
        && let Err(err) = plot::draw(&report, plot)
    {
        eprintln!("error: {err}");
        return ExitCode::from(2);
    }
    if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
