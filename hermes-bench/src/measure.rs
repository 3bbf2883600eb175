//! The measurements: flooding a path, pacing it, bouncing messages back, and what the process
//! used meanwhile (CPU from the process CPU clock, peak RSS from `/proc`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hermes_runtime::now_ns;

use crate::path::{Path, WARM_UP};

/// Most payload bytes one flood run sends, so an unlimited high-water mark cannot queue more
/// than this much memory when the sender outruns the receiver.
const FLOOD_BYTE_CAP: u64 = 128 * 1024 * 1024;

/// What one flood run did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flood {
    /// Messages the source sent.
    pub sent: u64,
    /// Messages the sink received.
    pub received: u64,
    /// From the first send to the last receive.
    pub elapsed: Duration,
    /// How long the source took to send them.
    pub send_time: Duration,
    /// CPU the whole process used, every thread.
    pub cpu: Duration,
    /// Peak resident set during the run, when `/proc` says.
    pub peak_rss_kib: Option<u64>,
}

impl Flood {
    /// Received messages per second.
    pub(crate) fn rate(&self) -> f64 {
        self.received as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Sends as fast as the source can for `run_time` (or up to the byte cap) while this thread
/// receives. With `lossy`, the run ends once the sink has been quiet for a moment after the last
/// send (a high-water mark drops); otherwise when every message has arrived.
pub(crate) fn flood(
    path: Path,
    run_time: Duration,
    payload: usize,
    lossy: bool,
) -> Result<Flood, String> {
    let Path {
        mut source,
        mut sink,
        parts,
    } = path;
    let max_messages = (FLOOD_BYTE_CAP / payload.max(1) as u64).max(1000);
    let total = Arc::new(AtomicU64::new(u64::MAX));
    let failed = Arc::new(AtomicBool::new(false));
    reset_peak_rss();
    let cpu_before = process_cpu();
    let started = Instant::now();
    let sender = {
        let total = total.clone();
        let failed = failed.clone();
        std::thread::Builder::new()
            .name("bench-source".to_owned())
            .spawn(move || {
                let mut sent = 0u64;
                let mut outcome = Ok(());
                loop {
                    if let Err(err) = source.send(0) {
                        outcome = Err(err);
                        failed.store(true, Ordering::Relaxed);
                        break;
                    }
                    sent += 1;
                    if sent.is_multiple_of(64)
                        && (started.elapsed() >= run_time || sent >= max_messages)
                    {
                        break;
                    }
                }
                let send_time = started.elapsed();
                total.store(sent, Ordering::Release);
                (source, outcome, send_time)
            })
            .map_err(|err| format!("cannot start the source thread: {err}"))?
    };
    let mut received = 0u64;
    let mut last = started;
    loop {
        // A lossy flood ends after a short quiet spell, but not before the first message: on a
        // loaded machine the path's threads may not have run yet when the source finishes.
        let quiet = if lossy && received > 0 {
            Duration::from_millis(30)
        } else {
            Duration::from_secs(2)
        };
        match sink.recv(quiet)? {
            Some(WARM_UP) => continue,
            Some(_) => {
                received += 1;
                if lossy {
                    last = Instant::now();
                }
                if received >= total.load(Ordering::Acquire) {
                    last = Instant::now();
                    break;
                }
            }
            None if total.load(Ordering::Acquire) != u64::MAX || failed.load(Ordering::Relaxed) => {
                break;
            }
            None => {}
        }
    }
    let cpu = process_cpu().saturating_sub(cpu_before);
    let peak_rss_kib = proc_status_kib("VmHWM");
    let (source, outcome, send_time) = sender
        .join()
        .map_err(|_| "the source thread panicked".to_owned())?;
    outcome?;
    drop((source, sink, parts));
    Ok(Flood {
        sent: total.load(Ordering::Acquire),
        received,
        elapsed: last - started,
        send_time,
        cpu,
        peak_rss_kib,
    })
}

/// What one paced run did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Paced {
    /// One-way latency of each message received, ns.
    pub samples: Vec<u64>,
    /// Messages sent per second, first send to last.
    pub sent_per_s: f64,
}

/// One-way latencies in ns of messages sent at `rate` per second for `run_time`, measured from
/// the stamp the source wrote just before sending to the moment the sink returned it.
///
/// The source sleeps whenever it is ahead of its schedule and, behind it, sends what is due
/// at once: above about 20,000 msg/s the sleeps are longer than the interval (the kernel's
/// timer slack), so messages go out in short bursts rather than a busy-waiting thread taking
/// a core from the path. A source that cannot keep up stops at three times `run_time`. Each
/// message is stamped when it is sent, not when it was due.
pub(crate) fn paced(path: Path, rate: u64, run_time: Duration) -> Result<Paced, String> {
    let Path {
        mut source,
        mut sink,
        parts,
    } = path;
    let count = ((rate as f64 * run_time.as_secs_f64()).ceil() as u64).max(10);
    let done = Arc::new(AtomicBool::new(false));
    let sender = {
        let done = done.clone();
        std::thread::Builder::new()
            .name("bench-paced".to_owned())
            .spawn(move || {
                let started = Instant::now();
                let interval = Duration::from_secs_f64(1.0 / rate as f64);
                let give_up = run_time * 3;
                let mut outcome = Ok(());
                let mut sent = 0u64;
                for n in 0..count {
                    let due = started + interval.mul_f64(n as f64);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    } else if now - started > give_up {
                        break;
                    }
                    if let Err(err) = source.send(now_ns()) {
                        outcome = Err(err);
                        break;
                    }
                    sent += 1;
                }
                let sent_per_s = sent as f64 / started.elapsed().as_secs_f64().max(1e-9);
                done.store(true, Ordering::Release);
                (source, outcome, sent_per_s)
            })
            .map_err(|err| format!("cannot start the paced source: {err}"))?
    };
    let mut samples = Vec::with_capacity(count as usize);
    while (samples.len() as u64) < count {
        match sink.recv(Duration::from_millis(500))? {
            Some(WARM_UP) => {}
            Some(stamp) => samples.push(now_ns().saturating_sub(stamp)),
            None if done.load(Ordering::Acquire) => break,
            None => {}
        }
    }
    let (source, outcome, sent_per_s) = sender
        .join()
        .map_err(|_| "the paced source panicked".to_owned())?;
    outcome?;
    drop((source, sink, parts));
    Ok(Paced {
        samples,
        sent_per_s,
    })
}

