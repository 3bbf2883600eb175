//! The whole trading desk in one process: the `market` proxy and every node as threads, with a
//! live summary once a second. `--help` lists the options.

fn main() -> std::process::ExitCode {
    trading::cli::desk_main()
}
