//! Node `feed` as its own process, wired by the YAML's endpoints.

fn main() -> std::process::ExitCode {
    hermes_example_hello::hello::nodes::feed::main(hermes_example_hello::Feed::new(
        std::time::Duration::from_millis(100),
    ))
}
