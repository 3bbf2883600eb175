//! Node `monitor` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::monitor;

fn main() -> std::process::ExitCode {
    let options = trading::cli::options(monitor::NAME);
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        monitor::spawn(runtime, wiring, trading::Monitor::new())
    })
}
