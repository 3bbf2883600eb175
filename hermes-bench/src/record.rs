//! The `record` scenario: what `hermes record --endpoint` does, a [`RawReceiver`] on a
//! publisher's tcp endpoint whose every envelope a [`Recorder`] writes to an MCAP file, with the
//! publisher paced at a fixed rate; against raw libzmq doing the same job (a SUB socket writing
//! each payload to a file).
//!
//! hermes-bench does not depend on hermes-cli, so the receive → record loop of
//! `hermes-cli/src/record.rs` is repeated here, without its status line, signals and file
//! splitting: `recv_timeout`, `Recorder::record` with the receive time, `flush_if_due` when
//! nothing came, and the receiver's high-water mark of `hermes tap` and `hermes record`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hermes_runtime::recording::{NoSchemas, Recorder};
use hermes_runtime::{Codec, Context, Error, Proxy, ProxyConfig, Publisher, RawReceiver, now_ns};

use crate::measure::{proc_status_kib, process_cpu, reset_peak_rss};
use crate::message::{BenchMessage, Blob};
use crate::options::{Options, Transport};
use crate::path::{TOPIC, WARM_UP, capture_tap};
use crate::report::{Record, RecordRun, RecordStep, RssTrace};

/// The figure: envelopes a second the recorder keeps up with, at 64 B over tcp.
const TARGET_RATE: u64 = 200_000;
/// The payload size of the scenario.
const PAYLOAD: usize = 64;
/// What the target run offers: 2.5 % above the target, so that the pacing's jitter cannot
/// round a recorder that keeps up to just under it.
const OFFERED_RATE: u64 = TARGET_RATE + TARGET_RATE / 40;
/// Each step of the search for the highest rate kept up with offers this much more than the
/// last.
const STEP: f64 = 1.25;
/// Most steps above the target.
const MAX_STEPS: usize = 6;
/// The receiver's high-water mark in `hermes record` (`hermes-cli/src/listen.rs`).
const RECEIVE_HWM: u32 = 100_000;
/// The publisher's, as a proxy or publisher set up for recording would have it (`hwm:`): as
/// deep as the receiver's, so that a few milliseconds without a core for the publisher's I/O
/// thread do not drop envelopes, while a recorder that falls behind still loses them (sequence
/// gaps) once both queues are full, and shows a backlog before that.
const PUBLISHER_HWM: u32 = 100_000;
/// Hermes' default high-water mark (a proxy's capture socket, a node's publisher): the target
/// rate is also run with it, to show what scheduling delays cost there.
const DEFAULT_HWM: u32 = 1000;

/// Which recorder a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// A raw SUB socket writing payloads to a `BufWriter<File>`; gaps from a counter in the
    /// payload.
    Raw,
    /// `RawReceiver` → `Recorder` (MCAP, zstd chunks); gaps from the receiver's statistics.
    Hermes,
    /// As `Hermes`, the receiver reading a `Proxy`'s capture socket (as `hermes record` does
    /// by default), a tap draining the proxy's backend so that envelopes flow.
    HermesCapture,
}

