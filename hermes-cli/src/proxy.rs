//! `hermes proxy`: a standalone proxy (the Python original's PostOffice).

use std::io::Write;
use std::time::Duration;

use hermes_runtime::{Context, Proxy, ProxyConfig};

use crate::interrupt::Interrupt;
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
  hermes proxy --frontend ipc:///tmp/in --backend ipc:///tmp/out --capture tcp://127.0.0.1:0")]
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
}

/// Runs the proxy until a signal and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let interrupt = Interrupt::install();
    let context = Context::new();
    let mut config = ProxyConfig::new(&args.frontend, &args.backend).with_hwm(args.hwm);
    if !args.no_capture {
        config = config.with_capture(&args.capture);
    }
    let proxy = match Proxy::spawn(&context, config) {
        Ok(proxy) => proxy,
        Err(error) => {
            eprintln!("error: cannot start the proxy: {error}");
            return USAGE_OR_IO;
        }
    };
    let mut lines = vec![
        format!("frontend {}", proxy.frontend()),
        format!("backend {}", proxy.backend()),
    ];
    if let Some(capture) = proxy.capture() {
        lines.push(format!("capture {capture}"));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", lines.join("\n")).and_then(|()| stdout.flush());
    drop(stdout);
    eprintln!("proxy running (Ctrl-C to stop)");
    while !interrupt.is_set() {
        std::thread::sleep(Duration::from_millis(50));
    }
    match proxy.stop() {
        Ok(()) => SUCCESS,
        Err(error) => {
            eprintln!("error: the proxy failed: {error}");
            FINDINGS
        }
    }
}
