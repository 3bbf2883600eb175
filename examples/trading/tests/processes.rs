//! The desk as separate processes: the `market` proxy and every node its own binary, as
//! `hermes up` runs them. Quotes from every exchange reach the strategy, risk decides orders,
//! fills reach the monitor, and nothing is lost or undecodable across process boundaries.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hermes_runtime::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use trading::exchange::VENUES;

use common::Audit;

/// Child processes, killed if the test fails before it stops them.
struct Processes {
    logs: PathBuf,
    children: Vec<(&'static str, Child)>,
}

impl Processes {
    /// Starts binary `name` with `args`, its stdout and stderr in `<logs>/<name>.out|err`.
    fn start(&mut self, name: &'static str, path: &str, args: &[&str]) {
        let output = |ext: &str| File::create(self.logs.join(format!("{name}.{ext}"))).unwrap();
        let child = Command::new(path)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(output("out"))
            .stderr(output("err"))
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {name}: {error}"));
        self.children.push((name, child));
    }

    /// Sends SIGTERM to every process, then waits for each to exit 0 within 5 s.
    fn stop(&mut self) {
        for (_, child) in &self.children {
            let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
            kill(pid, Signal::SIGTERM).expect("SIGTERM");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for (name, child) in &mut self.children {
            let status = common::exit_status_by(child, deadline).unwrap_or_else(|| {
                panic!(
                    "{name} did not stop within 5 s of SIGTERM; {}",
                    log(&self.logs, name, "err")
                )
            });
            assert!(
                status.success(),
                "{name} exited with {status}; {}",
                log(&self.logs, name, "err")
            );
        }
        self.children.clear();
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn log(logs: &Path, name: &str, ext: &str) -> String {
    let text = std::fs::read_to_string(logs.join(format!("{name}.{ext}"))).unwrap_or_default();
    format!("{name}.{ext}:\n{text}")
}

/// The value after `label` in a monitor summary line, such as `fills 3`.
fn figure(line: &str, label: &str) -> Option<u64> {
    let at = line.find(&format!(" {label} "))? + label.len() + 2;
    line[at..].split([' ', '(', ',', ';']).next()?.parse().ok()
}

#[test]
fn the_desk_runs_as_separate_processes_through_the_market_proxy() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let frontend = format!("ipc://{}/frontend", dir.path().display());
    let backend = format!("ipc://{}/backend", dir.path().display());
    let endpoints = [
        "--frontend",
        frontend.as_str(),
        "--backend",
        backend.as_str(),
        "--no-capture",
    ];
    let mut processes = Processes {
        logs: dir.path().to_owned(),
        children: Vec::new(),
    };
    processes.start("market", env!("CARGO_BIN_EXE_market"), &endpoints);
    let context = Context::new();
    let audit = Audit::start(&context, &backend);
    for (name, path) in [
        ("monitor", env!("CARGO_BIN_EXE_monitor")),
        ("risk", env!("CARGO_BIN_EXE_risk")),
        ("executor", env!("CARGO_BIN_EXE_executor")),
        ("strategy", env!("CARGO_BIN_EXE_strategy")),
        ("bitstamp", env!("CARGO_BIN_EXE_bitstamp")),
        ("kraken", env!("CARGO_BIN_EXE_kraken")),
        ("coinbase", env!("CARGO_BIN_EXE_coinbase")),
    ] {
        processes.start(name, path, &endpoints);
    }

    // The monitor prints a summary a second; wait for one with a fill, bounded.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = log(dir.path(), "monitor", "out");
        if out
            .lines()
            .any(|line| figure(line, "fills").is_some_and(|n| n > 0))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no fill after 60 s; {out}\n{}\n{}\n{}",
            log(dir.path(), "market", "err"),
            log(dir.path(), "bitstamp", "err"),
            log(dir.path(), "strategy", "err")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    processes.stop();

    let out = log(dir.path(), "monitor", "out");
    let last = out
        .lines()
        .rfind(|line| line.starts_with("final"))
        .unwrap_or_else(|| panic!("the monitor printed no final summary; {out}"));
    for venue in VENUES {
        assert!(
            figure(last, venue.name).is_some_and(|n| n > 0),
            "no quotes from {}: {last}",
            venue.name
        );
    }
    let orders = figure(last, "orders").expect("orders");
    let fills = figure(last, "fills").expect("fills");
    assert!(orders > 0 && fills > 0 && fills <= orders, "{last}");
    assert_eq!(
        figure(last, "drops"),
        Some(0),
        "no unexplained drops: {last}"
    );

    // The strategy, risk and the executor report what they did on stop.
    let strategy = stop_line(dir.path(), "strategy");
    for venue in VENUES {
        assert!(
            figure(&strategy, venue.name).is_some_and(|n| n > 0),
            "the strategy saw no quotes from {}: {strategy}",
            venue.name
        );
    }
    assert!(
        figure(&strategy, "sent").is_some_and(|n| n > 0),
        "{strategy}"
    );
    let risk = stop_line(dir.path(), "risk");
    let accepted = figure(&risk, "stopped:").expect("accepted");
    let rejected = figure(&risk, "accepted,").expect("rejected");
    assert!(accepted + rejected > 0, "risk decided no order: {risk}");
    let executor = stop_line(dir.path(), "executor");
    let executed = figure(&executor, "stopped:").expect("fills");
    let unfilled = figure(&executor, "fills,").expect("unfilled");
    assert!(
        executed + unfilled <= accepted && fills <= executed,
        "fills or executions without accepted orders: {risk}; {executor}; {last}"
    );

    // No node's receiver rejected a frame set (each rejection is logged as a warning).
    for name in ["monitor", "risk", "executor", "strategy"] {
        let err = log(dir.path(), name, "err");
        for what in ["decode error", "type mismatch", "codec mismatch"] {
            assert!(!err.contains(what), "{name} logged a {what}: {err}");
        }
    }
    audit.finish();
}

/// The line node `name` logs when it stops (`<name> stopped: ...`).
fn stop_line(logs: &Path, name: &str) -> String {
    let err = log(logs, name, "err");
    let marker = format!("{name} stopped:");
    err.lines()
        .find(|line| line.contains(&marker))
        .map(|line| line[line.find(&marker).unwrap_or(0)..].to_owned())
        .unwrap_or_else(|| panic!("{name} logged no `{marker}` line; {err}"))
}