/// Runs the scenario: raw and Hermes at the target rate for `options.record_time` with RSS
/// sampled, then (unless a smoke run) both at rising rates until neither keeps up.
pub(crate) fn check(options: &Options, progress: &mut dyn FnMut(&str)) -> Result<Record, String> {
    let duration = options.record_time;
    progress(&format!(
        "record tcp 64 B at {OFFERED_RATE} env/s, raw then Hermes"
    ));
    let raw = run(Side::Raw, OFFERED_RATE, duration, PUBLISHER_HWM)?;
    let hermes = run(Side::Hermes, OFFERED_RATE, duration, PUBLISHER_HWM)?;
    progress(&format!(
        "record tcp 64 B at {OFFERED_RATE} env/s, publisher HWM {DEFAULT_HWM}, Hermes then raw"
    ));
    let hermes_default_hwm = run(Side::Hermes, OFFERED_RATE, duration, DEFAULT_HWM)?;
    let raw_default_hwm = run(Side::Raw, OFFERED_RATE, duration, DEFAULT_HWM)?;
    progress(&format!(
        "record tcp 64 B at {OFFERED_RATE} env/s, Hermes through a proxy's capture socket"
    ));
    let hermes_capture = run(Side::HermesCapture, OFFERED_RATE, duration, PUBLISHER_HWM)?;
    let mut ladder = Vec::new();
    if !options.smoke {
        let step_time = duration / 2;
        let (mut raw_going, mut hermes_going) = (raw.kept_up, hermes.kept_up);
        let mut rate = OFFERED_RATE as f64;
        for step in 0..MAX_STEPS {
            if !(raw_going || hermes_going) {
                break;
            }
            rate *= STEP;
            let offered = rate as u64;
            progress(&format!(
                "record tcp 64 B, step {}: {offered} env/s",
                step + 1
            ));
            // Alternate which side goes first, as the other scenarios do.
            let mut step = RecordStep {
                rate: offered,
                raw: None,
                hermes: None,
            };
            let sides = if ladder.len() % 2 == 0 {
                [Side::Raw, Side::Hermes]
            } else {
                [Side::Hermes, Side::Raw]
            };
            for side in sides {
                match side {
                    Side::Raw if raw_going => {
                        let run = run(Side::Raw, offered, step_time, PUBLISHER_HWM)?;
                        raw_going = run.kept_up;
                        step.raw = Some(run);
                    }
                    Side::Hermes if hermes_going => {
                        let run = run(Side::Hermes, offered, step_time, PUBLISHER_HWM)?;
                        hermes_going = run.kept_up;
                        step.hermes = Some(run);
                    }
                    _ => {}
                }
            }
            ladder.push(step);
        }
    }
    let highest = |pick: fn(&RecordStep) -> Option<&RecordRun>, first: &RecordRun| {
        std::iter::once(first)
            .chain(ladder.iter().filter_map(pick))
            .filter(|run| run.kept_up)
            .map(|run| run.offered_per_s)
            .fold(0.0, f64::max)
    };
    Ok(Record {
        transport: Transport::Tcp,
        payload_bytes: PAYLOAD,
        target_rate: TARGET_RATE,
        raw_max_per_s: highest(|step| step.raw.as_ref(), &raw),
        hermes_max_per_s: highest(|step| step.hermes.as_ref(), &hermes),
        cpu_ratio: ratio(
            hermes.recorder_cpu_s_per_million,
            raw.recorder_cpu_s_per_million,
        ),
        raw,
        hermes,
        raw_default_hwm,
        hermes_default_hwm,
        hermes_capture: Some(hermes_capture),
        ladder,
    })
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// What the recording thread hands back.
struct Written {
    recorded: u64,
    gaps: u64,
    payload_bytes: u64,
    wire_bytes: u64,
    file_bytes: u64,
    cpu: Duration,
}

/// The sending end: `send(n)` sends message number `n` of the run.
type SendFn = Box<dyn FnMut(u64) -> Result<(), String> + Send>;

/// One run of `side` with the publisher offering `rate` envelopes a second for `duration`, its
/// high-water mark `publisher_hwm`.
fn run(side: Side, rate: u64, duration: Duration, publisher_hwm: u32) -> Result<RecordRun, String> {
    let file = TempFile::new(side);
    let recorded = Arc::new(AtomicU64::new(0));
    let total = Arc::new(AtomicU64::new(u64::MAX));
    let (mut send, recorder) = match side {
        Side::Raw => raw(&file.path, publisher_hwm, recorded.clone(), total.clone())?,
        Side::Hermes | Side::HermesCapture => hermes(
            &file.path,
            publisher_hwm,
            side == Side::HermesCapture,
            recorded.clone(),
            total.clone(),
        )?,
    };
    reset_peak_rss();
    let cpu_before = process_cpu();
    let started = Instant::now();
    let count = (rate as f64 * duration.as_secs_f64()).ceil() as u64;
    let sender = {
        let (total, recorded) = (total.clone(), recorded.clone());
        std::thread::Builder::new()
            .name("bench-record-source".to_owned())
            .spawn(move || {
                let outcome = pace(&mut send, rate, count, started);
                let send_time = started.elapsed();
                let recorded_at_end = recorded.load(Ordering::Relaxed);
                total.store(count, Ordering::Release);
                // The publisher lives on until everything is recorded: its linger is zero, so
                // closing it now would discard what it still queues.
                (outcome, send_time, recorded_at_end, send)
            })
            .map_err(|err| format!("cannot start the source thread: {err}"))?
    };
    // RSS, sampled while the run goes; the first quarter is warm-up (buffers, the first
    // chunks, zstd's context).
    let start_kib = proc_status_kib("VmRSS").unwrap_or(0);
    let mut samples = Vec::new();
    while !recorder.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        samples.push((started.elapsed(), proc_status_kib("VmRSS").unwrap_or(0)));
    }
    let (outcome, send_time, recorded_at_end, send) = sender
        .join()
        .map_err(|_| "the source thread panicked".to_owned())?;
    outcome?;
    let written = recorder
        .join()
        .map_err(|_| "the recording thread panicked".to_owned())??;
    drop(send);
    let cpu = process_cpu().saturating_sub(cpu_before);
    let peak_kib = proc_status_kib("VmHWM").unwrap_or(0);
    let warm = duration / 4;
    let after: Vec<u64> = samples
        .iter()
        .filter(|(at, _)| *at >= warm)
        .map(|(_, kib)| *kib)
        .collect();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let warm_kib = after.first().copied().unwrap_or(start_kib);
    let end_kib = after.last().copied().unwrap_or(start_kib);
    let max_kib = after.iter().copied().max().unwrap_or(end_kib);
    let missing = count.saturating_sub(written.recorded);
    let send_s = send_time.as_secs_f64().max(1e-9);
    // Kept up: nothing lost, and no backlog when the publisher stopped beyond what is in
    // flight (2 % of the run, at least 1000 envelopes).
    let backlog = count.saturating_sub(recorded_at_end);
    let kept_up = written.gaps == 0 && missing == 0 && backlog <= (count / 50).max(1000);
    let million = |cpu: Duration| cpu.as_secs_f64() * 1e6 / written.recorded.max(1) as f64;
    Ok(RecordRun {
        publisher_hwm,
        requested_per_s: rate,
        offered_per_s: count as f64 / send_s,
        sent: count,
        recorded: written.recorded,
        recorded_per_s: recorded_at_end as f64 / send_s,
        backlog_at_end: backlog,
        gaps: written.gaps,
        missing,
        kept_up,
        recorder_cpu_s_per_million: million(written.cpu),
        process_cpu_s_per_million: million(cpu),
        rss: RssTrace {
            start_mib: mib(start_kib),
            warm_mib: mib(warm_kib),
            end_mib: mib(end_kib),
            peak_mib: mib(peak_kib),
            growth_after_warm_up_mib: mib(max_kib.saturating_sub(warm_kib)),
            samples: samples.len(),
        },
        payload_bytes: written.payload_bytes,
        wire_bytes: written.wire_bytes,
        file_bytes: written.file_bytes,
        file_bytes_per_envelope: written.file_bytes as f64 / written.recorded.max(1) as f64,
        compression: ratio(written.wire_bytes as f64, written.file_bytes as f64),
    })
}

