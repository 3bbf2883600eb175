//! Node `tally` as its own process (`--help` for the options).

use hermes_example_multihost::Tally;
use hermes_example_multihost::multihost::nodes::tally;

fn main() -> std::process::ExitCode {
    tally::main(Tally::default())
}
