//! Node `strategy` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::strategy;

fn main() -> std::process::ExitCode {
    let options = trading::cli::options(strategy::NAME);
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        strategy::spawn(
            runtime,
            wiring,
            trading::Strategy::new(trading::StrategyConfig::default()),
        )
    })
}
