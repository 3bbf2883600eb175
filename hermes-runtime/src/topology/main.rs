//! The standard `main` of a Hermes process: its command line, logging, and running until
//! Ctrl-C, SIGTERM or `--duration`.

use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command, FromArgMatches};

use super::driver::{self, Hooks, NodeSpec};
use super::info::TopologyInfo;
use super::startup::Startup;
use super::wiring::{DirectEndpoint, Wiring};
use crate::error::Result;
use crate::runtime::Runtime;

/// No options beyond the standard ones.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct NoArgs {}

/// The options of a Hermes process, from its command line and environment.
///
/// Every process of a topology takes:
///
/// - for each proxy `P`: `--P-frontend`, `--P-backend`, `--P-capture` (`ENDPOINT`) and
///   `--P-no-capture`, or the environment variables `HERMES_P_FRONTEND`, ... (`P` in upper
///   case, `-` as `_`); with one proxy, also `--frontend`, `--backend`, `--capture` and
///   `--no-capture`;
/// - for each direct channel `C`: `--C ENDPOINT` (or `HERMES_C`), where its binder binds and its
///   peers connect;
/// - `--keys DIR` (or `HERMES_KEYS`): run secured with the CURVE keys in `DIR`, whether or not
///   the topology has a `security:` section (whose directory it replaces), and `--insecure`
///   to run without;
/// - `--duration SECONDS` to stop by itself, and `--log-level LEVEL` (`RUST_LOG` wins when set);
/// - `--metrics ADDR` (or `HERMES_METRICS`), e.g. `0.0.0.0:9464`: serve Prometheus metrics,
///   `/healthz` and `/readyz` over HTTP there (see [`metrics`](crate::metrics)); the bound
///   address is logged at info level as `metrics on http://ADDR/metrics`, and with
///   `--metrics-address-file PATH` also written to `PATH` (one line, `IP:PORT`), which is how a
///   caller learns the port that `127.0.0.1:0` got; without it, the node's or proxy's
///   `metrics:` port from the topology, on every interface;
/// - `--subscriber-wait SECONDS` (or `HERMES_SUBSCRIBER_WAIT`): before its node starts, each
///   publication the topology gives subscribers waits up to `SECONDS` for the first of them
///   (see [`Startup`](super::Startup)), and `--ready-file PATH` (or `HERMES_READY_FILE`):
///   written once every subscription is connected, as `/readyz` turns 200;
/// - `--help` and `--version`;
/// - and the application's own options, `A` (a `clap::Args`).
///
/// # Examples
///
/// ```
/// use hermes_runtime::topology::{NoArgs, Options, ProxyInfo, TopologyInfo};
///
/// static TOPOLOGY: TopologyInfo = TopologyInfo::new(
///     "demo",
///     &[],
///     &[ProxyInfo::new("market", "tcp://*:6000", "tcp://*:6001", None, 1000)],
///     &[],
///     &[],
/// );
/// let options = Options::<NoArgs>::try_parse_from(
///     &TOPOLOGY,
///     "feed",
///     ["feed", "--backend", "ipc:///tmp/out", "--duration", "2.5"],
/// )?;
/// assert_eq!(options.wiring.proxy("market").unwrap().backend, "ipc:///tmp/out");
/// assert_eq!(options.duration, Some(std::time::Duration::from_millis(2500)));
/// assert!(Options::<NoArgs>::try_parse_from(&TOPOLOGY, "feed", ["feed", "--nope"]).is_err());
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options<A = NoArgs> {
    /// The topology's wiring with the overrides applied.
    pub wiring: Wiring,
    /// Stop after this long; `None` runs until Ctrl-C or SIGTERM.
    pub duration: Option<Duration>,
    /// The log filter: `--log-level`, unless `RUST_LOG` is set.
    pub log_level: String,
    /// Where to serve metrics: `--metrics`.
    pub metrics: Option<SocketAddr>,
    /// Where to write the address metrics are served on: `--metrics-address-file`.
    pub metrics_address_file: Option<PathBuf>,
    /// The application's own options.
    pub args: A,
}

