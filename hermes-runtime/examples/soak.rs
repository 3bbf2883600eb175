//! Soak: a proxy, a publishing node and a subscribing node at a fixed rate for a long time,
//! reporting memory and counts as it goes. Not part of CI.
//!
//! ```text
//! cargo run --release -p hermes-runtime --example soak -- [--minutes M] [--rate HZ] [--every SECS]
//! ```
//!
//! Every `--every` seconds it prints one line: elapsed time, resident memory (VmRSS), envelopes
//! sent, received and lost, and the receiver's largest lag. It exits 1 if anything was lost,
//! failed to decode, or if memory grew by more than half between the first and the last report.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hermes_runtime::{HermesMessage, Node, ProxyConfig, Publisher, Receiver, Runtime};

#[derive(Clone, PartialEq, prost::Message, HermesMessage)]
#[hermes(name = "soak.Reading")]
struct Reading {
    #[prost(uint64, tag = "1")]
    n: u64,
    #[prost(double, tag = "2")]
    value: f64,
    #[prost(string, tag = "3")]
    sensor: String,
}

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> std::process::ExitCode {
    let (mut minutes, mut rate, mut every) = (10.0, 10_000.0, 30.0);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .and_then(|value| value.parse::<f64>().ok())
            .filter(|v| *v > 0.0);
        match (arg.as_str(), value) {
            ("--minutes", Some(v)) => minutes = v,
            ("--rate", Some(v)) => rate = v,
            ("--every", Some(v)) => every = v,
            _ => {
                eprintln!(
                    "usage: soak [--minutes M] [--rate HZ] [--every SECS]  (positive numbers)"
                );
                return std::process::ExitCode::from(2);
            }
        }
    }
    match soak(
        Duration::from_secs_f64(minutes * 60.0),
        rate,
        Duration::from_secs_f64(every),
    ) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::from(2)
        }
    }
}

fn soak(
    duration: Duration,
    rate: f64,
    every: Duration,
) -> Result<bool, Box<dyn std::error::Error>> {
    let mut runtime = Runtime::new()?;
    let proxy = runtime.spawn_proxy(
        "bus",
        ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
    )?;
    let context = runtime.context().clone();

    // The receiver lives inside its node: count in the handler, so this thread can read totals.
    let received = Arc::new(AtomicU64::new(0));
    let lost = Arc::new(AtomicU64::new(0));
    let (count, gaps) = (received.clone(), lost.clone());
    let readings = Receiver::<Reading>::builder(&context)
        .topic("readings")
        .hwm(100_000)
        .connect(&proxy.backend)?;
    let mut expected: Option<u64> = None;
    runtime.spawn_node(
        Node::new("sink", ()).subscribe(readings, move |_, envelope| {
            if let Some(next) = expected
                && envelope.seq > next
            {
                gaps.fetch_add(envelope.seq - next, Ordering::Relaxed);
            }
            expected = Some(envelope.seq + 1);
            count.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }),
    )?;

    let sent = Arc::new(AtomicU64::new(0));
    let total = sent.clone();
    let mut publisher = Publisher::<Reading>::builder(&context)
        .node("sensor", "readings")
        .hwm(100_000)
        .connect(&proxy.frontend)?;
    // Ticks of 1 ms, each sending the envelopes due by then, so any rate up to ~1 MHz is exact.
    let started = Instant::now();
    let mut n = 0u64;
    runtime.spawn_node(
        Node::new("sensor", ()).on_tick(Duration::from_millis(1), move |_| {
            let due = (started.elapsed().as_secs_f64() * rate) as u64;
            while n < due {
                publisher.send(&Reading {
                    n,
                    value: (n as f64).sin(),
                    sensor: "sensor-1".into(),
                })?;
                n += 1;
            }
            total.store(n, Ordering::Relaxed);
            Ok(())
        }),
    )?;

    let stop = runtime.shutdown();
    let waiter =
        std::thread::spawn(move || runtime.wait_timeout(duration + Duration::from_secs(60)));
    println!("| elapsed s | RSS KiB | sent | received | lost |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    let mut first_rss = None;
    let mut last_rss = 0;
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        std::thread::sleep(every.min(deadline.saturating_duration_since(Instant::now())));
        last_rss = resident_kib();
        first_rss.get_or_insert(last_rss);
        println!(
            "| {:.0} | {last_rss} | {} | {} | {} |",
            started.elapsed().as_secs_f64(),
            sent.load(Ordering::Relaxed),
            received.load(Ordering::Relaxed),
            lost.load(Ordering::Relaxed)
        );
    }
    stop.trigger();
    let outcome = waiter.join().map_err(|_| "the runtime thread panicked")?;
    if let Err(failures) = outcome {
        for failure in &failures {
            eprintln!("{failure}");
        }
        return Ok(false);
    }
    let (sent, received, lost) = (
        sent.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
        lost.load(Ordering::Relaxed),
    );
    let bounded = first_rss.is_none_or(|first| last_rss <= first + first / 2);
    println!("total: sent {sent}, received {received}, lost {lost}; memory bounded: {bounded}");
    Ok(lost == 0 && bounded)
}
