//! Supervising child processes: start in order, prefix their output, restart with backoff,
//! stop them all gracefully.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use hermes_build::model::RestartPolicy;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// First restart delay; doubled after each quick failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// A process that ran this long gets its backoff reset.
const HEALTHY_RUN: Duration = Duration::from_secs(10);
/// How long a proxy gets to start accepting connections before its nodes start anyway.
const READY_WAIT: Duration = Duration::from_secs(5);

/// One process to run.
#[derive(Debug, Clone)]
pub struct Service {
    /// The name its output is prefixed with.
    pub name: String,
    /// Program and arguments.
    pub command: Vec<String>,
    /// Working directory.
    pub dir: PathBuf,
    /// Whether to restart it when it exits.
    pub restart: RestartPolicy,
    /// Endpoints that accept connections once it is up (proxies); nodes start after them.
    pub ready_endpoints: Vec<String>,
    /// Environment variables it gets besides those of `hermes` itself.
    pub env: Vec<(String, String)>,
    /// The file it writes once ready (`HERMES_READY_FILE`), for those that wait for it.
    pub ready_file: Option<PathBuf>,
    /// The services, by name, that must be ready before it starts: the subscribers of what
    /// it publishes.
    pub after_ready: Vec<String>,
}

/// How the run ended.
#[derive(Debug)]
pub struct Summary {
    /// Processes that failed and were not restarted (their policy said so).
    pub failed: Vec<String>,
}

impl Summary {
    /// Whether no process failed for good.
    pub fn all_clean(&self) -> bool {
        self.failed.is_empty()
    }
}

enum Event {
    Line {
        index: usize,
        text: String,
    },
    Exited {
        index: usize,
        generation: u32,
        status: ExitStatus,
    },
    Stop(&'static str),
}

struct Slot {
    service: Service,
    pid: Option<i32>,
    generation: u32,
    started: Instant,
    restarts: u32,
    backoff: Duration,
    restart_at: Option<Instant>,
    last_status: Option<ExitStatus>,
    failed: bool,
    colour: &'static str,
}

/// Runs services as children until stopped.
pub struct Supervisor {
    slots: Vec<Slot>,
    grace: Duration,
    ready_timeout: Duration,
    events: (Sender<Event>, Receiver<Event>),
    width: usize,
    colour: bool,
}

impl Supervisor {
    /// A supervisor for `services`, in start order; a node waits up to `ready_timeout` for
    /// each subscriber it starts after to be ready.
    pub fn new(services: Vec<Service>, grace: Duration, ready_timeout: Duration) -> Supervisor {
        const PALETTE: [&str; 6] = [
            "\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[31m",
        ];
        let width = services
            .iter()
            .map(|service| service.name.len())
            .max()
            .unwrap_or(0)
            .max(6);
        let slots = services
            .into_iter()
            .map(|service| {
                // Stable per name, so a node keeps its colour from run to run.
                let hash = service.name.bytes().fold(0usize, |hash, byte| {
                    hash.wrapping_mul(31).wrapping_add(byte.into())
                });
                Slot {
                    colour: PALETTE[hash % PALETTE.len()],
                    service,
                    pid: None,
                    generation: 0,
                    started: Instant::now(),
                    restarts: 0,
                    backoff: FIRST_BACKOFF,
                    restart_at: None,
                    last_status: None,
                    failed: false,
                }
            })
            .collect();
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Supervisor {
            slots,
            grace,
            ready_timeout,
            events: crossbeam_channel::unbounded(),
            width,
            colour,
        }
    }