impl<A: clap::Args + FromArgMatches> Options<A> {
    /// Parses this process's command line and environment; prints help, the version or a usage
    /// error and exits (status 2 for errors) when they call for it.
    pub fn parse(topology: &TopologyInfo, process: &str) -> Options<A> {
        Options::try_parse_from(topology, process, std::env::args_os())
            .unwrap_or_else(|error| error.exit())
    }

    /// Parses `args` (the first being the program name) and the environment.
    ///
    /// # Errors
    ///
    /// A [`clap::Error`] for unknown options, bad values, `--help` and `--version`.
    pub fn try_parse_from<I, T>(
        topology: &TopologyInfo,
        process: &str,
        args: I,
    ) -> std::result::Result<Options<A>, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let command = A::augment_args(command(topology, process));
        let matches = command.try_get_matches_from(args)?;
        let args = A::from_arg_matches(&matches)?;
        Ok(Options {
            wiring: wiring(topology, &matches),
            duration: matches.get_one::<Duration>("duration").copied(),
            log_level: matches
                .get_one::<String>("log_level")
                .cloned()
                .unwrap_or_else(|| "info".to_owned()),
            metrics: matches
                .get_one::<SocketAddr>("metrics")
                .copied()
                .or_else(|| topology_metrics(topology, process)),
            metrics_address_file: matches.get_one::<PathBuf>("metrics_address_file").cloned(),
            args,
        })
    }
}

/// Where the topology asks process `process` (a node or proxy of that name) to serve metrics:
/// every interface, on its `metrics:` port.
fn topology_metrics(topology: &TopologyInfo, process: &str) -> Option<SocketAddr> {
    let port = match topology.node(process) {
        Some(node) => node.metrics_port,
        None => topology.proxy(process).and_then(|proxy| proxy.metrics_port),
    }?;
    Some(SocketAddr::from(([0, 0, 0, 0], port)))
}

