//! Node `executor` as its own process, connected to the `market` proxy (`--help` for the options).

use trading::topology::nodes::executor;

fn main() -> std::process::ExitCode {
    trading::cli::node_main(executor::NAME, |_args, runtime, wiring| {
        executor::spawn(runtime, wiring, trading::Executor::default())
    })
}
