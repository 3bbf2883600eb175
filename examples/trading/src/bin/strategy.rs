//! Node `strategy` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::strategy;

fn main() -> std::process::ExitCode {
    trading::cli::node_main(strategy::NAME, |_args, runtime, wiring| {
        strategy::spawn(
            runtime,
            wiring,
            trading::Strategy::new(trading::StrategyConfig::default()),
        )
    })
}
