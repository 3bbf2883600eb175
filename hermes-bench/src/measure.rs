//! The measurements: flooding a path, pacing it, bouncing messages back, and what the process
//! used meanwhile (CPU from the process CPU clock, peak RSS from `/proc`).

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
/// send (a high-water mark drops); otherwise when every message has arrived, so that the path
/// is empty again for the next run.
pub(crate) fn flood(
    path: &mut Path,
    run_time: Duration,
    payload: usize,
    lossy: bool,
) -> Result<Flood, String> {
    let Path { source, sink, .. } = path;
    let max_messages = (FLOOD_BYTE_CAP / payload.max(1) as u64).max(1000);
    let total = AtomicU64::new(u64::MAX);
    let failed = AtomicBool::new(false);
    reset_peak_rss();
    let cpu_before = process_cpu();
    let started = Instant::now();
    std::thread::scope(|scope| {
        let sender = std::thread::Builder::new()
            .name("bench-source".to_owned())
            .spawn_scoped(scope, || {
                let mut sent = 0u64;
                let mut outcome = Ok(());
                loop {
                    let next = sent + 1;
                    // The count is published before the last message is sent: a sink that keeps
                    // up receives it only afterwards, and so knows it was the last (else it would
                    // wait for more and time the run by that wait).
                    let last = next.is_multiple_of(64)
                        && (started.elapsed() >= run_time || next >= max_messages);
                    if last {
                        total.store(next, Ordering::Release);
                    }
                    if let Err(err) = source.send(0) {
                        outcome = Err(err);
                        total.store(sent, Ordering::Release);
                        failed.store(true, Ordering::Relaxed);
                        break;
                    }
                    sent = next;
                    if last {
                        break;
                    }
                }
                (outcome, started.elapsed())
            })
            .map_err(|err| format!("cannot start the source thread: {err}"))?;
        let mut received = 0u64;
        let mut last = started;
        let mut outcome = Ok(());
        loop {
            // A lossy flood ends after a short quiet spell, but not before the first message: on
            // a loaded machine the path's threads may not have run yet when the source finishes.
            let quiet = if lossy && received > 0 {
                Duration::from_millis(30)
            } else {
                Duration::from_secs(2)
            };
            match sink.recv(quiet) {
                Err(err) => {
                    outcome = Err(err);
                    break;
                }
                Ok(Some(stamp)) if stamp == WARM_UP => {}
                Ok(Some(_)) => {
                    received += 1;
                    if lossy {
                        last = Instant::now();
                    }
                    if received >= total.load(Ordering::Acquire) {
                        last = Instant::now();
                        break;
                    }
                }
                // Only a lossy flood, or a failed one, ends on a quiet spell: a complete one
                // ends on its last message.
                Ok(None)
                    if (lossy && total.load(Ordering::Acquire) != u64::MAX)
                        || failed.load(Ordering::Relaxed) =>
                {
                    break;
                }
                Ok(None) if total.load(Ordering::Acquire) != u64::MAX => {
                    outcome = Err(format!(
                        "{} of {} messages arrived, then nothing for {} s",
                        received,
                        total.load(Ordering::Acquire),
                        quiet.as_secs()
                    ));
                    break;
                }
                Ok(None) => {}
            }
        }
        let cpu = process_cpu().saturating_sub(cpu_before);
        let peak_rss_kib = proc_status_kib("VmHWM");
        let (sent, send_time) = sender
            .join()
            .map_err(|_| "the source thread panicked".to_owned())?;
        sent?;
        outcome?;
        Ok(Flood {
            sent: total.load(Ordering::Acquire),
            received,
            elapsed: last - started,
            send_time,
            cpu,
            peak_rss_kib,
        })
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
/// message is stamped when it is sent, not when it was due. Messages left in the path by an
/// earlier flood (stamp 0) or warm-up are skipped.
pub(crate) fn paced(path: &mut Path, rate: u64, run_time: Duration) -> Result<Paced, String> {
    let Path { source, sink, .. } = path;
    let count = ((rate as f64 * run_time.as_secs_f64()).ceil() as u64).max(10);
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let sender = std::thread::Builder::new()
            .name("bench-paced".to_owned())
            .spawn_scoped(scope, || {
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
                (outcome, sent_per_s)
            })
            .map_err(|err| format!("cannot start the paced source: {err}"))?;
        let mut samples = Vec::with_capacity(count as usize);
        let mut outcome = Ok(());
        while (samples.len() as u64) < count {
            match sink.recv(Duration::from_millis(500)) {
                Err(err) => {
                    outcome = Err(err);
                    break;
                }
                Ok(Some(stamp)) if stamp <= WARM_UP => {}
                Ok(Some(stamp)) => samples.push(now_ns().saturating_sub(stamp)),
                Ok(None) if done.load(Ordering::Acquire) => break,
                Ok(None) => {}
            }
        }
        let (sent, sent_per_s) = sender
            .join()
            .map_err(|_| "the paced source panicked".to_owned())?;
        sent?;
        outcome?;
        Ok(Paced {
            samples,
            sent_per_s,
        })
    })
}

/// Round-trip times in ns for `run_time`: one message at a time out on `forward`, echoed back on
/// `back` by another thread.
pub(crate) fn round_trips(
    forward: &mut Path,
    back: &mut Path,
    run_time: Duration,
) -> Result<Vec<u64>, String> {
    let Path {
        source: out,
        sink: echo_in,
        ..
    } = forward;
    let Path {
        source: echo_out,
        sink: home,
        ..
    } = back;
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let echo = std::thread::Builder::new()
            .name("bench-echo".to_owned())
            .spawn_scoped(scope, || -> Result<(), String> {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(stamp) = echo_in.recv(Duration::from_millis(50))? {
                        echo_out.send(stamp)?;
                    }
                }
                Ok(())
            })
            .map_err(|err| format!("cannot start the echo thread: {err}"))?;
        let started = Instant::now();
        // A reply that comes back late (from an earlier round, too) still carries its own
        // stamp; only the warm-up's are skipped.
        let mut samples = Vec::new();
        let mut outcome = Ok(());
        while started.elapsed() < run_time {
            let sent = now_ns();
            if let Err(err) = out.send(sent) {
                outcome = Err(err);
                break;
            }
            match home.recv(Duration::from_secs(1)) {
                Ok(Some(stamp)) if stamp > WARM_UP => samples.push(now_ns().saturating_sub(stamp)),
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
        outcome.and(echoed)?;
        Ok(samples)
    })
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

    /// Where the sink keeps up with the source (raw inproc at 64 KiB: libzmq passes the frames
    /// by pointer), the last message may arrive before the source has stopped; the run must
    /// still end on it, timed by it, and leave the path empty for the next run.
    #[test]
    fn a_flood_the_sink_keeps_up_with_ends_on_its_last_message() {
        use crate::options::{RowSpec, Scenario, Transport};
        use crate::path::{Side, open};
        let spec = RowSpec {
            scenario: Scenario::Direct,
            transport: Transport::Inproc,
            payload: 65_536,
        };
        let side = Side::Raw {
            padding: 0,
            curve: false,
        };
        let mut path = open(&spec, side, 0).expect("raw inproc path");
        path.warm_up().expect("warm-up");
        for _ in 0..3 {
            let run = flood(&mut path, Duration::from_millis(20), spec.payload, false)
                .expect("a complete flood");
            assert_eq!(run.received, run.sent);
            assert!(
                run.elapsed > Duration::ZERO && run.elapsed < Duration::from_secs(1),
                "{run:?}"
            );
        }
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[]), 0.0);
    }
}
