//! `hermes check TOPOLOGY`: load a topology, run every check, print the findings.

use std::path::PathBuf;

use hermes_build::model::Lint;
use hermes_build::{LoadError, LoadOptions, LockCheck, Report};

use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Errors make the exit status 1; warnings do not, unless `--deny` (or the topology's own \
`deny:`) turns them into errors.

When `hermes.lock` (written by `hermes lock`) is beside the topology, the messages are \
compared with it: a breaking change without a `version:` raise is an error \
(`hermes::breaking_change`), a lock that no longer records the messages is a warning \
(`hermes::stale_lock`), an error under `--locked`, which also requires the lock to exist.

Examples:
  hermes check                                   # ./topology.yaml
  hermes check examples/trading                  # a directory's topology.yaml
  hermes check topology.yaml --deny warnings     # warnings fail too
  hermes check --locked --deny warnings          # as CI runs it: hermes.lock must be current
  hermes check topology.yaml --format json | jq '.diagnostics[].code'")]
pub struct Args {
    /// The topology: a file, or a directory holding `topology.yaml`.
    #[arg(default_value = crate::topology::DEFAULT_PATH)]
    topology: PathBuf,
    /// How to print findings: rustc-like text on stderr, or one JSON document on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Treat these warnings as errors (`warnings` for all of them); may be repeated.
    #[arg(long, value_enum, value_name = "LINT")]
    deny: Vec<DenyLint>,
    /// Fail unless `hermes.lock` exists beside the topology and records the messages as they
    /// are (as `cargo --locked`): what a CI job runs.
    #[arg(long)]
    locked: bool,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Human-readable, like rustc.
    Human,
    /// JSON, for CI tools.
    Json,
}

/// Warnings `--deny` can turn into errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DenyLint {
    /// Every warning.
    Warnings,
    /// `hermes::cycle`.
    Cycles,
    /// `hermes::unused_publication`.
    #[value(name = "unused_publication")]
    UnusedPublication,
    /// `hermes::empty_node`.
    #[value(name = "empty_node")]
    EmptyNode,
    /// `hermes::unused_proxy`.
    #[value(name = "unused_proxy")]
    UnusedProxy,
    /// `hermes::stale_lock`.
    #[value(name = "stale_lock")]
    StaleLock,
    /// `hermes::insecure_endpoint`.
    #[value(name = "insecure_endpoint")]
    InsecureEndpoint,
    /// `hermes::pointless_security`.
    #[value(name = "pointless_security")]
    PointlessSecurity,
}

impl From<DenyLint> for Lint {
    fn from(lint: DenyLint) -> Lint {
        match lint {
            DenyLint::Warnings => Lint::Warnings,
            DenyLint::Cycles => Lint::Cycles,
            DenyLint::UnusedPublication => Lint::UnusedPublication,
            DenyLint::EmptyNode => Lint::EmptyNode,
            DenyLint::UnusedProxy => Lint::UnusedProxy,
            DenyLint::StaleLock => Lint::StaleLock,
            DenyLint::InsecureEndpoint => Lint::InsecureEndpoint,
            DenyLint::PointlessSecurity => Lint::PointlessSecurity,
        }
    }
}

/// Runs the check and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let mut options = LoadOptions::default();
    options.deny = args.deny.iter().copied().map(Lint::from).collect();
    if args.locked {
        options = options.lock(LockCheck::Locked);
    }
    let (report, valid) =
        match hermes_build::load_with_options(crate::topology::resolve(&args.topology), &options) {
            Ok(loaded) => (loaded.report, true),
            Err(LoadError::Invalid(report)) => (report, false),
            Err(error @ LoadError::Io { .. }) => {
                eprintln!("error: {error}");
                return USAGE_OR_IO;
            }
        };
    print_report(args, &report);
    if valid { SUCCESS } else { FINDINGS }
}

fn print_report(args: &Args, report: &Report) {
    match args.format {
        Format::Json => print!("{}", report.render_json()),
        Format::Human => {
            let rendered = report.render_human();
            if !rendered.is_empty() {
                eprintln!("{rendered}");
            }
            let verdict = if report.has_errors() { "invalid" } else { "ok" };
            eprintln!(
                "{}: {verdict} ({})",
                args.topology.display(),
                report.summary()
            );
        }
    }
}
