//! Proxy `market` as its own process (`--help` for the options).

fn main() -> std::process::ExitCode {
    hermes_runtime::topology::proxy_main(&trading::topology::TOPOLOGY, "market")
}
