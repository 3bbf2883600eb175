//! Proxy `market` as its own process.

fn main() -> std::process::ExitCode {
    hermes_example_hello::hello::proxies::market::main()
}
