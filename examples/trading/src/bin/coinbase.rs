//! Node `coinbase` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::coinbase;

fn main() -> std::process::ExitCode {
    let options = trading::cli::options(coinbase::NAME);
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        coinbase::spawn(
            runtime,
            wiring,
            trading::CoinbaseFeed::new(options.args.seed),
        )
    })
}
