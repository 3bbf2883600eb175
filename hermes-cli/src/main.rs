//! The `hermes` command line: check topologies and generate their JSON Schemas.
//!
//! Exit codes, for every subcommand: 0 success, 1 findings (an invalid topology, stale
//! schemas), 2 usage or I/O error.

mod check;
mod schema;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Declarative ZeroMQ pub/sub topologies.
#[derive(Debug, Parser)]
#[command(name = "hermes", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One variant per subcommand, each with its own `Args` in its own module.
#[derive(Debug, Subcommand)]
enum Command {
    /// Check a topology and its message schemas, and report every finding.
    Check(check::Args),
    /// Write the JSON Schemas of the topology and messages formats.
    Schema(schema::Args),
}

/// Success.
const SUCCESS: u8 = 0;
/// The command ran and found problems.
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
        Command::Schema(args) => schema::run(&args),
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
