//! Node `risk` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::risk;

fn main() -> std::process::ExitCode {
    let options = trading::cli::options(risk::NAME);
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        risk::spawn(
            runtime,
            wiring,
            trading::Risk::new(trading::RiskLimits::default()),
        )
    })
}
