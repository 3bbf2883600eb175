//! Node `coinbase` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::coinbase;

fn main() -> std::process::ExitCode {
    trading::cli::node_main(coinbase::NAME, |args, runtime, wiring| {
        coinbase::spawn(runtime, wiring, trading::CoinbaseFeed::new(args.seed))
    })
}