/// Sends `count` messages, `rate` a second from `started`: in bursts of what is due, with
/// short sleeps between.
fn pace(send: &mut SendFn, rate: u64, count: u64, started: Instant) -> Result<(), String> {
    let mut sent = 0;
    while sent < count {
        let due = ((started.elapsed().as_secs_f64() * rate as f64) as u64).min(count);
        if due <= sent {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        }
        while sent < due {
            send(sent)?;
            sent += 1;
        }
    }
    Ok(())
}

/// Fills `bytes` from a xorshift generator: recorded payloads that zstd cannot shrink (the
/// worst case for compression; only MCAP's record headers compress).
fn fill(bytes: &mut [u8], state: &mut u64) {
    for chunk in bytes.chunks_mut(8) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
}

/// Whether the recording thread should stop: once the last envelope was sent, when every one
/// is recorded or known lost (`accounted`, asked only then), or nothing came for a while.
fn done(total: &AtomicU64, accounted: impl FnOnce() -> u64, quiet_since: Instant) -> bool {
    let total = total.load(Ordering::Acquire);
    total != u64::MAX
        && (quiet_since.elapsed() >= Duration::from_millis(500) || accounted() >= total)
}

/// Hermes: a publisher bound on tcp loopback (or, `via_capture`, connected to a proxy with a
/// capture socket and that high-water mark), a `RawReceiver` connected to it (or the capture
/// socket), and a thread running `hermes record`'s loop into a `Recorder` writing `path`.
fn hermes(
    path: &std::path::Path,
    publisher_hwm: u32,
    via_capture: bool,
    recorded: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) -> Result<(SendFn, JoinHandle<Result<Written, String>>), String> {
    let error = |err: Error| err.to_string();
    let context = Context::new();
    let mut publisher = Publisher::<Blob>::builder(&context)
        .topic(TOPIC)
        .origin("source")
        .hwm(publisher_hwm)
        .linger(Duration::ZERO)
        .build()
        .map_err(error)?;
    let loopback = "tcp://127.0.0.1:0";
    // What must live as long as the publisher: the proxy and the tap on its backend.
    let mut parts: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
    let bound = if via_capture {
        let config = ProxyConfig::new(loopback, loopback)
            .with_capture(loopback)
            .with_hwm(publisher_hwm);
        let proxy = Proxy::spawn(&context, config).map_err(error)?;
        publisher.connect(proxy.frontend()).map_err(error)?;
        let hwm = i32::try_from(publisher_hwm).unwrap_or(i32::MAX);
        let tap = capture_tap(
            hermes_runtime::__private::zmq_context(&context),
            proxy.backend(),
            hwm,
        )?;
        let capture = proxy.capture().unwrap_or_default().to_owned();
        parts.push(Box::new(tap));
        parts.push(Box::new(proxy));
        capture
    } else {
        publisher.bind(loopback).map_err(error)?
    };
    let mut receiver = RawReceiver::builder(&context)
        .hwm(RECEIVE_HWM)
        .connect(&bound)
        .map_err(error)?;
    let mut message = Blob::sized(PAYLOAD, Codec::Protobuf);
    // Sequence numbers start at 0: the run's are those after the warm-up's.
    let first_seq = warm_up(
        || {
            message.set_stamp(WARM_UP);
            publisher.send(&message).map_err(error)
        },
        || match receiver.recv_timeout(Duration::from_millis(2)) {
            Ok(_) => Ok(true),
            Err(Error::Timeout) => Ok(false),
            Err(err) => Err(err.to_string()),
        },
    )?;
    let lost_before = receiver.stats().lost;
    let file = File::create(path).map_err(|err| format!("cannot create the recording: {err}"))?;
    let path = path.to_owned();
    let mut recorder = Recorder::new(BufWriter::new(file), NoSchemas)
        .map_err(|err| format!("cannot start the recording: {err}"))?;
    let thread = std::thread::Builder::new()
        .name("bench-recorder".to_owned())
        .spawn(move || -> Result<Written, String> {
            let cpu_before = thread_cpu();
            let (mut wire_bytes, mut measured) = (0u64, 0u64);
            let mut quiet_since = Instant::now();
            loop {
                // As `hermes record`: the loop's clock read per envelope (its status line).
                let _now = std::hint::black_box(Instant::now());
                let accounted = || measured + receiver.stats().lost - lost_before;
                if done(&total, accounted, quiet_since) {
                    break;
                }
                let received = match receiver.recv_timeout(Duration::from_millis(100)) {
                    Ok(received) => received,
                    Err(Error::Timeout) => {
                        recorder.flush_if_due().map_err(|err| err.to_string())?;
                        continue;
                    }
                    Err(err) => return Err(format!("cannot receive: {err}")),
                };
                quiet_since = Instant::now();
                recorder
                    .record(&received, now_ns())
                    .map_err(|err| format!("cannot record: {err}"))?;
                // Late warm-up envelopes are recorded, as they would be, but not counted.
                if received.seq >= first_seq {
                    measured += 1;
                    wire_bytes += received.wire_size as u64;
                    recorded.store(measured, Ordering::Relaxed);
                }
            }
            let cpu = thread_cpu().saturating_sub(cpu_before);
            let gaps = receiver.stats().lost - lost_before;
            let payload_bytes = recorder.payload_bytes();
            recorder
                .finish()
                .map_err(|err| format!("cannot finish the recording: {err}"))?;
            drop(receiver);
            Ok(Written {
                recorded: measured,
                gaps,
                payload_bytes,
                wire_bytes,
                file_bytes: file_size(&path),
                cpu,
            })
        })
        .map_err(|err| format!("cannot start the recording thread: {err}"))?;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let send: SendFn = Box::new(move |_| {
        let _ = &parts;
        // A stamp of a real one's size, so the payload keeps its 64 bytes.
        message.set_stamp(now_ns());
        // Generated `bytes` fields are shared buffers: each message gets fresh contents.
        let mut data = vec![0; message.data.len()];
        fill(&mut data, &mut state);
        message.data = data.into();
        publisher.send(&message).map_err(error)
    });
    Ok((send, thread))
}

