//! Node `audit` as its own process, wired by the YAML's endpoints.

fn main() -> std::process::ExitCode {
    hermes_example_hello::hello::nodes::audit::main(hermes_example_hello::Audit::default())
}
