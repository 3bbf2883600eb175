//! The `hermes` command line: check, draw, run and look inside topologies.
//!
//! Exit codes, for every subcommand: 0 success, 1 findings (an invalid topology, stale
//! schemas) or failure, 2 usage or I/O error.

mod check;
#[cfg(test)]
mod command_lines;
mod diff;
mod dynamic;
mod export;
mod generate;
mod graph;
mod interrupt;
mod keygen;
mod listen;
mod lock;
mod operator;
mod proxy;
mod publish;
mod record;
mod replay;
mod schema;
mod stats;
mod supervise;
mod tap;
mod topology;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Declarative ZeroMQ pub/sub topologies.
#[derive(Debug, Parser)]
#[command(name = "hermes", version, about, propagate_version = true)]
#[command(after_help = "\
Every command that reads a topology takes its path (a file, or a directory holding \
`topology.yaml`; default `./topology.yaml`).

Exit codes: 0 ok, 1 findings or failure, 2 usage or I/O error.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One variant per subcommand, each with its own `Args` in its own module.
#[derive(Debug, Subcommand)]
enum Command {
    /// Check a topology and its message schemas, and report every finding.
    Check(check::Args),
    /// Compare two versions of a topology: the plan of the change, and whether its schemas break.
    Diff(diff::Args),
    /// Write `hermes.lock`: the wire schema of every message and enum, as released.
    Lock(lock::Args),
    /// Write CURVE key pairs for every node, proxy and operator of a topology.
    Keygen(keygen::Args),
    /// Write the JSON Schemas of the topology and messages formats.
    Schema(schema::Args),
    /// Draw a topology as Mermaid, Graphviz DOT or SVG.
    Graph(graph::Args),
    /// Print the envelopes passing through a proxy, decoded with the topology's types.
    Tap(tap::Args),
    /// Show per-topic rate, bandwidth, lag and loss, live or as one JSON report.
    Stats(stats::Args),
    /// Publish a message given as JSON, checked against the topic's type.
    #[command(name = "pub")]
    Publish(publish::Args),
    /// Record the envelopes passing through a proxy to an MCAP file.
    Record(record::Args),
    /// Re-publish a recording into a proxy, with its original pacing.
    Replay(replay::Args),
    /// Run a standalone proxy (PostOffice), by default at the Python original's addresses.
    Proxy(proxy::Args),
    /// Start a topology's proxies and nodes as processes, and supervise them.
    Up(up::Args),
    /// Write the Rust (and `.proto` files) that `build.rs` generates for a topology.
    Gen(generate::Args),
    /// Write docker compose, Kubernetes or systemd files that run a topology.
    Export(export::Args),
}

/// Success.
const SUCCESS: u8 = 0;
/// The command ran and found problems, or failed.
const FINDINGS: u8 = 1;
/// Bad usage, or an input or output that could not be read or written.
const USAGE_OR_IO: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                USAGE_OR_IO
            } else {
                SUCCESS
            });
        }
    };
    let code = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Lock(args) => lock::run(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Tap(args) => tap::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Publish(args) => publish::run(&args),
        Command::Up(args) => up::run(&args),
        Command::Gen(args) => generate::run(&args),
        Command::Record(args) => record::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Proxy(args) => proxy::run(&args),
        Command::Export(args) => export::run(&args),
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser as _};

    use super::Cli;
    use super::command_lines::{documentation_lines, shell_words};

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every `hermes ...` line in a subcommand's help is a command line clap accepts, so the
    /// examples users copy work (comments after `#` and quoted arguments are understood).
    #[test]
    fn every_example_in_the_help_parses() {
        let mut checked = 0;
        for command in Cli::command().get_subcommands_mut() {
            let help = command.render_long_help().to_string();
            for line in help.lines().map(str::trim) {
                let Some(example) = line.strip_prefix("hermes ") else {
                    continue;
                };
                if let Err(error) = parse(shell_words(example)) {
                    panic!("`{line}` does not parse:\n{error}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} examples found");
    }

    /// Every `hermes ...` and `cargo run -p hermes-cli -- ...` command in the code blocks of
    /// the project's documentation parses too.
    #[test]
    fn every_command_in_the_docs_parses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let subcommands: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|command| command.get_name().to_owned())
            .collect();
        let dirs = [
            "docs",
            "hermes-cli",
            "hermes-build",
            "hermes-runtime",
            "examples/trading",
            "examples/evolution",
        ];
        let mut checked = 0;
        for (place, line, in_code) in documentation_lines(&root, &dirs) {
            if !in_code {
                continue;
            }
            // After `-p hermes-cli --` comes a subcommand (or a `<command>` placeholder), so
            // an unknown one (the removed `bench`) is an error; after `hermes ` only a known
            // subcommand says the line is a command.
            let (command, explicit) = match line.split_once("-p hermes-cli -- ") {
                Some((_, rest)) => (rest, true),
                None => match line.strip_prefix("hermes ") {
                    Some(rest) => (rest, false),
                    None => continue,
                },
            };
            let words = shell_words(command);
            let known = words.first().is_some_and(|word| subcommands.contains(word));
            if words.is_empty() || !(explicit || known) {
                continue;
            }
            if let Err(error) = parse(words) {
                panic!("{place}: `{line}` does not parse:\n{error}");
            }
            checked += 1;
        }
        assert!(checked >= 30, "only {checked} commands found");
    }

    /// `hermes` with `args`, as clap parses it.
    fn parse(args: Vec<String>) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hermes".to_owned()).chain(args))
    }
}