/// Raw libzmq: PUB bound on tcp loopback, SUB connected with the same high-water marks, and a
/// thread writing each payload to `path`; the payload's first 8 bytes count messages, so gaps
/// show.
fn raw(
    path: &std::path::Path,
    publisher_hwm: u32,
    recorded: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) -> Result<(SendFn, JoinHandle<Result<Written, String>>), String> {
    let context = zmq::Context::new();
    let publisher = context.socket(zmq::PUB).map_err(zmq_error("socket"))?;
    publisher
        .set_sndhwm(i32::try_from(publisher_hwm).unwrap_or(i32::MAX))
        .map_err(zmq_error("hwm"))?;
    publisher.set_linger(0).map_err(zmq_error("linger"))?;
    publisher
        .bind("tcp://127.0.0.1:*")
        .map_err(zmq_error("bind"))?;
    let bound = publisher
        .get_last_endpoint()
        .map_err(zmq_error("endpoint"))?
        .map_err(|_| "endpoint is not UTF-8".to_owned())?;
    let subscriber = context.socket(zmq::SUB).map_err(zmq_error("socket"))?;
    subscriber
        .set_rcvhwm(RECEIVE_HWM as i32)
        .map_err(zmq_error("hwm"))?;
    subscriber.set_linger(0).map_err(zmq_error("linger"))?;
    subscriber
        .set_subscribe(b"")
        .map_err(zmq_error("subscribe"))?;
    subscriber.connect(&bound).map_err(zmq_error("connect"))?;
    let mut payload = vec![0x5a; PAYLOAD];
    let mut topic = zmq::Message::new();
    let mut body = zmq::Message::new();
    let send_one = |publisher: &zmq::Socket, payload: &[u8]| {
        publisher
            .send(TOPIC.as_bytes(), zmq::SNDMORE)
            .and_then(|()| publisher.send(payload, 0))
            .map_err(zmq_error("send"))
    };
    payload[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    warm_up(
        || send_one(&publisher, &payload),
        || {
            if subscriber.poll(zmq::POLLIN, 2).map_err(zmq_error("poll"))? == 0 {
                return Ok(false);
            }
            subscriber
                .recv(&mut topic, 0)
                .and_then(|()| subscriber.recv(&mut body, 0))
                .map_err(zmq_error("receive"))?;
            Ok(true)
        },
    )?;
    let file = File::create(path).map_err(|err| format!("cannot create the recording: {err}"))?;
    let path = path.to_owned();
    let thread = std::thread::Builder::new()
        .name("bench-raw-recorder".to_owned())
        .spawn(move || -> Result<Written, String> {
            let cpu_before = thread_cpu();
            let mut file = BufWriter::new(file);
            let (mut messages, mut gaps, mut next, mut wire_bytes) = (0u64, 0u64, 0u64, 0u64);
            let mut quiet_since = Instant::now();
            loop {
                if done(&total, || messages + gaps, quiet_since) {
                    break;
                }
                if subscriber
                    .poll(zmq::POLLIN, 100)
                    .map_err(zmq_error("poll"))?
                    == 0
                {
                    continue;
                }
                while subscriber.recv(&mut topic, zmq::DONTWAIT).is_ok() {
                    subscriber
                        .recv(&mut body, 0)
                        .map_err(zmq_error("receive"))?;
                    let mut counter = [0u8; 8];
                    counter.copy_from_slice(body.get(..8).ok_or("short raw message")?);
                    let counter = u64::from_le_bytes(counter);
                    if counter == u64::MAX {
                        continue; // a late warm-up message
                    }
                    gaps += counter.saturating_sub(next);
                    next = counter + 1;
                    file.write_all(&body)
                        .map_err(|err| format!("cannot write the recording: {err}"))?;
                    messages += 1;
                    wire_bytes += (topic.len() + body.len()) as u64;
                    recorded.store(messages, Ordering::Relaxed);
                }
                quiet_since = Instant::now();
            }
            let cpu = thread_cpu().saturating_sub(cpu_before);
            file.flush()
                .map_err(|err| format!("cannot write the recording: {err}"))?;
            drop((subscriber, context));
            Ok(Written {
                recorded: messages,
                gaps,
                payload_bytes: messages * PAYLOAD as u64,
                wire_bytes,
                file_bytes: file_size(&path),
                cpu,
            })
        })
        .map_err(|err| format!("cannot start the recording thread: {err}"))?;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let send: SendFn = Box::new(move |n| {
        payload[..8].copy_from_slice(&n.to_le_bytes());
        fill(&mut payload[8..], &mut state);
        send_one(&publisher, &payload)
    });
    Ok((send, thread))
}

/// Sends with `send` until `received` sees one (subscriptions have propagated), then drains.
///
/// Returns how many it sent.
fn warm_up(
    mut send: impl FnMut() -> Result<(), String>,
    mut received: impl FnMut() -> Result<bool, String>,
) -> Result<u64, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sent = 0;
    loop {
        send()?;
        sent += 1;
        if received()? {
            break;
        }
        if Instant::now() > deadline {
            return Err("no message got through within 10 s of warm-up".to_owned());
        }
    }
    let quiet = Instant::now() + Duration::from_millis(20);
    while Instant::now() < quiet {
        if received()? {
            continue;
        }
    }
    Ok(sent)
}

fn zmq_error(what: &'static str) -> impl Fn(zmq::Error) -> String {
    move |err| format!("{what}: {err}")
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(Duration::ZERO, |time| {
        Duration::new(
            u64::try_from(time.tv_sec()).unwrap_or(0),
            u32::try_from(time.tv_nsec()).unwrap_or(0),
        )
    })
}

/// A recording's file in the temporary directory, removed on drop.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn new(side: Side) -> TempFile {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let extension = match side {
            Side::Raw => "raw",
            Side::Hermes | Side::HermesCapture => "mcap",
        };
        let path = std::env::temp_dir().join(format!(
            "hermes-bench-record-{}-{n}.{extension}",
            std::process::id()
        ));
        TempFile { path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
