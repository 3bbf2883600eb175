//! Node `kraken` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::kraken;

fn main() -> std::process::ExitCode {
    let options = trading::cli::options(kraken::NAME);
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        kraken::spawn(runtime, wiring, trading::KrakenFeed::new(options.args.seed))
    })
}
