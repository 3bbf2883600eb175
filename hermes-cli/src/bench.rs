//! `hermes bench`: Hermes paths measured side by side with raw libzmq, from `hermes-bench`.

use std::process::ExitCode;

/// Arguments of `hermes bench`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Every Hermes message path is measured against raw libzmq doing the same job (same transport, \
payload and proxy topology), alternating runs and reporting medians: throughput, drops at the \
default high-water mark, one-way latency at a fixed rate, round trip, CPU per million \
messages, peak RSS, idle CPU, and RSS while a subscriber stalls. Every row ends with the ratio \
Hermes/raw; the targets are listed last.

Examples:
  hermes bench                                   # every scenario, under 3 minutes
  hermes bench --scenario proxy --transport tcp --payload 64 1KiB
  hermes bench --json > bench.json               # the same figures, machine-readable
  hermes bench --smoke                           # a few seconds, as CI runs it")]
#[group(skip)] // the flattened `hermes_bench::Args` is the group
pub struct Args {
    #[command(flatten)]
    bench: hermes_bench::Args,
}

/// Runs the benchmark; helper processes are this program started again as `hermes bench`.
pub fn run(args: &Args) -> u8 {
    let code = hermes_bench::execute(&args.bench, &["bench"]);
    if code == ExitCode::SUCCESS {
        crate::SUCCESS
    } else if code == ExitCode::from(crate::USAGE_OR_IO) {
        crate::USAGE_OR_IO
    } else {
        crate::FINDINGS
    }
}
