//! Node `bitstamp` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::bitstamp;

fn main() -> std::process::ExitCode {
    trading::cli::node_main(bitstamp::NAME, |args, runtime, wiring| {
        bitstamp::spawn(runtime, wiring, trading::BitstampFeed::new(args.seed))
    })
}
