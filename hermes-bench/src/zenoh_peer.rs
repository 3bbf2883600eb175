//! Zenoh measured as a peer, in the same process and run as Hermes, so that issue 20's
//! comparison is measured rather than quoted. Built only with the `zenoh` feature.
//!
//! The configuration is the issue's reference: two Zenoh 1.x sessions in this process, both in
//! peer mode with multicast scouting off; the subscriber's session listens on
//! `tcp/127.0.0.1:<free port>` and the publisher's connects to it and listens nowhere. The
//! publisher uses [`CongestionControl::Block`], so nothing is dropped, and the subscriber drains
//! Zenoh's default FIFO channel (256 samples) on a thread of its own.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! let figures = hermes_bench::zenoh_peer::measure(64, Duration::from_secs(1), 5, Some(10_000))?;
//! println!("{:.0} msg/s, p50 {:?} µs", figures.msgs_per_s, figures.p50_us);
//! # Ok::<(), String>(())
//! ```

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hermes_runtime::now_ns;
use zenoh::Wait;
use zenoh::handlers::FifoChannelHandler;
use zenoh::pubsub::{Publisher, Subscriber};
use zenoh::qos::CongestionControl;
use zenoh::sample::Sample;
use zenoh::{Config, Session};

use crate::measure::{median, quantile};

/// The key both sessions use.
const KEY: &str = "hermes-bench/zenoh";

/// The first 8 bytes of a warm-up message; measured messages never carry it (sequence numbers
/// start at 1 and send times are far from 0).
const WARM_UP: u64 = 0;

/// The smallest payload: the first 8 bytes carry a sequence number or a send time.
pub const MIN_PAYLOAD: usize = 8;

/// The zenoh release this module is built against (the workspace's `zenoh` requirement).
pub const VERSION: &str = "1.10.2";

/// How long the publisher may take to connect and the route to appear.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the subscriber waits for a missing message once the publisher has finished.
const QUIET_TIMEOUT: Duration = Duration::from_secs(5);

/// Zenoh's figures for one payload size.
#[derive(Debug, Clone, PartialEq)]
pub struct ZenohFigures {
    /// Median of [`runs`](Self::runs), in messages per second.
    pub msgs_per_s: f64,
    /// Each throughput run's rate: messages received divided by the time from the first to the
    /// last of them.
    pub runs: Vec<f64>,
    /// Median one-way latency in µs at the requested rate, when one was requested.
    pub p50_us: Option<f64>,
    /// 99th percentile one-way latency in µs at the requested rate, when one was requested.
    pub p99_us: Option<f64>,
}

/// Measures Zenoh pub/sub over tcp loopback with `payload`-byte messages: `runs` throughput
/// runs of `run` each, the publisher sending as fast as Block congestion control lets it, and,
/// with `latency_rate`, as many runs of `run` at that many messages per second whose one-way
/// latencies (send time written in the payload's first 8 bytes, as nanoseconds since the Unix
/// epoch, subtracted on receipt) are pooled.
///
/// # Errors
///
/// When an argument is out of range (`payload` under [`MIN_PAYLOAD`] bytes, no runs, a zero
/// `run` or rate), when Zenoh cannot open, connect or declare, when the route does not appear
/// within 10 s, and when a message is lost or arrives out of order.
pub fn measure(
    payload: usize,
    run: Duration,
    runs: usize,
    latency_rate: Option<u64>,
) -> Result<ZenohFigures, String> {
    if payload < MIN_PAYLOAD {
        return Err(format!(
            "invalid payload: expected at least {MIN_PAYLOAD} bytes, found {payload}"
        ));
    }
    if runs == 0 {
        return Err("invalid runs: expected at least 1, found 0".to_owned());
    }
    if run.is_zero() {
        return Err("invalid run time: expected more than 0 s, found 0 s".to_owned());
    }
    if latency_rate == Some(0) {
        return Err("invalid latency rate: expected at least 1 msg/s, found 0".to_owned());
    }
    let pair = Pair::open()?;
    let figures = pair.measure(payload, run, runs, latency_rate);
    let closed = pair.close();
    let figures = figures?;
    closed?;
    Ok(figures)
}

/// What one flood did.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Flood {
    sent: u64,
    received: u64,
    /// From the first message received to the last.
    first_to_last: Duration,
    /// The first sequence number that arrived out of turn: (expected, found).
    disorder: Option<(u64, u64)>,
}

/// A publisher's and a subscriber's session, connected over tcp loopback.
struct Pair {
    publisher_session: Session,
    subscriber_session: Session,
    publisher: Publisher<'static>,
    subscriber: Subscriber<FifoChannelHandler<Sample>>,
}

