//! Command-line arguments and process setup shared by `trading` and the per-node binaries.
//!
//! Every binary takes the same options: `--frontend`/`--backend`/`--capture`/`--no-capture`
//! move the `market` proxy off the YAML's addresses (the generated `main`s always use the YAML,
//! so tests could not run on free ports), `--duration` stops the process, `--seed` picks the
//! synthetic markets. Bad arguments exit with status 2.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;
use hermes_runtime::Runtime;

use crate::topology::{self, Wiring};

/// Options of every `trading` binary.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, about)]
pub struct Args {
    /// Stop after this many seconds (default: run until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub duration: Option<Duration>,
    /// Seed of the synthetic markets; separate processes of one desk must share it.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Proxy frontend, where publishers connect [default: the topology's, tcp://127.0.0.1:6000].
    #[arg(long, value_name = "ENDPOINT")]
    pub frontend: Option<String>,
    /// Proxy backend, where subscribers connect [default: the topology's, tcp://127.0.0.1:6001].
    #[arg(long, value_name = "ENDPOINT")]
    pub backend: Option<String>,
    /// Proxy capture socket, a copy of all traffic [default: the topology's, tcp://127.0.0.1:6002].
    #[arg(long, value_name = "ENDPOINT", conflicts_with = "no_capture")]
    pub capture: Option<String>,
    /// Run the proxy without a capture socket.
    #[arg(long)]
    pub no_capture: bool,
}

impl Args {
    /// The arguments of this process; prints help, version or a usage error and exits (status 2
    /// for errors) when they call for it.
    pub fn from_env() -> Args {
        Args::parse()
    }

    /// The topology's wiring with these arguments' overrides.
    pub fn wiring(&self) -> Wiring {
        let mut wiring = Wiring::default();
        if let Some(frontend) = &self.frontend {
            wiring.market.frontend.clone_from(frontend);
        }
        if let Some(backend) = &self.backend {
            wiring.market.backend.clone_from(backend);
        }
        if let Some(capture) = &self.capture {
            wiring.market.capture = Some(capture.clone());
        }
        if self.no_capture {
            wiring.market.capture = None;
        }
        wiring
    }
}

fn positive_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 => {
            Ok(Duration::from_secs_f64(seconds))
        }
        _ => Err(format!(
            "expected a positive number of seconds, found `{text}`"
        )),
    }
}

/// Logs through `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Another subscriber already installed (a test harness) is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Runs what `start` spawns on a new runtime until Ctrl-C, SIGTERM or `--duration`; reports
/// failures on stderr and returns the exit status.
pub fn run(
    args: &Args,
    start: impl FnOnce(&mut Runtime, &Wiring) -> hermes_runtime::Result<()>,
) -> ExitCode {
    let mut runtime = match Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = start(&mut runtime, &args.wiring()) {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    hermes_runtime::exit_code(runtime.run_until_signal_or(args.duration))
}

/// `main` of a per-node binary: parses the arguments, logs, and runs the node `start` spawns.
pub fn node_main(
    name: &str,
    start: impl FnOnce(&Args, &mut Runtime, &Wiring) -> hermes_runtime::Result<()>,
) -> ExitCode {
    let args = Args::from_env();
    init_tracing();
    run(&args, |runtime, wiring| {
        tracing::info!(
            node = name,
            frontend = %wiring.market.frontend,
            backend = %wiring.market.backend,
            "starting"
        );
        start(&args, runtime, wiring)
    })
}

/// `main` of the `market` binary: the proxy alone.
pub fn proxy_main() -> ExitCode {
    let args = Args::from_env();
    init_tracing();
    run(&args, |runtime, wiring| {
        let mut wiring = wiring.clone();
        topology::proxies::market::spawn(runtime, &mut wiring)?;
        tracing::info!(
            frontend = %wiring.market.frontend,
            backend = %wiring.market.backend,
            capture = wiring.market.capture.as_deref().unwrap_or("none"),
            "proxy `market` up"
        );
        Ok(())
    })
}

/// `main` of `trading`: the whole desk in one process.
pub fn desk_main() -> ExitCode {
    let args = Args::from_env();
    init_tracing();
    run(&args, |runtime, wiring| {
        let config = crate::DeskConfig {
            seed: args.seed,
            ..crate::DeskConfig::default()
        };
        let (handlers, _reports) = crate::desk(&config);
        let wiring = topology::launch(runtime, wiring, handlers)?;
        tracing::info!(
            frontend = %wiring.market.frontend,
            backend = %wiring.market.backend,
            capture = wiring.market.capture.as_deref().unwrap_or("none"),
            duration = ?args.duration,
            "trading desk up: 3 feeds, strategy, risk, executor, monitor; Ctrl-C to stop"
        );
        Ok(())
    })
}