    /// Starts everything, supervises until SIGINT, SIGTERM or `duration`, then stops it all.
    ///
    /// # Errors
    ///
    /// When the signal handlers cannot be installed or a process cannot be started at all.
    pub fn run(mut self, duration: Option<Duration>) -> Result<Summary, String> {
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ])
        .map_err(|err| format!("cannot install signal handlers: {err}"))?;
        let handle = signals.handle();
        let stop = self.events.0.clone();
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = stop.send(Event::Stop("signal"));
            }
        });
        let stop_at = duration.map(|duration| Instant::now() + duration);
        let outcome = self.start_all().map(|()| self.supervise(stop_at));
        self.stop_all();
        handle.close();
        outcome?;
        self.print_summary();
        Ok(Summary {
            failed: self
                .slots
                .iter()
                .filter(|slot| slot.failed)
                .map(|slot| slot.service.name.clone())
                .collect(),
        })
    }

    fn start_all(&mut self) -> Result<(), String> {
        for index in 0..self.slots.len() {
            self.wait_for_subscribers(index);
            self.start(index)?;
            let endpoints = self.slots[index].service.ready_endpoints.clone();
            if !endpoints.is_empty() {
                wait_ready(&endpoints);
            }
        }
        Ok(())
    }

    /// Waits, bounded, until every service `index` must start after is ready (its ready file
    /// exists) or has exited.
    fn wait_for_subscribers(&mut self, index: usize) {
        let deadline = Instant::now() + self.ready_timeout;
        let waits: Vec<(String, PathBuf, Option<i32>)> = self.slots[index]
            .service
            .after_ready
            .iter()
            .filter_map(|name| {
                let slot = self.slots.iter().find(|slot| &slot.service.name == name)?;
                let file = slot.service.ready_file.clone()?;
                Some((name.clone(), file, slot.pid))
            })
            .collect();
        for (name, file, pid) in waits {
            loop {
                let alive =
                    pid.is_some_and(|pid| nix::sys::signal::kill(Pid::from_raw(pid), None).is_ok());
                if file.exists() || !alive {
                    break;
                }
                if Instant::now() >= deadline {
                    self.note(&format!(
                        "{name} is not ready after {:?}; starting {} anyway",
                        self.ready_timeout, self.slots[index].service.name
                    ));
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    fn start(&mut self, index: usize) -> Result<(), String> {
        let slot = &mut self.slots[index];
        if let Some(file) = &slot.service.ready_file {
            // A restarted process is not ready until it says so again.
            let _ = std::fs::remove_file(file);
        }
        let [program, args @ ..] = slot.service.command.as_slice() else {
            return Err(format!("`{}` has an empty command", slot.service.name));
        };
        let mut child = Command::new(program)
            .args(args)
            .envs(slot.service.env.iter().map(|(key, value)| (key, value)))
            .current_dir(&slot.service.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so stopping it also stops what it started (`cargo run`).
            .process_group(0)
            .spawn()
            .map_err(|err| format!("cannot start `{}` ({program}): {err}", slot.service.name))?;
        slot.generation += 1;
        slot.pid = Some(child.id() as i32);
        slot.started = Instant::now();
        slot.restart_at = None;
        let generation = slot.generation;
        let name = slot.service.name.clone();
        let pid = child.id();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let events = self.events.0.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut line = Vec::new();
                while reader
                    .read_until(b'\n', &mut line)
                    .is_ok_and(|read| read > 0)
                {
                    let text = String::from_utf8_lossy(&line)
                        .trim_end_matches(['\n', '\r'])
                        .to_owned();
                    if events.send(Event::Line { index, text }).is_err() {
                        break;
                    }
                    line.clear();
                }
            });
        }
        let events = self.events.0.clone();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = events.send(Event::Exited {
                    index,
                    generation,
                    status,
                });
            }
        });
        self.note(&format!("started {name} (pid {pid})"));
        Ok(())
    }

    fn supervise(&mut self, stop_at: Option<Instant>) {
        loop {
            let next_restart = self.slots.iter().filter_map(|slot| slot.restart_at).min();
            let wake = [next_restart, stop_at].into_iter().flatten().min();
            let event = match wake {
                Some(at) => self.events.1.recv_deadline(at).ok(),
                None => self.events.1.recv().ok(),
            };
            match event {
                Some(Event::Line { index, text }) => self.print_line(index, &text),
                Some(Event::Exited {
                    index,
                    generation,
                    status,
                }) => self.exited(index, generation, status),
                Some(Event::Stop(why)) => {
                    self.note(&format!("stopping ({why})"));
                    return;
                }
                None => {}
            }
            if stop_at.is_some_and(|at| Instant::now() >= at) {
                self.note("stopping (duration reached)");
                return;
            }
            let now = Instant::now();
            for index in 0..self.slots.len() {
                if self.slots[index].restart_at.is_some_and(|at| at <= now)
                    && let Err(err) = self.start(index)
                {
                    self.note(&err);
                    self.slots[index].restart_at = None;
                }
            }
        }
    }

    fn exited(&mut self, index: usize, generation: u32, status: ExitStatus) {
        let slot = &mut self.slots[index];
        if generation != slot.generation {
            return;
        }
        reap_group(slot.pid.take());
        slot.last_status = Some(status);
        let restart = match slot.service.restart {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => !status.success(),
            RestartPolicy::Never => false,
        };
        if slot.started.elapsed() >= HEALTHY_RUN {
            slot.backoff = FIRST_BACKOFF;
        }
        let name = slot.service.name.clone();
        let message = if restart {
            let delay = slot.backoff;
            slot.restart_at = Some(Instant::now() + delay);
            slot.restarts += 1;
            slot.backoff = (slot.backoff * 2).min(MAX_BACKOFF);
            format!(
                "{name} exited ({}); restarting in {:.2} s",
                describe(status),
                delay.as_secs_f64()
            )
        } else {
            slot.failed = !status.success();
            format!("{name} exited ({}); not restarting", describe(status))
        };
        self.note(&message);
    }

    /// SIGTERM to every running process group, a grace period, then SIGKILL.
    fn stop_all(&mut self) {
        for slot in &mut self.slots {
            slot.restart_at = None;
        }
        self.signal_all(Signal::SIGTERM);
        let deadline = Instant::now() + self.grace;
        self.drain_until(deadline);
        if self.slots.iter().any(|slot| slot.pid.is_some()) {
            self.note("grace period over; killing what is left");
            self.signal_all(Signal::SIGKILL);
            self.drain_until(Instant::now() + Duration::from_secs(2));
        }
    }

    fn signal_all(&self, signal: Signal) {
        for slot in self.slots.iter().rev() {
            if let Some(pid) = slot.pid {
                // The group may be gone already; that is what we want.
                let _ = killpg(Pid::from_raw(pid), signal);
            }
        }
    }

    fn drain_until(&mut self, deadline: Instant) {
        while self.slots.iter().any(|slot| slot.pid.is_some()) {
            match self.events.1.recv_deadline(deadline) {
                Ok(Event::Line { index, text }) => self.print_line(index, &text),
                Ok(Event::Exited {
                    index,
                    generation,
                    status,
                }) => {
                    let slot = &mut self.slots[index];
                    if generation == slot.generation {
                        reap_group(slot.pid.take());
                        slot.last_status = Some(status);
                    }
                }
                Ok(Event::Stop(_)) => {}
                Err(_) => return,
            }
        }
    }

    fn print_line(&self, index: usize, text: &str) {
        let slot = &self.slots[index];
        let (start, end) = if self.colour {
            (slot.colour, "\x1b[0m")
        } else {
            ("", "")
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{start}{:width$} |{end} {text}",
            slot.service.name,
            width = self.width
        );
    }

    fn note(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{:width$} | {text}", "hermes", width = self.width);
    }

    fn print_summary(&self) {
        self.note("summary:");
        for slot in &self.slots {
            let status = slot
                .last_status
                .map_or_else(|| "still running".to_owned(), describe);
            self.note(&format!(
                "  {:width$}  restarts {:>3}  last exit: {status}",
                slot.service.name,
                slot.restarts,
                width = self.width
            ));
        }
    }
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("status {code}"),
        (None, Some(signal)) => Signal::try_from(signal).map_or_else(
            |_| format!("signal {signal}"),
            |signal| signal.as_str().to_owned(),
        ),
        (None, None) => "unknown".to_owned(),
    }
}

/// Waits until every tcp endpoint accepts a connection and every ipc path exists, or
/// [`READY_WAIT`] passes.
fn wait_ready(endpoints: &[String]) {
    let deadline = Instant::now() + READY_WAIT;
    for endpoint in endpoints {
        loop {
            let ready = if let Some(address) = endpoint.strip_prefix("tcp://") {
                let address = address
                    .replacen('*', "127.0.0.1", 1)
                    .replace("0.0.0.0", "127.0.0.1");
                std::net::TcpStream::connect_timeout(
                    &match address.parse() {
                        Ok(address) => address,
                        Err(_) => break, // a host name: nothing to probe cheaply
                    },
                    Duration::from_millis(100),
                )
                .is_ok()
            } else if let Some(path) = endpoint.strip_prefix("ipc://") {
                std::path::Path::new(path).exists()
            } else {
                true
            };
            if ready || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Kills what a process that exited left behind in its process group — the node binary of a
/// `cargo run` killed with SIGKILL, a shell's children — so that no orphan keeps running (and
/// holding the node's endpoints) after it is restarted or `hermes up` exits. The group's ID
/// cannot be reused while any member is alive, so this reaches nothing else.
fn reap_group(leader: Option<i32>) {
    if let Some(pid) = leader {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}
