//! `hermes proxy`: a standalone proxy (the Python original's PostOffice).

use std::io::Write;
use std::net::SocketAddr;

use hermes_runtime::{ProxyConfig, Runtime};

use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes proxy`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The defaults are the Python hermes-zmq PostOffice's addresses, so existing Python nodes use \
this proxy unchanged. On start it prints the bound endpoints, one per line \
(`frontend tcp://127.0.0.1:6000`), so a port of 0 can be read back; it runs until Ctrl-C or \
SIGTERM.

Examples:
  hermes proxy
  hermes proxy --frontend tcp://*:7000 --backend tcp://*:7001 --no-capture
  hermes proxy --frontend ipc:///tmp/in --backend ipc:///tmp/out --capture tcp://127.0.0.1:0
  hermes proxy --name market --metrics 0.0.0.0:9464")]
pub struct Args {
    /// The XSUB endpoint publishers connect to.
    #[arg(long, value_name = "EP", default_value = "tcp://127.0.0.1:6000")]
    frontend: String,
    /// The XPUB endpoint subscribers connect to.
    #[arg(long, value_name = "EP", default_value = "tcp://127.0.0.1:6001")]
    backend: String,
    /// The PUB endpoint that sees a copy of every envelope (what `hermes tap` reads).
    #[arg(
        long,
        value_name = "EP",
        default_value = "tcp://127.0.0.1:6002",
        conflicts_with = "no_capture"
    )]
    capture: String,
    /// Run without a capture socket.
    #[arg(long)]
    no_capture: bool,
    /// High-water mark of each socket, in envelopes (0: unlimited).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    hwm: u32,
    /// The proxy's name, in its metrics' `proxy` label.
    #[arg(long, default_value = "proxy")]
    name: String,
    /// Serve Prometheus metrics, `/healthz` and `/readyz` over HTTP on ADDR (IP:PORT).
    #[arg(long, value_name = "ADDR", env = "HERMES_METRICS")]
    metrics: Option<SocketAddr>,
}

/// Runs the proxy until a signal and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let mut runtime = match Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return USAGE_OR_IO;
        }
    };
    if let Some(address) = args.metrics
        && let Err(error) = runtime.serve_metrics(address)
    {
        eprintln!("error: cannot serve metrics: {error}");
        return USAGE_OR_IO;
    }
    let mut config = ProxyConfig::new(&args.frontend, &args.backend).with_hwm(args.hwm);
    if !args.no_capture {
        config = config.with_capture(&args.capture);
    }
    let endpoints = match runtime.spawn_proxy(&args.name, config) {
        Ok(endpoints) => endpoints,
        Err(error) => {
            eprintln!("error: cannot start the proxy: {error}");
            return USAGE_OR_IO;
        }
    };
    let mut lines = vec![
        format!("frontend {}", endpoints.frontend),
        format!("backend {}", endpoints.backend),
    ];
    if let Some(capture) = &endpoints.capture {
        lines.push(format!("capture {capture}"));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", lines.join("\n")).and_then(|()| stdout.flush());
    drop(stdout);
    runtime.readiness().set_ready();
    eprintln!("proxy running (Ctrl-C to stop)");
    match runtime.run_until_signal_or(None) {
        Ok(()) => SUCCESS,
        Err(failures) => {
            for failure in failures {
                eprintln!("error: the proxy failed: {failure}");
            }
            FINDINGS
        }
    }
}
