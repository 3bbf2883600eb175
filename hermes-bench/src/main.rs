//! `hermes-bench`: Hermes paths measured side by side with raw libzmq, a program of its own so
//! that none of it (plotting, `/proc` scraping, helper roles) is linked into `hermes`.
//!
//! ```text
//! cargo run --release -p hermes-bench -- [--scenario NAME...] [--transport tcp|ipc|inproc]
//!     [--payload BYTES...] [--duration S] [--runs N] [--rate MSG/S] [--load PERCENT...]
//!     [--no-load] [--stall S] [--record S] [--curve] [--smoke]
//!     [--json] [--plot FILE] [--plot-from REPORT]
//! ```

use std::process::ExitCode;

use clap::Parser;

/// Measure Hermes against raw libzmq doing the same job, in one run.
#[derive(Debug, Parser)]
#[command(name = "hermes-bench", version)]
#[command(after_help = "\
Every Hermes message path is measured against raw libzmq doing the same job (same transport, \
payload and proxy topology) in rounds (`--runs`, default 9): each round runs raw and Hermes \
back to back, the order rotating, and each ratio is the median of the rounds' ratios, printed \
with its min–max over the rounds. Throughput, drops at the default high-water mark, one-way \
latency at a fixed rate, round trip, CPU per million messages, peak RSS, idle CPU, and RSS \
while a subscriber stalls. The direct and proxy rows add one-way latency under load: raw and \
Hermes at 10, 50 and 90 % (`--load`) of the slower side's throughput. The targets of issue 20 \
(and the recorder's and the stall check's) follow in one table, each with its measured value \
and whether it is met; the Zenoh comparison is listed as not measured.

The `record` scenario runs `hermes record`'s receive → record loop (a raw receiver and the MCAP \
recorder) on a publisher paced at 200,000 envelopes/s of 64 B over tcp, then faster until it \
falls behind, against a raw SUB socket writing the payloads to a file: rate kept up with, \
sequence gaps, RSS over the run, file size.

The `stall` scenario starts this program again as helper processes.

`--curve` adds the direct and proxy rows over tcp and ipc with CURVE: secured Hermes (CURVE, \
ZAP, per-sender topic checks) against raw libzmq with CURVE and against unsecured Hermes.

Exit codes: 0 done, 1 a figure failed to measure, 2 usage or I/O error.

Examples (from the workspace, `cargo run --release -p hermes-bench --` in place of `hermes-bench`):
  hermes-bench                                   # every scenario, about 6 minutes
  hermes-bench --scenario proxy --transport tcp --payload 64 1KiB
  hermes-bench --scenario stall --stall 10       # memory while a subscriber stalls
  hermes-bench --scenario record --record 5      # the MCAP recorder at 200,000 env/s and up
  hermes-bench --scenario direct,proxy --transport tcp,ipc --payload 64,1KiB --curve
  hermes-bench --json > report.json              # the same figures, machine-readable
  hermes-bench --plot-from report.json --plot bench.svg   # and bench-load.svg
  hermes-bench --scenario proxy --payload 64 --load 10,30,50,70,90
  hermes-bench --scenario direct,proxy --no-load
  hermes-bench --smoke                           # about 10 s, as CI runs it")]
struct Cli {
    #[command(flatten)]
    args: hermes_bench::Args,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    hermes_bench::execute(&cli.args)
}

/// The same reading of documented command lines as the `hermes` command's tests.
#[cfg(test)]
#[path = "../../hermes-cli/src/command_lines.rs"]
mod command_lines;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::{CommandFactory, Parser as _};

    use super::Cli;
    use super::command_lines::{documentation_lines, shell_words};

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every `hermes-bench ...` line in `--help` is a command line clap accepts, so the examples
    /// users copy work.
    #[test]
    fn every_example_in_the_help_parses() {
        let help = Cli::command().render_long_help().to_string();
        let mut checked = 0;
        for line in help.lines().map(str::trim) {
            let Some(example) = line
                .strip_prefix("hermes-bench")
                .filter(|rest| rest.is_empty() || rest.starts_with(' '))
            else {
                continue;
            };
            if let Err(error) = parse(shell_words(example)) {
                panic!("`{line}` does not parse:\n{error}");
            }
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} examples found:\n{help}");
    }

    /// Every `hermes-bench ...` and `cargo run ... -p hermes-bench -- ...` command in the code
    /// blocks of the project's documentation parses too, and no document still runs the
    /// benchmark as a subcommand of `hermes`.
    #[test]
    fn every_command_in_the_docs_parses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dirs = [
            "docs",
            "hermes-bench",
            "hermes-cli",
            "hermes-build",
            "hermes-macros",
            "hermes-runtime",
        ];
        let mut checked = 0;
        for (place, line, in_code) in documentation_lines(&root, &dirs) {
            assert!(
                !line.contains("hermes bench") && !line.contains("-p hermes-cli -- bench"),
                "{place}: `{line}` runs the benchmark through `hermes`; \
                 help: it is `cargo run --release -p hermes-bench -- ...` now"
            );
            if !in_code {
                continue;
            }
            let Some(command) = line
                .split_once("-p hermes-bench --")
                .map(|(_, rest)| rest)
                .or_else(|| line.strip_prefix("hermes-bench"))
                .filter(|rest| rest.is_empty() || rest.starts_with(' '))
            else {
                continue;
            };
            if let Err(error) = parse(shell_words(command)) {
                panic!("{place}: `{line}` does not parse:\n{error}");
            }
            checked += 1;
        }
        assert!(checked >= 3, "only {checked} commands found");
    }

    /// `hermes-bench` with `args`, as clap parses it.
    fn parse(args: Vec<String>) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hermes-bench".to_owned()).chain(args))
    }
}
