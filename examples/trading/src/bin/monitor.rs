//! Node `monitor` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::monitor;

fn main() -> std::process::ExitCode {
    trading::cli::node_main(monitor::NAME, |_args, runtime, wiring| {
        monitor::spawn(runtime, wiring, trading::Monitor::new())
    })
}
