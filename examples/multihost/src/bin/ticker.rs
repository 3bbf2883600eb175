//! Node `ticker` as its own process (`--help` for the options).

use hermes_example_multihost::{TOPOLOGY, Ticker, TickerArgs};
use hermes_runtime::topology::Options;

fn main() -> std::process::ExitCode {
    let name = hermes_example_multihost::multihost::nodes::ticker::NAME;
    let options = Options::<TickerArgs>::parse(&TOPOLOGY, name);
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        hermes_example_multihost::multihost::nodes::ticker::spawn(
            runtime,
            wiring,
            Ticker::new(options.args),
        )
    })
}