impl Pair {
    /// Opens both sessions and declares both ends, then waits until a message gets through.
    fn open() -> Result<Self, String> {
        // A port found free a moment ago can be taken before Zenoh binds it; try another then.
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            let endpoint = format!("tcp/127.0.0.1:{port}");
            let subscriber_session = match zenoh::open(config(&[&endpoint], &[])?).wait() {
                Ok(session) => session,
                Err(err) => {
                    last_error =
                        format!("cannot open zenoh's subscriber session on {endpoint}: {err}");
                    continue;
                }
            };
            let subscriber = subscriber_session
                .declare_subscriber(KEY)
                .wait()
                .map_err(|err| format!("cannot declare zenoh's subscriber on `{KEY}`: {err}"))?;
            let publisher_session =
                zenoh::open(config(&[], &[&endpoint])?)
                    .wait()
                    .map_err(|err| {
                        format!(
                            "cannot open zenoh's publisher session connecting to {endpoint}: {err}"
                        )
                    })?;
            let publisher = publisher_session
                .declare_publisher(KEY)
                .congestion_control(CongestionControl::Block)
                .wait()
                .map_err(|err| format!("cannot declare zenoh's publisher on `{KEY}`: {err}"))?;
            let pair = Pair {
                publisher_session,
                subscriber_session,
                publisher,
                subscriber,
            };
            pair.warm_up()?;
            return Ok(pair);
        }
        Err(last_error)
    }

    /// Sends warm-up messages until the subscriber has one, so that the first measured message
    /// does not wait for the subscription to propagate.
    fn warm_up(&self) -> Result<(), String> {
        let deadline = Instant::now() + SETUP_TIMEOUT;
        let message = stamped(MIN_PAYLOAD, WARM_UP);
        loop {
            self.publisher
                .put(message.clone())
                .wait()
                .map_err(|err| format!("cannot send zenoh's warm-up message: {err}"))?;
            match self
                .subscriber
                .recv_timeout(Duration::from_millis(10))
                .map_err(|err| format!("zenoh's subscriber closed during warm-up: {err}"))?
            {
                Some(_) => return Ok(()),
                None if Instant::now() >= deadline => {
                    return Err(format!(
                        "zenoh's subscriber received nothing within {} s of connecting",
                        SETUP_TIMEOUT.as_secs()
                    ));
                }
                None => {}
            }
        }
    }

    fn measure(
        &self,
        payload: usize,
        run: Duration,
        runs: usize,
        latency_rate: Option<u64>,
    ) -> Result<ZenohFigures, String> {
        let mut rates = Vec::with_capacity(runs);
        for _ in 0..runs {
            let flood = self.flood(payload, run, u64::MAX)?;
            if let Some((expected, found)) = flood.disorder {
                return Err(format!(
                    "zenoh delivered out of order: expected message {expected}, found {found}"
                ));
            }
            if flood.received < 2 {
                return Err(format!(
                    "zenoh delivered {} message(s) in {} s, too few for a rate",
                    flood.received,
                    run.as_secs_f64()
                ));
            }
            rates.push((flood.received - 1) as f64 / flood.first_to_last.as_secs_f64().max(1e-9));
        }
        let (p50_us, p99_us) = match latency_rate {
            Some(rate) => {
                let mut samples = Vec::new();
                for _ in 0..runs {
                    samples.extend(self.paced(payload, rate, run)?);
                }
                samples.sort_unstable();
                (
                    Some(quantile(&samples, 0.50) as f64 / 1e3),
                    Some(quantile(&samples, 0.99) as f64 / 1e3),
                )
            }
            None => (None, None),
        };
        Ok(ZenohFigures {
            msgs_per_s: median(&rates),
            runs: rates,
            p50_us,
            p99_us,
        })
    }

    /// Sends numbered messages (from 1) as fast as the publisher can, for `run` or up to
    /// `limit` messages, while the subscriber's thread receives them and checks their order.
    /// Every message must arrive: the flood fails if the subscriber waits [`QUIET_TIMEOUT`] for
    /// one after the publisher finished.
    fn flood(&self, payload: usize, run: Duration, limit: u64) -> Result<Flood, String> {
        let sent = AtomicU64::new(u64::MAX);
        let receiver = |sent: &AtomicU64| -> Result<Flood, String> {
            let mut received = 0u64;
            let mut first = None;
            let mut last = Instant::now();
            let mut disorder = None;
            loop {
                let total = sent.load(Ordering::Acquire);
                if received == total {
                    break;
                }
                let wait = if total == u64::MAX {
                    Duration::from_millis(100)
                } else {
                    QUIET_TIMEOUT
                };
                let Some(sample) = self
                    .subscriber
                    .recv_timeout(wait)
                    .map_err(|err| format!("zenoh's subscriber closed during a flood: {err}"))?
                else {
                    if total == u64::MAX {
                        continue;
                    }
                    return Err(format!(
                        "zenoh delivered {received} of {total} messages and then nothing for {} s",
                        QUIET_TIMEOUT.as_secs()
                    ));
                };
                let number = leading_u64(&sample)?;
                if number == WARM_UP {
                    continue;
                }
                last = Instant::now();
                first.get_or_insert(last);
                received += 1;
                if number != received && disorder.is_none() {
                    disorder = Some((received, number));
                }
            }
            Ok(Flood {
                sent: received,
                received,
                first_to_last: first.map_or(Duration::ZERO, |first| last - first),
                disorder,
            })
        };
        thread::scope(|scope| {
            let receiving = thread::Builder::new()
                .name("zenoh-subscriber".to_owned())
                .spawn_scoped(scope, || receiver(&sent))
                .map_err(|err| format!("cannot start zenoh's subscriber thread: {err}"))?;
            let outcome = self.send_numbered(payload, run, limit);
            // Whatever happened, tell the subscriber how many went out so that it stops.
            sent.store(*outcome.as_ref().unwrap_or(&0), Ordering::Release);
            let received = receiving
                .join()
                .map_err(|_| "zenoh's subscriber thread panicked".to_owned())?;
            let sent = outcome?;
            let mut flood = received?;
            flood.sent = sent;
            Ok(flood)
        })
    }

    /// Sends messages numbered from 1 for `run` or up to `limit` of them; returns how many went
    /// out.
    fn send_numbered(&self, payload: usize, run: Duration, limit: u64) -> Result<u64, String> {
        let mut message = vec![0u8; payload];
        let started = Instant::now();
        let mut number = 0u64;
        loop {
            // Reading the clock every 64 messages keeps it out of the measured cost.
            if number == limit || (number.is_multiple_of(64) && started.elapsed() >= run) {
                return Ok(number);
            }
            number += 1;
            message[..8].copy_from_slice(&number.to_le_bytes());
            self.publisher
                .put(message.clone())
                .wait()
                .map_err(|err| format!("cannot send zenoh message {number}: {err}"))?;
        }
    }

    /// One-way latencies in ns of messages sent at `rate` per second for `run`, each carrying
    /// its send time.
    fn paced(&self, payload: usize, rate: u64, run: Duration) -> Result<Vec<u64>, String> {
        let count = ((rate as f64 * run.as_secs_f64()).ceil() as u64).max(10);
        let done = AtomicBool::new(false);
        let receiver = |done: &AtomicBool| -> Result<Vec<u64>, String> {
            let mut samples = Vec::with_capacity(count as usize);
            while (samples.len() as u64) < count {
                let finished = done.load(Ordering::Acquire);
                let wait = if finished {
                    QUIET_TIMEOUT
                } else {
                    Duration::from_millis(100)
                };
                match self
                    .subscriber
                    .recv_timeout(wait)
                    .map_err(|err| format!("zenoh's subscriber closed during a paced run: {err}"))?
                {
                    Some(sample) => {
                        let stamp = leading_u64(&sample)?;
                        if stamp != WARM_UP {
                            samples.push(now_ns().saturating_sub(stamp));
                        }
                    }
                    None if finished => {
                        return Err(format!(
                            "zenoh delivered {} of {count} paced messages and then nothing for {} s",
                            samples.len(),
                            QUIET_TIMEOUT.as_secs()
                        ));
                    }
                    None => {}
                }
            }
            Ok(samples)
        };
        thread::scope(|scope| {
            let receiving = thread::Builder::new()
                .name("zenoh-subscriber".to_owned())
                .spawn_scoped(scope, || receiver(&done))
                .map_err(|err| format!("cannot start zenoh's subscriber thread: {err}"))?;
            let outcome = self.send_paced(payload, rate, count);
            done.store(true, Ordering::Release);
            let samples = receiving
                .join()
                .map_err(|_| "zenoh's subscriber thread panicked".to_owned())?;
            outcome?;
            samples
        })
    }

    /// Sends `count` messages at `rate` per second, each stamped with its send time.
    fn send_paced(&self, payload: usize, rate: u64, count: u64) -> Result<(), String> {
        let mut message = vec![0u8; payload];
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        let started = Instant::now();
        for n in 0..count {
            let due = started + interval.mul_f64(n as f64);
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            message[..8].copy_from_slice(&now_ns().to_le_bytes());
            self.publisher
                .put(message.clone())
                .wait()
                .map_err(|err| format!("cannot send paced zenoh message {n}: {err}"))?;
        }
        Ok(())
    }

    /// Undeclares both ends and closes both sessions.
    fn close(self) -> Result<(), String> {
        let Pair {
            publisher_session,
            subscriber_session,
            publisher,
            subscriber,
        } = self;
        publisher
            .undeclare()
            .wait()
            .map_err(|err| format!("cannot undeclare zenoh's publisher: {err}"))?;
        subscriber
            .undeclare()
            .wait()
            .map_err(|err| format!("cannot undeclare zenoh's subscriber: {err}"))?;
        publisher_session
            .close()
            .wait()
            .map_err(|err| format!("cannot close zenoh's publisher session: {err}"))?;
        subscriber_session
            .close()
            .wait()
            .map_err(|err| format!("cannot close zenoh's subscriber session: {err}"))
    }
}

