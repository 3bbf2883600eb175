//! Node `risk` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::risk;

fn main() -> std::process::ExitCode {
    trading::cli::node_main(risk::NAME, |_args, runtime, wiring| {
        risk::spawn(
            runtime,
            wiring,
            trading::Risk::new(trading::RiskLimits::default()),
        )
    })
}