fn command(topology: &TopologyInfo, process: &str) -> Command {
    let mut command = Command::new(process.to_owned())
        .about(format!(
            "`{process}` of the Hermes topology `{}`; runs until Ctrl-C, SIGTERM or --duration",
            topology.name
        ))
        .version(env!("CARGO_PKG_VERSION"))
        .arg(
            Arg::new("duration")
                .long("duration")
                .value_name("SECONDS")
                .value_parser(positive_seconds)
                .help("Stop after this many seconds [default: run until Ctrl-C or SIGTERM]"),
        )
        .arg(
            Arg::new("keys")
                .long("keys")
                .value_name("DIR")
                .env("HERMES_KEYS")
                .value_parser(clap::value_parser!(std::path::PathBuf))
                .conflicts_with("insecure")
                .help("Run secured (CURVE, access from the topology) with the keys in DIR, as `hermes keygen` wrote them"),
        )
        .arg(
            Arg::new("insecure")
                .long("insecure")
                .action(ArgAction::SetTrue)
                .help("Run without security, even if the topology has a `security:` section"),
        )
        .arg(
            Arg::new("log_level")
                .long("log-level")
                .value_name("LEVEL")
                .default_value("info")
                .help("error, warn, info, debug or trace, or a tracing filter; RUST_LOG wins when set"),
        )
        .arg(
            Arg::new("subscriber_wait")
                .long("subscriber-wait")
                .value_name("SECONDS")
                .env("HERMES_SUBSCRIBER_WAIT")
                .value_parser(seconds)
                .help("Before starting, wait up to SECONDS for a subscriber on each publication the topology gives subscribers, so no first message goes to nobody [default: 0, no wait; `hermes up` sets 5]"),
        )
        .arg(
            Arg::new("ready_file")
                .long("ready-file")
                .value_name("PATH")
                .env("HERMES_READY_FILE")
                .value_parser(clap::value_parser!(std::path::PathBuf))
                .help("Write PATH once ready (every subscription connected) and remove it on exit; `hermes up` starts publishers after their subscribers are ready"),
        )
        .arg(
            Arg::new("metrics")
                .long("metrics")
                .value_name("ADDR")
                .env("HERMES_METRICS")
                .value_parser(clap::value_parser!(SocketAddr))
                .help("Serve Prometheus metrics, /healthz and /readyz over HTTP on ADDR (IP:PORT; port 0 picks a free one)"),
        )
        .arg(
            Arg::new("metrics_address_file")
                .long("metrics-address-file")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Write the address metrics are served on to PATH, once bound"),
        );
    let single = topology.proxies.len() == 1;
    for proxy in topology.proxies {
        for (side, about) in [
            ("frontend", "XSUB, where publishers connect"),
            ("backend", "XPUB, where subscribers connect"),
            ("capture", "PUB, a copy of every message"),
        ] {
            let mut arg = Arg::new(format!("{}.{side}", proxy.name))
                .long(format!("{}-{side}", kebab(proxy.name)))
                .value_name("ENDPOINT")
                .env(override_variable(&[proxy.name, side]))
                .help(format!("Proxy `{}`'s {side}: {about}", proxy.name));
            if single {
                arg = arg.visible_alias(side);
            }
            if side == "capture" {
                arg = arg.conflicts_with(format!("{}.no_capture", proxy.name));
            }
            command = command.arg(arg);
        }
        let mut no_capture = Arg::new(format!("{}.no_capture", proxy.name))
            .long(format!("{}-no-capture", kebab(proxy.name)))
            .action(ArgAction::SetTrue)
            .help(format!(
                "Run proxy `{}` without a capture socket",
                proxy.name
            ));
        if single {
            no_capture = no_capture.visible_alias("no-capture");
        }
        command = command.arg(no_capture);
    }
    for channel in topology.channels {
        command = command.arg(
            Arg::new(format!("channel.{}", channel.name))
                .long(kebab(channel.name))
                .value_name("ENDPOINT")
                .env(override_variable(&[channel.name]))
                .help(format!(
                    "Direct channel `{}` [YAML: {}]: where its binder binds and its peers connect",
                    channel.name, channel.endpoint
                )),
        );
    }
    command
}

fn wiring(topology: &TopologyInfo, matches: &ArgMatches) -> Wiring {
    let mut wiring = topology.wiring();
    for proxy in topology.proxies {
        let value = |side: &str| matches.get_one::<String>(&format!("{}.{side}", proxy.name));
        let Some(config) = wiring.proxy_mut(proxy.name) else {
            continue;
        };
        if let Some(frontend) = value("frontend") {
            config.frontend.clone_from(frontend);
        }
        if let Some(backend) = value("backend") {
            config.backend.clone_from(backend);
        }
        if let Some(capture) = value("capture") {
            config.capture = Some(capture.clone());
        }
        if matches.get_flag(&format!("{}.no_capture", proxy.name)) {
            config.capture = None;
        }
    }
    for channel in topology.channels {
        let endpoint = matches.get_one::<String>(&format!("channel.{}", channel.name));
        if let (Some(endpoint), Some(entry)) = (endpoint, wiring.channel_mut(channel.name)) {
            *entry = DirectEndpoint::shared(endpoint.clone());
        }
    }
    let wait = matches
        .get_one::<Duration>("subscriber_wait")
        .copied()
        .unwrap_or_default();
    let mut startup = Startup::new(topology, wait);
    startup.ready_file = matches.get_one::<std::path::PathBuf>("ready_file").cloned();
    wiring.set_startup(startup);
    if let Some(keys) = matches.get_one::<std::path::PathBuf>("keys") {
        wiring.secure(topology, keys.clone());
    }
    if matches.get_flag("insecure") {
        wiring.insecure();
    }
    wiring
}

fn kebab(name: &str) -> String {
    name.replace('_', "-")
}

