//! Node `trader` as its own process, wired by the YAML's endpoints.

fn main() -> std::process::ExitCode {
    hermes_example_hello::hello::nodes::trader::main(hermes_example_hello::Trader)
}
