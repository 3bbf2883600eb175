//! Proxy `market` as its own process.

fn main() -> std::process::ExitCode {
    hermes_runtime::topology::proxy_main(&hermes_example_hello::hello::TOPOLOGY, "market")
}
