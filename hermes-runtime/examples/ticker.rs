//! A proxy, a publishing node and a subscribing node in one process, until Ctrl-C.
//!
//! ```text
//! cargo run -p hermes-runtime --example ticker -- [--duration SECS] [--rate HZ]
//! ```
//!
//! It binds the proxy on ephemeral loopback ports, prints them, and at the end prints how many
//! ticks were sent and received.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hermes_runtime::{HermesMessage, Node, ProxyConfig, Publisher, Receiver, Runtime};

/// The message: a counter and the price of something.
#[derive(Clone, PartialEq, prost::Message, HermesMessage)]
#[hermes(name = "example.Tick")]
struct Tick {
    #[prost(uint64, tag = "1")]
    n: u64,
    #[prost(double, tag = "2")]
    price: f64,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut duration = None;
    let mut rate = 1000.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|value| value.parse::<f64>().ok());
        match (arg.as_str(), value) {
            ("--duration", Some(seconds)) if seconds > 0.0 => {
                duration = Some(Duration::from_secs_f64(seconds))
            }
            ("--rate", Some(hz)) if hz > 0.0 => rate = hz,
            _ => {
                eprintln!("usage: ticker [--duration SECS] [--rate HZ]  (positive numbers)");
                return std::process::ExitCode::from(2);
            }
        }
    }
    match run(duration, rate) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(duration: Option<Duration>, rate: f64) -> Result<(), Box<dyn std::error::Error>> {
    let mut runtime = Runtime::new()?;
    let proxy = runtime.spawn_proxy(
        "market",
        ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
    )?;
    println!(
        "proxy frontend {} backend {}",
        proxy.frontend, proxy.backend
    );
    let context = runtime.context().clone();

    let received = Arc::new(AtomicU64::new(0));
    let seen = received.clone();
    let ticks = Receiver::<Tick>::builder(&context)
        .topic("ticks")
        .connect(&proxy.backend)?;
    runtime.spawn_node(
        Node::new("counter", ()).subscribe(ticks, move |_, envelope| {
            seen.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                n = envelope.message.n,
                price = envelope.message.price,
                "tick"
            );
            Ok(())
        }),
    )?;

    let sent = Arc::new(AtomicU64::new(0));
    let count = sent.clone();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .node("source", "ticks")
        .connect(&proxy.frontend)?;
    let mut n = 0u64;
    runtime.spawn_node(Node::new("source", ()).on_tick(
        Duration::from_secs_f64(1.0 / rate),
        move |_| {
            n += 1;
            publisher.send(&Tick {
                n,
                price: 100.0 + (n as f64 * 0.1).sin(),
            })?;
            count.store(n, Ordering::Relaxed);
            Ok(())
        },
    ))?;
    println!("running; Ctrl-C to stop");

    let outcome = runtime.run_until_signal_or(duration);
    println!(
        "stopped: sent {} received {} (the first ticks go out before the subscription arrives)",
        sent.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
    );
    outcome.map_err(|failures| {
        failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
            .into()
    })
}
