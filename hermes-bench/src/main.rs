//! `hermes-bench`: the `hermes bench` measurements as a program of their own.
//!
//! ```text
//! hermes-bench [--scenario NAME...] [--transport tcp|ipc|inproc] [--payload BYTES...]
//!              [--duration S] [--runs N] [--smoke] [--json] [--plot FILE]
//! ```

use std::process::ExitCode;

use clap::Parser;

/// Hermes paths measured side by side with raw libzmq doing the same job.
#[derive(Debug, Parser)]
#[command(name = "hermes-bench", version)]
struct Cli {
    #[command(flatten)]
    args: hermes_bench::Args,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    hermes_bench::execute(&cli.args, &[])
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
