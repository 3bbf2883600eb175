//! The stalled-subscriber check: a publisher, a proxy and a subscriber that never reads, each in
//! a process of its own (this program started again with `--role`), and their RSS watched from
//! here while the publisher sends at full rate.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hermes_runtime::{Context, Proxy, ProxyConfig, Publisher, Receiver};

use crate::measure::pid_status_kib;
use crate::message::{BenchMessage, Blob};
use crate::options::{Options, RowSpec, Scenario, Transport};
use crate::path::{TOPIC, wire_bytes};
use crate::report::{Stall, StallProcess};

/// Payload of the stall check: large enough that HWM × size stands out from allocator noise.
pub const STALL_PAYLOAD: usize = 16 * 1024;
/// Hermes' default high-water mark, used on every socket of the check.
const HWM: u32 = 1000;
/// What a process may grow by beyond its full queues: 10 % for libzmq's per-message
/// bookkeeping and allocator rounding, plus 2 MiB of I/O buffers and thread stacks.
pub(crate) fn limit_kib(bound_kib: u64) -> u64 {
    bound_kib + bound_kib / 10 + 2048
}

/// A child process's part in the stall check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Binds a Hermes proxy on tcp loopback; prints `FRONTEND BACKEND`.
    Proxy,
    /// Connects a publisher to `--endpoint`; prints `ready`, waits for `go`, publishes at full
    /// rate until its standard input closes, then prints the count sent.
    Publisher,
    /// Connects a receiver to `--endpoint`, prints `ready` and never reads.
    Subscriber,
}

/// Runs `role` in this process until standard input closes.
///
/// # Errors
///
/// A message when a socket cannot be made or connected.
pub fn run_role(role: Role, endpoint: Option<&str>) -> Result<(), String> {
    let context = Context::new();
    let error = |err: hermes_runtime::Error| err.to_string();
    let endpoint = || endpoint.ok_or_else(|| "`--role` needs `--endpoint`".to_owned());
    let mut stdout = std::io::stdout();
    match role {
        Role::Proxy => {
            let mut config = ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0");
            config.hwm = HWM;
            let proxy = Proxy::spawn(&context, config).map_err(error)?;
            let _ = writeln!(stdout, "{} {}", proxy.frontend(), proxy.backend());
            let _ = stdout.flush();
            wait_for_eof();
            proxy.stop().map_err(error)
        }
        Role::Subscriber => {
            let receiver = Receiver::<Blob>::builder(&context)
                .topic("bench")
                .hwm(HWM)
                .connect(endpoint()?)
                .map_err(error)?;
            let _ = writeln!(stdout, "ready");
            let _ = stdout.flush();
            wait_for_eof();
            drop(receiver);
            Ok(())
        }
        Role::Publisher => {
            let mut publisher = Publisher::<Blob>::builder(&context)
                .topic(TOPIC)
                .origin("stall-source")
                .hwm(HWM)
                .linger(Duration::ZERO)
                .connect(endpoint()?)
                .map_err(error)?;
            let _ = writeln!(stdout, "ready");
            let _ = stdout.flush();
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            let closed = Arc::new(AtomicBool::new(false));
            let flag = closed.clone();
            std::thread::spawn(move || {
                wait_for_eof();
                flag.store(true, Ordering::Relaxed);
            });
            let mut message = Blob::sized(STALL_PAYLOAD, hermes_runtime::Codec::Protobuf);
            let mut sent = 0u64;
            while !closed.load(Ordering::Relaxed) {
                for _ in 0..64 {
                    message.set_stamp(sent);
                    publisher.send(&message).map_err(error)?;
                    sent += 1;
                }
            }
            let _ = writeln!(stdout, "{sent}");
            let _ = stdout.flush();
            Ok(())
        }
    }
}

fn wait_for_eof() {
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
}

