//! The desk's own command-line option, `--seed`. Everything else every `trading` binary takes is
//! the standard command line of a Hermes process ([`hermes_runtime::topology::Options`]):
//! `--frontend`/`--backend`/`--capture`/`--no-capture` (the `market` proxy's endpoints, also
//! as `--market-frontend`... and `HERMES_MARKET_FRONTEND`...), `--duration`, `--log-level`.
//! Bad arguments exit with status 2.

use std::process::ExitCode;

use crate::topology;

/// The option of every `trading` binary that is the desk's own.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Seed {
    /// Seed of the synthetic markets; separate processes of one desk must share it.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// The options of a `trading` binary.
pub type Options = hermes_runtime::topology::Options<Seed>;

/// The options of this process, named `process` in `--help`; prints help, the version or a
/// usage error and exits when they call for it.
pub fn options(process: &str) -> Options {
    Options::parse(&topology::TOPOLOGY, process)
}

/// `main` of `trading`: the whole desk in one process.
pub fn desk_main() -> ExitCode {
    let options = options("trading");
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        let config = crate::DeskConfig {
            seed: options.args.seed,
            ..crate::DeskConfig::default()
        };
        let (handlers, _reports) = crate::desk(&config);
        let wiring = topology::launch(runtime, wiring, handlers)?;
        if let Some(market) = wiring.proxy("market") {
            tracing::info!(
                frontend = %market.frontend,
                backend = %market.backend,
                capture = market.capture.as_deref().unwrap_or("none"),
                duration = ?options.duration,
                "trading desk up: 3 feeds, strategy, risk, executor, monitor; Ctrl-C to stop"
            );
        }
        Ok(())
    })
}