/// Round-trip times in ns for `run_time`: one message at a time out on `forward`, echoed back on
/// `back` by another thread.
pub(crate) fn round_trips(
    forward: Path,
    back: Path,
    run_time: Duration,
) -> Result<Vec<u64>, String> {
    let Path {
        source: mut out,
        sink: mut echo_in,
        parts: forward_parts,
    } = forward;
    let Path {
        source: mut echo_out,
        sink: mut home,
        parts: back_parts,
    } = back;
    let stop = Arc::new(AtomicBool::new(false));
    let echo = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("bench-echo".to_owned())
            .spawn(move || -> Result<(), String> {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(stamp) = echo_in.recv(Duration::from_millis(50))? {
                        echo_out.send(stamp)?;
                    }
                }
                drop((echo_in, echo_out));
                Ok(())
            })
            .map_err(|err| format!("cannot start the echo thread: {err}"))?
    };
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut outcome = Ok(());
    while started.elapsed() < run_time {
        let sent = now_ns();
        if let Err(err) = out.send(sent) {
            outcome = Err(err);
            break;
        }
        // A reply that comes back late still carries its own stamp.
        match home.recv(Duration::from_secs(1)) {
            Ok(Some(stamp)) if stamp != WARM_UP => samples.push(now_ns().saturating_sub(stamp)),
            Ok(_) => {}
            Err(err) => {
                outcome = Err(err);
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let echoed = echo
        .join()
        .map_err(|_| "the echo thread panicked".to_owned())?;
    drop((out, home, forward_parts, back_parts));
    outcome.and(echoed)?;
    Ok(samples)
}

/// CPU time of the whole process, every thread, from the process CPU-time clock.
pub(crate) fn process_cpu() -> Duration {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID).map_or(Duration::ZERO, |time| {
        Duration::new(
            u64::try_from(time.tv_sec()).unwrap_or(0),
            u32::try_from(time.tv_nsec()).unwrap_or(0),
        )
    })
}

/// Resets the kernel's peak-RSS mark (`VmHWM`) to the current RSS (Linux 4.0 and later).
pub(crate) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A `kB` field of `/proc/self/status`, such as `VmHWM` or `VmRSS`.
pub(crate) fn proc_status_kib(field: &str) -> Option<u64> {
    status_field(&std::fs::read_to_string("/proc/self/status").ok()?, field)
}

/// A `kB` field of another process's `/proc/PID/status`.
pub(crate) fn pid_status_kib(pid: u32, field: &str) -> Option<u64> {
    status_field(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        field,
    )
}

fn status_field(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The median (upper median for an even count); 0 for none.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// The `q` quantile (0..=1) of sorted samples, nearest rank; 0 for none.
pub(crate) fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank() {
        let samples: Vec<u64> = (1..=1000).collect();
        assert_eq!(quantile(&samples, 0.5), 500);
        assert_eq!(quantile(&samples, 0.99), 990);
        assert_eq!(quantile(&samples, 0.999), 999);
        assert_eq!(quantile(&[], 0.5), 0);
    }

    #[test]
    fn status_fields_parse() {
        let status = "Name:\tx\nVmHWM:\t  1234 kB\nVmRSS:\t   99 kB\n";
        assert_eq!(status_field(status, "VmHWM"), Some(1234));
        assert_eq!(status_field(status, "VmRSS"), Some(99));
        assert_eq!(status_field(status, "VmSwap"), None);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[]), 0.0);
    }
}
