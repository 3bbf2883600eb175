//! Node `bitstamp` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::bitstamp;

fn main() -> std::process::ExitCode {
    let options = trading::cli::options(bitstamp::NAME);
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        bitstamp::spawn(
            runtime,
            wiring,
            trading::BitstampFeed::new(options.args.seed),
        )
    })
}
