//! Node `executor` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::executor;

fn main() -> std::process::ExitCode {
    let options = trading::cli::options(executor::NAME);
    hermes_runtime::topology::run(&options, |runtime, wiring| {
        executor::spawn(runtime, wiring, trading::Executor::default())
    })
}
