//! `hermes proxy`: a standalone proxy (the Python original's PostOffice).

use std::io::Write;
use std::net::SocketAddr;

use hermes_runtime::{Liveness, ProxyConfig, Runtime};

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
  hermes proxy --name market --metrics 0.0.0.0:9464
  hermes proxy --heartbeat-ms 250 --peer-timeout-ms 1000")]
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
    #[command(flatten)]
    liveness: LivenessArgs,
}

/// Heartbeats and TCP keepalive on the proxy's connections (the YAML's `liveness:`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LivenessArgs {
    /// Milliseconds between ZMTP heartbeats to each peer; 0 turns them off.
    #[arg(long, value_name = "MS", default_value_t = Liveness::DEFAULT.heartbeat_ms)]
    heartbeat_ms: u32,
    /// Milliseconds of silence after which a peer counts as dead.
    #[arg(long, value_name = "MS", default_value_t = Liveness::DEFAULT.timeout_ms)]
    peer_timeout_ms: u32,
    /// Turn TCP keepalive off.
    #[arg(long)]
    no_tcp_keepalive: bool,
    /// Seconds a tcp connection is idle before the first keepalive probe.
    #[arg(long, value_name = "S", default_value_t = Liveness::DEFAULT.keepalive_idle_s)]
    keepalive_idle_s: u32,
    /// Seconds between keepalive probes.
    #[arg(long, value_name = "S", default_value_t = Liveness::DEFAULT.keepalive_interval_s)]
    keepalive_interval_s: u32,
    /// Unanswered probes before the connection is dropped.
    #[arg(long, value_name = "N", default_value_t = Liveness::DEFAULT.keepalive_count)]
    keepalive_count: u32,
}

impl LivenessArgs {
    fn liveness(self) -> Liveness {
        Liveness {
            heartbeat_ms: self.heartbeat_ms,
            timeout_ms: self.peer_timeout_ms,
            tcp_keepalive: !self.no_tcp_keepalive,
            keepalive_idle_s: self.keepalive_idle_s,
            keepalive_interval_s: self.keepalive_interval_s,
            keepalive_count: self.keepalive_count,
        }
    }
}

/// The `hermes proxy` flags that give a proxy `liveness`, where it is not the default (what
/// `hermes up` and `hermes export` pass on from the YAML).
pub fn liveness_flags(liveness: Liveness) -> Vec<String> {
    let default = Liveness::DEFAULT;
    let mut flags = Vec::new();
    let mut number = |flag: &str, value: u32, default: u32| {
        if value != default {
            flags.extend([format!("--{flag}"), value.to_string()]);
        }
    };
    number("heartbeat-ms", liveness.heartbeat_ms, default.heartbeat_ms);
    number("peer-timeout-ms", liveness.timeout_ms, default.timeout_ms);
    number(
        "keepalive-idle-s",
        liveness.keepalive_idle_s,
        default.keepalive_idle_s,
    );
    number(
        "keepalive-interval-s",
        liveness.keepalive_interval_s,
        default.keepalive_interval_s,
    );
    number(
        "keepalive-count",
        liveness.keepalive_count,
        default.keepalive_count,
    );
    if !liveness.tcp_keepalive {
        flags.push("--no-tcp-keepalive".to_owned());
    }
    flags
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
    config.liveness = args.liveness.liveness();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_flags_name_only_what_differs_from_the_default_and_parse_back() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Proxy {
            #[command(flatten)]
            args: Args,
        }
        assert!(liveness_flags(Liveness::DEFAULT).is_empty());
        let liveness = Liveness {
            heartbeat_ms: 250,
            tcp_keepalive: false,
            ..Liveness::DEFAULT
        };
        let flags = liveness_flags(liveness);
        assert_eq!(flags, ["--heartbeat-ms", "250", "--no-tcp-keepalive"]);
        let parsed = Proxy::try_parse_from(std::iter::once("proxy".to_owned()).chain(flags))
            .expect("the flags parse");
        assert_eq!(parsed.args.liveness.liveness(), liveness);
    }
}
