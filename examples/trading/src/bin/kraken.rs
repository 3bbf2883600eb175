//! Node `kraken` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::kraken;

fn main() -> std::process::ExitCode {
    trading::cli::node_main(kraken::NAME, |args, runtime, wiring| {
        kraken::spawn(runtime, wiring, trading::KrakenFeed::new(args.seed))
    })
}
