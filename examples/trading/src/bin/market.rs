//! Proxy `market` as its own process (`--help` for the options).

fn main() -> std::process::ExitCode {
    trading::cli::proxy_main()
}