/// A child process of the check, killed if still running when dropped.
struct Helper {
    role: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Helper {
    /// Starts this program again (`hermes-bench`) in `role`.
    fn start(role: &'static str, endpoint: Option<&str>) -> Result<Helper, String> {
        let exe =
            std::env::current_exe().map_err(|err| format!("cannot find this program: {err}"))?;
        let mut command = Command::new(exe);
        command.args(["--role", role]);
        if let Some(endpoint) = endpoint {
            command.args(["--endpoint", endpoint]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| format!("cannot start the {role} process: {err}"))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(Helper {
            role,
            child,
            stdin,
            stdout,
        })
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(n) if n > 0 => Ok(line.trim().to_owned()),
            _ => Err(format!("the {} process ended early", self.role)),
        }
    }

    fn rss_kib(&self) -> u64 {
        pid_status_kib(self.child.id(), "VmRSS").unwrap_or(0)
    }

    fn peak_kib(&self) -> u64 {
        pid_status_kib(self.child.id(), "VmHWM").unwrap_or(0)
    }

    /// Closes standard input (the signal to stop) and waits a little for the exit.
    fn finish(&mut self, read_last_line: bool) -> Option<String> {
        drop(self.stdin.take());
        let last = if read_last_line {
            self.line().ok()
        } else {
            None
        };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return last;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        last
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the check for `options.stall_time`.
pub(crate) fn check(options: &Options) -> Result<Stall, String> {
    let mut proxy = Helper::start("proxy", None)?;
    let endpoints = proxy.line()?;
    let (frontend, backend) = endpoints
        .split_once(' ')
        .ok_or_else(|| format!("unexpected proxy output `{endpoints}`"))?;
    let mut subscriber = Helper::start("subscriber", Some(backend))?;
    subscriber.line()?;
    let mut publisher = Helper::start("publisher", Some(frontend))?;
    publisher.line()?;
    // Let the subscription reach the publisher through the proxy before traffic starts.
    std::thread::sleep(Duration::from_millis(300));
    let (wire, _) = wire_bytes(&RowSpec {
        scenario: Scenario::Proxy,
        transport: Transport::Tcp,
        payload: STALL_PAYLOAD,
    });
    // Each queued message costs its bytes plus libzmq's message and pipe bookkeeping.
    let queue_kib = |queues: u64| queues * u64::from(HWM) * (wire as u64 + 128) / 1024;
    let helpers = [(&publisher, 1), (&proxy, 2), (&subscriber, 1)];
    let start: Vec<u64> = helpers.iter().map(|(h, _)| h.rss_kib()).collect();
    // Far past any bound: stop at once rather than let a leak take the machine down.
    let emergency: Vec<u64> = helpers
        .iter()
        .zip(&start)
        .map(|((_, queues), start)| start + 4 * queue_kib(*queues) + 512 * 1024)
        .collect();
    if let Some(stdin) = publisher.stdin.as_mut() {
        writeln!(stdin, "go").map_err(|err| format!("cannot start the publisher: {err}"))?;
    }
    let started = Instant::now();
    let mut half = start.clone();
    let mut half_taken = false;
    let mut runaway = None;
    while started.elapsed() < options.stall_time {
        std::thread::sleep(Duration::from_millis(100));
        let now: Vec<u64> = [&publisher, &proxy, &subscriber]
            .iter()
            .map(|h| h.rss_kib())
            .collect();
        if !half_taken && started.elapsed() >= options.stall_time / 2 {
            half = now.clone();
            half_taken = true;
        }
        if let Some(i) = (0..3).find(|&i| now[i] > emergency[i]) {
            runaway = Some(i);
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let end: Vec<u64> = [&publisher, &proxy, &subscriber]
        .iter()
        .map(|h| h.rss_kib())
        .collect();
    let peak: Vec<u64> = [&publisher, &proxy, &subscriber]
        .iter()
        .map(|h| h.peak_kib())
        .collect();
    let sent = publisher
        .finish(true)
        .and_then(|line| line.parse().ok())
        .unwrap_or(0);
    subscriber.finish(false);
    proxy.finish(false);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let processes: Vec<StallProcess> = ["publisher", "proxy", "subscriber"]
        .iter()
        .zip([1u64, 2, 1])
        .enumerate()
        .map(|(i, (role, queues))| {
            let growth = peak[i].saturating_sub(start[i]);
            let bound = queue_kib(queues);
            StallProcess {
                role: (*role).to_owned(),
                start_mib: mib(start[i]),
                half_mib: mib(half[i]),
                end_mib: mib(end[i]),
                peak_mib: mib(peak[i]),
                growth_mib: mib(growth),
                bound_mib: mib(bound),
                bounded: runaway != Some(i) && growth <= limit_kib(bound),
            }
        })
        .collect();
    Ok(Stall {
        seconds,
        payload_bytes: STALL_PAYLOAD,
        hwm: HWM,
        sent,
        bounded: processes.iter().all(|p| p.bounded),
        processes,
    })
}