/// The environment variable a Hermes process reads an endpoint override from: `HERMES_` and
/// `parts` upper-cased and joined by `_`, anything but letters and digits as `_`.
///
/// ```
/// use hermes_runtime::topology::override_variable;
/// assert_eq!(override_variable(&["market", "backend"]), "HERMES_MARKET_BACKEND");
/// assert_eq!(override_variable(&["trader_orders"]), "HERMES_TRADER_ORDERS");
/// ```
pub fn override_variable(parts: &[&str]) -> String {
    let mut name = String::from("HERMES");
    for part in parts {
        name.push('_');
        name.extend(part.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
    }
    name
}

fn seconds(text: &str) -> std::result::Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && (0.0..1e9).contains(&seconds) => {
            Ok(Duration::from_secs_f64(seconds))
        }
        _ => Err(format!(
            "expected a number of seconds, 0 or more, found `{text}`"
        )),
    }
}

fn positive_seconds(text: &str) -> std::result::Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 => {
            Ok(Duration::from_secs_f64(seconds))
        }
        _ => Err(format!(
            "expected a positive number of seconds, found `{text}`"
        )),
    }
}

/// Logs through `tracing` to stderr, filtered by `RUST_LOG`, else by `level`.
pub fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Another subscriber already installed (a test harness) is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Runs what `start` spawns on a new runtime, wired as `options` say, until Ctrl-C, SIGTERM or
/// `--duration`; logs as `--log-level` says, reports failures on stderr and returns the exit
/// status.
pub fn run<A>(
    options: &Options<A>,
    start: impl FnOnce(&mut Runtime, &Wiring) -> Result<()>,
) -> ExitCode {
    init_tracing(&options.log_level);
    let mut runtime = match Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(address) = options.metrics {
        // Before `start`: sockets report to metrics only if they are made after this.
        let served =
            runtime
                .serve_metrics(address)
                .and_then(|bound| match &options.metrics_address_file {
                    Some(path) => std::fs::write(path, format!("{bound}\n")).map_err(|source| {
                        crate::Error::Metrics {
                            address: format!("{bound} (writing `{}`)", path.display()),
                            source,
                        }
                    }),
                    None => Ok(()),
                });
        if let Err(error) = served {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(error) = start(&mut runtime, &options.wiring) {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    let startup = options.wiring.startup();
    if let Err(error) = startup.signal_ready() {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    runtime.readiness().set_ready();
    let outcome = runtime.run_until_signal_or(options.duration);
    startup.clear_ready();
    exit_code(outcome)
}

/// The exit code of a run: success, or failure after printing every failure to stderr.
pub fn exit_code(outcome: std::result::Result<(), Vec<crate::NodeFailure>>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failures) => {
            for failure in &failures {
                eprintln!("error: {failure}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The `main` of a process running node `N` alone with `handler`: a generated node's `main`.
pub fn node_main<N, H>(topology: &TopologyInfo, handler: H) -> ExitCode
where
    N: NodeSpec<H>,
    H: Hooks<N::Outputs> + Send + 'static,
{
    let options = Options::<NoArgs>::parse(topology, N::INFO.name);
    run(&options, |runtime, wiring| {
        tracing::info!(node = N::INFO.name, topology = topology.name, "starting");
        driver::spawn::<N, H>(runtime, wiring, handler)
    })
}

/// The `main` of a process running proxy `name` of `topology` alone.
pub fn proxy_main(topology: &TopologyInfo, name: &str) -> ExitCode {
    let options = Options::<NoArgs>::parse(topology, name);
    run(&options, |runtime, wiring| {
        let mut wiring = wiring.clone();
        let config = wiring
            .proxy(name)
            .cloned()
            .ok_or_else(|| crate::Error::Endpoint {
                endpoint: String::new(),
                reason: format!("topology `{}` has no proxy `{name}`", topology.name),
            })?;
        driver::spawn_proxy(runtime, &mut wiring, name, config)?;
        if let Some(bound) = wiring.proxy(name) {
            tracing::info!(
                frontend = %bound.frontend,
                backend = %bound.backend,
                capture = bound.capture.as_deref().unwrap_or("none"),
                "proxy `{name}` up"
            );
        }
        Ok(())
    })
}
