//! The whole topology in one process: every node and the proxy as threads.

fn main() -> std::process::ExitCode {
    hermes_example_hello::hello::main(hermes_example_hello::handlers(None))
}