/// A configuration for one session of the pair: peer mode, multicast scouting off, listening
/// and connecting only where told.
fn config(listen: &[&str], connect: &[&str]) -> Result<Config, String> {
    let mut config = Config::default();
    let endpoints = |list: &[&str]| serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
    let timeout_ms = SETUP_TIMEOUT.as_millis().to_string();
    for (key, value) in [
        ("mode", "\"peer\"".to_owned()),
        ("scouting/multicast/enabled", "false".to_owned()),
        ("listen/endpoints", endpoints(listen)),
        ("connect/endpoints", endpoints(connect)),
        // Fail the open, rather than retry in the background, when the peer is not there.
        ("connect/exit_on_failure", "true".to_owned()),
        ("connect/timeout_ms", timeout_ms),
    ] {
        config
            .insert_json5(key, &value)
            .map_err(|err| format!("cannot set zenoh's `{key}` to {value}: {err}"))?;
    }
    Ok(config)
}

/// A tcp port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|err| format!("cannot find a free tcp port on 127.0.0.1: {err}"))
}

/// A `payload`-byte message whose first 8 bytes are `value`.
fn stamped(payload: usize, value: u64) -> Vec<u8> {
    let mut message = vec![0u8; payload];
    message[..8].copy_from_slice(&value.to_le_bytes());
    message
}

/// The little-endian u64 in a sample's first 8 bytes.
fn leading_u64(sample: &Sample) -> Result<u64, String> {
    let bytes = sample.payload().to_bytes();
    bytes
        .get(..8)
        .and_then(|head| head.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| {
            format!(
                "invalid zenoh sample: expected at least 8 bytes, found {}",
                bytes.len()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_arrives_complete_and_in_order() {
        let pair = Pair::open().unwrap();
        let flood = pair.flood(64, Duration::from_secs(10), 20_000).unwrap();
        pair.close().unwrap();
        assert_eq!(
            flood,
            Flood {
                sent: 20_000,
                received: 20_000,
                first_to_last: flood.first_to_last,
                disorder: None,
            }
        );
    }

    #[test]
    fn a_short_measurement_reports_each_run_and_latency() {
        let figures = measure(64, Duration::from_millis(200), 3, Some(1_000)).unwrap();
        assert_eq!(figures.runs.len(), 3);
        assert!(figures.runs.iter().all(|&rate| rate > 0.0), "{figures:?}");
        assert_eq!(figures.msgs_per_s, median(&figures.runs));
        let (p50, p99) = (figures.p50_us.unwrap(), figures.p99_us.unwrap());
        assert!(0.0 < p50 && p50 <= p99, "{figures:?}");
    }

    #[test]
    fn a_payload_too_small_for_the_stamp_is_refused() {
        let err = measure(7, Duration::from_millis(100), 1, None).unwrap_err();
        assert_eq!(err, "invalid payload: expected at least 8 bytes, found 7");
    }

    #[test]
    #[ignore = "a measurement, not a check: run by hand with --ignored --nocapture on a quiet machine"]
    fn print_figures() {
        for payload in [64, 1024] {
            let figures = measure(payload, Duration::from_secs(1), 5, Some(10_000)).unwrap();
            println!(
                "zenoh {payload} B: {:.0} msg/s (runs {:?}), one-way at 10,000 msg/s p50 {:.1} µs p99 {:.1} µs",
                figures.msgs_per_s,
                figures
                    .runs
                    .iter()
                    .map(|rate| format!("{rate:.0}"))
                    .collect::<Vec<_>>(),
                figures.p50_us.unwrap_or(f64::NAN),
                figures.p99_us.unwrap_or(f64::NAN),
            );
        }
    }
}
