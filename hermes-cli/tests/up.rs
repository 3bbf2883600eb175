//! `hermes up` with real processes: start order, prefixed output, restart policies and backoff,
//! `--only` and `--host`, restart after SIGKILL, and a graceful stop on SIGTERM that leaves no
//! process behind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

/// `hermes up`, killed when the test ends however it ends.
struct Up {
    child: Child,
    lines: mpsc::Receiver<(String, String)>,
    /// Lines read while looking for another: output of different processes is unordered.
    unmatched: std::cell::RefCell<Vec<(String, String)>>,
}

impl Drop for Up {
    /// After a failed assertion too: SIGTERM first, so `hermes up` stops its children rather
    /// than orphaning them; SIGKILL if it has not exited within the deadline.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + DEADLINE;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Up {
    fn start(topology: &Path, extra: &[&str]) -> Up {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("hermes"))
            .arg("up")
            .arg(topology)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let (name, text) = line.split_once(" | ").unwrap_or(("", &line));
                if sender
                    .send((name.trim().to_owned(), text.to_owned()))
                    .is_err()
                {
                    break;
                }
            }
        });
        Up {
            child,
            lines,
            unmatched: Default::default(),
        }
    }

    /// The text of the next line from `name` that starts with `prefix`.
    fn expect(&self, name: &str, prefix: &str) -> String {
        self.expect_within(name, prefix, DEADLINE)
    }

    /// As [`expect`](Up::expect), waiting up to `timeout`.
    fn expect_within(&self, name: &str, prefix: &str, timeout: Duration) -> String {
        self.next_within(name, prefix, timeout)
            .unwrap_or_else(|| panic!("no line `{name} | {prefix}…`"))
    }

    /// The text of the next line from `name` that starts with `prefix`, if one comes within
    /// `timeout`.
    fn next_within(&self, name: &str, prefix: &str, timeout: Duration) -> Option<String> {
        let matches = |(from, text): &(String, String)| from == name && text.starts_with(prefix);
        let mut unmatched = self.unmatched.borrow_mut();
        if let Some(at) = unmatched.iter().position(matches) {
            return Some(unmatched.remove(at).1);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if matches(&line) => return Some(line.1),
                Ok(line) => unmatched.push(line),
                Err(_) => return None,
            }
        }
    }
}

impl Up {
    /// The next `count` processes `hermes up` starts, as (name, pid), in the order it started
    /// them: its notes come from one thread, so their order on its stdout is the start order.
    fn started(&self, count: usize) -> Vec<(String, u32)> {
        self.started_within(count, DEADLINE)
    }

    /// As [`started`](Up::started), waiting up to `timeout` for them all.
    fn started_within(&self, count: usize, timeout: Duration) -> Vec<(String, u32)> {
        let is_start =
            |(from, text): &(String, String)| from == "hermes" && text.starts_with("started ");
        let parse = |text: &str| {
            let name = text["started ".len()..]
                .split(' ')
                .next()
                .unwrap_or("")
                .to_owned();
            (name, pid_of(text))
        };
        let mut unmatched = self.unmatched.borrow_mut();
        let mut started = Vec::new();
        while started.len() < count {
            let Some(at) = unmatched.iter().position(is_start) else {
                break;
            };
            started.push(parse(&unmatched.remove(at).1));
        }
        let deadline = Instant::now() + timeout;
        while started.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if is_start(&line) => started.push(parse(&line.1)),
                Ok(line) => unmatched.push(line),
                Err(_) => panic!("only {} processes started: {started:?}", started.len()),
            }
        }
        started
    }

    /// Every line not yet taken, until `hermes up` closes its output (it exited).
    fn rest(&mut self) -> Vec<(String, String)> {
        let mut lines = std::mem::take(&mut *self.unmatched.borrow_mut());
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => return lines,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("hermes up did not exit: {lines:?}"),
            }
        }
    }

    /// Waits for `hermes up` to exit by itself, at most the deadline.
    fn wait(&mut self) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < DEADLINE, "hermes up did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM to `hermes up` and asserts that it stops, prints its summary and exits 0
    /// within the deadline.
    fn terminate(&mut self) {
        assert!(
            Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        self.expect("hermes", "stopping (signal)");
        self.expect("hermes", "summary:");
        let status = self.wait();
        assert!(status.success(), "{status:?}");
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn pid_of(text: &str) -> u32 {
    text.rsplit(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty())
        .unwrap()
        .parse()
        .unwrap()
}

fn topology(dir: &Path) -> std::path::PathBuf {
    std::fs::write(
        dir.join("messages.yaml"),
        "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n",
    )
    .unwrap();
    let front = dir.join("front.ipc");
    let back = dir.join("back.ipc");
    let yaml = format!(
        r#"name: demo
messages: [messages.yaml]
proxies:
  market:
    frontend: ipc://{front}
    backend: ipc://{back}
nodes:
  alpha:
    run: 'echo "pid $$"; exec sleep 60'
    publishes:
      - {{ topic: ticks, message: Tick, via: market }}
  beta:
    run: [sh, -c, "echo beta up; exec sleep 60"]
    restart: never
    subscribes:
      - {{ topic: ticks, message: Tick, via: market }}
"#,
        front = front.display(),
        back = back.display()
    );
    let path = dir.join("topology.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn up_starts_restarts_and_stops_everything() {
    let dir = tempfile::tempdir().unwrap();
    let up = Up::start(&topology(dir.path()), &["--grace", "2"]);

    // Proxies first, then subscribers before the publishers they hear: `beta` before `alpha`,
    // though the file lists `alpha` first.
    let started = up.started(3);
    let names: Vec<&str> = started.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["market", "beta", "alpha"]);
    let [market, beta, alpha_started] = [started[0].1, started[1].1, started[2].1];
    let alpha = pid_of(&up.expect("alpha", "pid "));
    assert_eq!(
        alpha, alpha_started,
        "the node's own output is prefixed with its name"
    );
    up.expect("beta", "beta up");

    // A node killed with SIGKILL comes back (restart: on-failure by default).
    assert!(
        Command::new("kill")
            .args(["-KILL", &alpha.to_string()])
            .status()
            .unwrap()
            .success()
    );
    up.expect("hermes", "alpha exited (SIGKILL); restarting");
    let alpha_again = pid_of(&up.expect("alpha", "pid "));
    assert_ne!(alpha, alpha_again);

    // SIGTERM stops every child and `hermes up` exits cleanly with a summary.
    let mut up = up;
    up.terminate();
    for (name, pid) in [("market", market), ("alpha", alpha_again), ("beta", beta)] {
        assert!(!alive(pid), "{name} (pid {pid}) was left running");
    }
}

#[test]
fn up_only_starts_the_named_processes() {
    let dir = tempfile::tempdir().unwrap();
    let up = Up::start(
        &topology(dir.path()),
        &["--only", "beta", "--duration", "1"],
    );
    up.expect("hermes", "started beta");
    up.expect("beta", "beta up");
    up.expect("hermes", "stopping (duration reached)");
    let mut up = up;
    assert!(up.child.wait().unwrap().success());
}

#[test]
fn up_rejects_an_unknown_only_name() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(assert_cmd::cargo::cargo_bin("hermes"))
        .arg("up")
        .arg(topology(dir.path()))
        .args(["--only", "gamma"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`--only gamma`: no proxy or node of that name"),
        "{stderr}"
    );
}

/// A topology of `nodes` (YAML under `nodes:`, indented by two) and, when given, `proxies`.
fn topology_of(dir: &Path, proxies: &str, nodes: &str) -> std::path::PathBuf {
    std::fs::write(
        dir.join("messages.yaml"),
        "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n",
    )
    .unwrap();
    let proxies = if proxies.is_empty() {
        String::new()
    } else {
        format!("proxies:\n{proxies}")
    };
    let path = dir.join("topology.yaml");
    std::fs::write(
        &path,
        format!("name: demo\nmessages: [messages.yaml]\n{proxies}nodes:\n{nodes}"),
    )
    .unwrap();
    path
}

#[test]
fn restart_always_restarts_a_node_that_exits_0_and_on_failure_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let topology = topology_of(
        dir.path(),
        "",
        r#"  again:
    run: 'echo "run $$"; exit 0'
    restart: always
  done:
    run: 'echo "run $$"; exit 0'
"#,
    );
    let up = Up::start(&topology, &["--grace", "2"]);
    let first = pid_of(&up.expect("again", "run "));
    up.expect("hermes", "again exited (status 0); restarting in 0.25 s");
    let second = pid_of(&up.expect("again", "run "));
    assert_ne!(first, second, "a new process ran");
    up.expect("hermes", "again exited (status 0); restarting in 0.50 s");
    // `done` has the default policy, `on-failure`: a clean exit is final.
    up.expect("done", "run ");
    up.expect("hermes", "done exited (status 0); not restarting");
    let mut up = up;
    up.terminate();
    let summary: Vec<String> = up
        .rest()
        .into_iter()
        .filter(|(from, text)| from == "hermes" && text.trim_start().starts_with("done "))
        .map(|(_, text)| text)
        .collect();
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert!(summary[0].contains("restarts   0"), "{summary:?}");
}

#[test]
fn up_host_starts_only_the_proxies_and_nodes_placed_on_that_host() {
    let dir = tempfile::tempdir().unwrap();
    let ipc = |name: &str| format!("ipc://{}", dir.path().join(name).display());
    let proxies = format!(
        "  edge_hub: {{ frontend: \"{}\", backend: \"{}\", host: edge-1 }}\n  far_hub: {{ frontend: \"{}\", backend: \"{}\", host: edge-2 }}\n  core_hub: {{ frontend: \"{}\", backend: \"{}\" }}\n",
        ipc("edge-front.ipc"),
        ipc("edge-back.ipc"),
        ipc("far-front.ipc"),
        ipc("far-back.ipc"),
        ipc("core-front.ipc"),
        ipc("core-back.ipc"),
    );
    let nodes = r#"  sensor:
    host: edge-1
    run: 'echo "sensor up"; exec sleep 60'
    publishes: [{ topic: ticks, message: Tick, via: edge_hub }]
  gateway:
    host: edge-2
    run: 'echo "gateway up"; exec sleep 60'
    publishes: [{ topic: alerts, message: Tick, via: far_hub }]
  central:
    run: 'echo "central up"; exec sleep 60'
    publishes: [{ topic: totals, message: Tick, via: core_hub }]
  archive:
    host: edge-1
    run: 'echo "archive up"; exec sleep 60'
    subscribes: [{ topic: ticks, message: Tick, via: edge_hub }]
"#;
    let nodes = format!(
        "{nodes}hosts:\n  edge-1: {{ address: 10.0.0.1 }}\n  edge-2: {{ address: 10.0.0.2 }}\n"
    );
    let up = Up::start(
        &topology_of(dir.path(), &proxies, &nodes),
        &["--host", "edge-1", "--grace", "2", "--ready-timeout", "0.5"],
    );
    let started: Vec<String> = up.started(3).into_iter().map(|(name, _)| name).collect();
    assert_eq!(started, ["edge_hub", "archive", "sensor"]);
    up.expect("sensor", "sensor up");
    up.expect("archive", "archive up");
    let mut up = up;
    up.terminate();
    let others: Vec<(String, String)> = up
        .rest()
        .into_iter()
        .filter(|(from, text)| {
            ["gateway", "central", "core_hub", "far_hub"]
                .iter()
                .any(|name| from == name || text.contains(name))
        })
        .collect();
    assert!(others.is_empty(), "started off edge-1: {others:?}");
}

#[test]
fn restart_backoff_doubles_after_each_quick_failure() {
    let dir = tempfile::tempdir().unwrap();
    // The node stamps its own start time, so the gaps measured are the real ones between
    // processes, not when the lines happened to reach this test.
    let topology = topology_of(
        dir.path(),
        "",
        "  crasher:\n    run: 'echo \"at $(date +%s%N)\"; exit 3'\n",
    );
    let up = Up::start(&topology, &["--grace", "2"]);
    let mut starts = Vec::new();
    let mut delays = Vec::new();
    for restart in 0..4 {
        let stamp = up.expect("crasher", "at ");
        let nanos: u64 = stamp["at ".len()..]
            .parse()
            .unwrap_or_else(|_| panic!("`date +%s%N` printed `{stamp}`"));
        starts.push(nanos);
        if restart < 3 {
            let note = up.expect("hermes", "crasher exited (status 3); restarting in ");
            let seconds: f64 = note
                .rsplit("restarting in ")
                .next()
                .and_then(|rest| rest.strip_suffix(" s"))
                .and_then(|seconds| seconds.parse().ok())
                .unwrap_or_else(|| panic!("{note}"));
            delays.push(seconds);
        }
    }
    assert_eq!(delays, [0.25, 0.5, 1.0]);
    for (gap, delay) in starts.windows(2).zip(&delays) {
        let gap = Duration::from_nanos(gap[1].saturating_sub(gap[0]));
        assert!(
            gap >= Duration::from_secs_f64(*delay),
            "restarted {gap:?} after the last start, before its {delay} s backoff"
        );
    }
    let mut up = up;
    up.terminate();
}

/// A topology whose `feed` node is a real publisher: `hermes pub` at 200 Hz.
fn publishing_topology(dir: &Path) -> (std::path::PathBuf, String) {
    std::fs::write(
        dir.join("messages.yaml"),
        "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n",
    )
    .unwrap();
    let back = format!("ipc://{}", dir.join("back.ipc").display());
    let hermes = assert_cmd::cargo::cargo_bin("hermes");
    let yaml = format!(
        r#"name: demo
messages: [messages.yaml]
proxies:
  market:
    frontend: ipc://{front}
    backend: {back}
nodes:
  feed:
    run: [{hermes}, pub, topology.yaml, ticks, '{{"n": 7}}', --rate, "200", --count, "0", --origin, feed]
    publishes:
      - {{ topic: ticks, message: Tick, via: market }}
  peer:
    run: 'echo "pid $$"; exec sleep 60'
    subscribes:
      - {{ topic: ticks, message: Tick, via: market }}
"#,
        front = dir.join("front.ipc").display(),
        hermes = hermes.display(),
    );
    let path = dir.join("topology.yaml");
    std::fs::write(&path, yaml).unwrap();
    (path, back)
}

#[test]
fn a_crashed_publishing_node_is_restarted_as_a_new_epoch_and_its_peers_keep_running() {
    use hermes_runtime::{Context, Error, Payload, Receiver};

    let dir = tempfile::tempdir().unwrap();
    let (topology, backend) = publishing_topology(dir.path());
    let up = Up::start(&topology, &["--grace", "2"]);
    let feed = pid_of(&up.expect("hermes", "started feed"));
    let peer = pid_of(&up.expect("peer", "pid "));

    let context = Context::new();
    let mut receiver = Receiver::<Payload>::builder(&context)
        .topic("ticks")
        .connect(&backend)
        .unwrap();
    let next = |receiver: &mut Receiver<Payload>| match receiver.recv_timeout(DEADLINE) {
        Ok(envelope) => envelope,
        Err(Error::Timeout) => panic!("no envelope from the feed"),
        Err(err) => panic!("{err}"),
    };
    let before = next(&mut receiver);
    for _ in 0..5 {
        next(&mut receiver);
    }

    assert!(
        Command::new("kill")
            .args(["-KILL", &feed.to_string()])
            .status()
            .unwrap()
            .success()
    );
    up.expect("hermes", "feed exited (SIGKILL); restarting");
    up.expect("hermes", "started feed");
    let after = loop {
        let envelope = next(&mut receiver);
        if envelope.epoch != before.epoch {
            break envelope;
        }
    };
    assert_eq!(after.origin, "feed");
    let stats = receiver.stats();
    assert_eq!(stats.publisher_restarts, 1, "{stats:?}");
    assert_eq!(
        stats.out_of_order, 0,
        "a restart is not a gap of -N: {stats:?}"
    );
    assert!(alive(peer), "the peer kept running");
}

/// Every process whose process group is `group`, with its command name.
fn group_members(group: u32) -> Vec<(u32, String)> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let comm = head
            .split_once(" (")
            .map_or("", |(_, comm)| comm)
            .to_owned();
        let pgrp = rest
            .split(' ')
            .nth(2)
            .and_then(|field| field.parse::<u32>().ok());
        if pgrp == Some(group) {
            members.push((pid, comm));
        }
    }
    members
}

/// The trading example's topology and messages copied into `dir`, its proxy moved to ipc
/// endpoints there, and each node given as `run:` what `hermes up` runs for a node without one
/// (`cargo run --bin NAME` in examples/trading) plus the options that point the binary at those
/// endpoints. The YAML's own tcp ports 6000–6002 are the ones `cargo run -p trading` and the
/// Python original bind, on a machine other work shares.
/// What `hermes tap TOPOLOGY ARGS --format json` prints, one value per envelope (killed after
/// 30 s).
fn tap_json(topology: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let output = assert_cmd::Command::cargo_bin("hermes")
        .expect("the hermes binary is built")
        .arg("tap")
        .arg(topology)
        .args(args)
        .args(["--format", "json"])
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(output)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{line}: {err}")))
        .collect()
}

fn trading_on_private_endpoints(dir: &Path) -> std::path::PathBuf {
    let example = Path::new("../examples/trading").canonicalize().unwrap();
    std::fs::copy(example.join("messages.yaml"), dir.join("messages.yaml")).unwrap();
    let endpoint = |side: &str| format!("ipc://{}", dir.join(format!("{side}.ipc")).display());
    let (frontend, backend, capture) = (
        endpoint("frontend"),
        endpoint("backend"),
        endpoint("capture"),
    );
    let manifest = example.join("Cargo.toml");
    let original = std::fs::read_to_string(example.join("topology.yaml")).unwrap();
    let mut yaml = String::new();
    let mut in_nodes = false;
    let mut nodes = 0;
    for line in original.lines() {
        let line = line
            .replace("tcp://127.0.0.1:6000", &frontend)
            .replace("tcp://127.0.0.1:6001", &backend)
            .replace("tcp://127.0.0.1:6002", &capture);
        yaml.push_str(&line);
        yaml.push('\n');
        in_nodes |= line == "nodes:";
        let node = line
            .strip_prefix("  ")
            .and_then(|rest| rest.strip_suffix(':'))
            .filter(|name| !name.starts_with(' '));
        if let (true, Some(name)) = (in_nodes, node) {
            nodes += 1;
            yaml.push_str(&format!(
                "    run: [cargo, run, --quiet, --manifest-path, \"{}\", --bin, {name}, --, \
                 --frontend, \"{frontend}\", --backend, \"{backend}\"]\n",
                manifest.display()
            ));
        }
    }
    assert_eq!(nodes, 7, "the example's nodes changed: {yaml}");
    assert!(!yaml.contains("tcp://"), "an endpoint left on tcp: {yaml}");
    let path = dir.join("topology.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// The quotes a second from `exchange` in a live monitor line
/// (`[   3s] quotes/s bitstamp 100 kraken 50 | trades 65 | ...`).
fn quote_rate(line: &str, exchange: &str) -> Option<u64> {
    let rates = line.split(" | ").next()?;
    let mut words = rates.split_whitespace();
    words.find(|word| *word == exchange)?;
    words.next()?.parse().ok()
}

/// The figure after `label` in a monitor line (`... | drops 0 | restarts 1`).
fn figure(line: &str, label: &str) -> Option<u64> {
    line.split(" | ").find_map(|part| {
        part.strip_prefix(label)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

/// The value of `key=N` in a log line.
fn log_field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// The pid of the process called `name` in process group `group`, once `cargo run` has
/// started it (it waits for the build lock first).
fn binary_in_group(group: u32, name: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some((pid, _)) = group_members(group)
            .into_iter()
            .find(|(_, comm)| comm == name)
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "no {name} binary in its process group: {:?}",
            group_members(group)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The next live monitor line that `accept`s, within `timeout`; `what` says what it shows.
fn monitor_line(up: &Up, what: &str, timeout: Duration, accept: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match up.next_within("monitor", "[", left) {
            Some(line) if accept(&line) => return line,
            Some(line) => last = Some(line),
            None => panic!("no monitor line {what} within {timeout:?}; the last: {last:?}"),
        }
    }
}

#[test]
fn up_runs_the_trading_example_brings_back_a_killed_node_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let topology = trading_on_private_endpoints(dir.path());
    let up = Up::start(&topology, &["--grace", "5"]);
    // The proxy, then every node after the nodes that hear it, each once they are ready (on a
    // cold target directory the first `cargo run` compiles the crate first).
    let started = up.started_within(8, Duration::from_secs(300));
    let names: Vec<&str> = started.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "market", "monitor", "executor", "risk", "strategy", "bitstamp", "kraken", "coinbase"
        ]
    );
    let mut groups: Vec<u32> = started.iter().map(|&(_, pid)| pid).collect();

    // On a cold target directory the first `cargo run` compiles the crate, hence the generous
    // deadline. Wait until the monitor hears kraken, so that it can tell a new kraken apart.
    monitor_line(
        &up,
        "with kraken quotes",
        Duration::from_secs(300),
        |line| quote_rate(line, "kraken").is_some_and(|rate| rate > 0),
    );

    // `hermes tap` on the running desk decodes its envelopes with the YAML's types.
    let quotes = tap_json(&topology, &["quotes/kraken", "--count", "3"]);
    assert_eq!(quotes.len(), 3, "{quotes:?}");
    for quote in &quotes {
        assert_eq!(quote["topic"], "quotes/kraken", "{quote}");
        assert_eq!(quote["origin"], "kraken", "{quote}");
        assert_eq!(quote["payload"]["exchange"], "kraken", "{quote}");
        let (bid, ask) = (&quote["payload"]["bid"], &quote["payload"]["ask"]);
        assert!(
            bid.as_f64()
                .zip(ask.as_f64())
                .is_some_and(|(bid, ask)| 0.0 < bid && bid < ask),
            "{quote}"
        );
    }

    // SIGKILL the kraken binary itself (not the `cargo run` that started it): the node exits,
    // and comes back as a new process.
    let kraken = binary_in_group(started[6].1, "kraken");
    assert!(
        Command::new("kill")
            .args(["-KILL", &kraken.to_string()])
            .status()
            .unwrap()
            .success()
    );
    up.expect("hermes", "kraken exited");
    let kraken_group = pid_of(&up.expect("hermes", "started kraken"));
    groups.push(kraken_group);
    let kraken_again = binary_in_group(kraken_group, "kraken");
    assert_ne!(kraken, kraken_again);

    // The new kraken publishes: the monitor sees a publisher restart (a new epoch from origin
    // `kraken`; nothing else restarts), and the whole second after that holds its quotes.
    let restarted = monitor_line(&up, "with a restart", Duration::from_secs(120), |line| {
        figure(line, "restarts").is_some_and(|restarts| restarts > 0)
    });
    let after = up.expect_within("monitor", "[", Duration::from_secs(10));
    assert!(
        quote_rate(&after, "kraken").is_some_and(|rate| rate > 0),
        "no kraken quotes in the second after its restart was seen:\n{restarted}\n{after}"
    );

    let mut up = up;
    up.terminate();
    // A restart starts a new sequence; it is not a gap, and nothing else was lost.
    let last = up.expect("monitor", "final");
    assert_eq!(figure(&last, "drops"), Some(0), "{last}");
    assert!(
        figure(&last, "restarts").is_some_and(|restarts| restarts > 0),
        "{last}"
    );
    // No first message went to nobody: `hermes up` started each node after the subscribers
    // of what it publishes were ready, and each publication waited for its first subscriber,
    // so every subscriber heard every publisher from its first envelope (the restarted kraken
    // included: its new epoch starts at sequence 0 too).
    let lines = up.rest();
    for node in ["monitor", "executor", "strategy", "risk"] {
        let stopped = lines
            .iter()
            .find(|(from, text)| from == node && text.contains("stopped node="))
            .unwrap_or_else(|| panic!("no `stopped` line from {node}: {lines:?}"));
        assert_eq!(
            log_field(&stopped.1, "missed_at_start"),
            Some(0),
            "{node}: {}",
            stopped.1
        );
        // The quote subscribers heard something (risk hears orders only when the strategy
        // finds a spread, which a short run may not).
        assert!(
            node == "risk"
                || log_field(&stopped.1, "received").is_some_and(|received| received > 0),
            "{node}: {}",
            stopped.1
        );
    }
    // Other tests start processes meanwhile, and a freed process-group ID can be reused by
    // one of theirs: look for the desk's own commands only.
    let ours = [
        "hermes", "cargo", "market", "bitstamp", "kraken", "coinbase", "strategy", "risk",
        "executor", "monitor",
    ];
    for group in groups {
        let left: Vec<_> = group_members(group)
            .into_iter()
            .filter(|(_, comm)| ours.contains(&comm.as_str()))
            .collect();
        assert!(
            left.is_empty(),
            "process group {group} left running: {left:?}"
        );
    }
}

/// `GET /metrics` from a Hermes process on this machine, over real HTTP; `None` while nothing
/// answers there.
fn scrape(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream =
        std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

/// The sum of every sample of `name` (over its label sets) in a scrape; 0 when absent.
fn metric(scraped: &str, name: &str) -> u64 {
    scraped
        .lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

/// Scrapes `port` until `accept` holds for the scrape, within `timeout`; the last scrape.
fn scrape_until(port: u16, what: &str, timeout: Duration, accept: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        if let Some(scraped) = scrape(port) {
            if accept(&scraped) {
                return scraped;
            }
            last = Some(scraped);
        }
        assert!(
            Instant::now() < deadline,
            "metrics on port {port} never showed {what} within {timeout:?}; the last scrape:\n{}",
            last.unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_hosts_on_one_machine_carry_traffic_across_and_count_exactly_what_an_outage_lost() {
    // examples/multihost: host `a` (127.0.0.2) runs the `hub` proxy on `tcp://*:17300/1`;
    // host `b` (127.0.0.3) runs `ticker` (8,000 ticks at 1,000 a second) and `tally`, which
    // reach the hub at 127.0.0.2, as derived from `hosts:`. Metrics: hub 17310, ticker 17311,
    // tally 17312.
    const HUB: u16 = 17310;
    const TICKER: u16 = 17311;
    const TALLY: u16 = 17312;
    const COUNT: u64 = 8000;
    let topology = Path::new("../examples/multihost/topology.yaml")
        .canonicalize()
        .unwrap();
    let host_a = Up::start(&topology, &["--host", "a", "--grace", "2"]);
    let hub = host_a.started(1);
    assert_eq!(hub[0].0, "hub");
    scrape_until(HUB, "the hub up", DEADLINE, |_| true);
    let host_b = Up::start(&topology, &["--host", "b", "--grace", "5"]);
    assert_eq!(
        host_b
            .started_within(2, Duration::from_secs(300))
            .into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>(),
        ["tally", "ticker"]
    );

    // Traffic crosses: b → a → b. (On a cold target directory the first `cargo run` builds.)
    let received = |scraped: &str| metric(scraped, "hermes_received_total");
    scrape_until(TALLY, "ticks received", Duration::from_secs(300), |s| {
        received(s) > 100
    });
    let forwarded = scrape_until(HUB, "ticks forwarded", DEADLINE, |s| {
        metric(s, "hermes_proxy_forwarded_total") > 0
    });
    assert!(
        metric(&forwarded, "hermes_proxy_subscriptions") >= 1,
        "{forwarded}"
    );

    // Kill host a's processes: the hub with SIGKILL, then `hermes up` itself.
    assert!(
        Command::new("kill")
            .args(["-KILL", &hub[0].1.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let mut host_a = host_a;
    host_a.terminate();
    drop(host_a);
    // The ticker keeps publishing into the outage.
    let sent = |scraped: &str| metric(scraped, "hermes_sent_total");
    let at_kill = sent(&scrape(TICKER).expect("the ticker's metrics"));
    assert!(at_kill < COUNT, "the ticker finished before the outage");
    scrape_until(TICKER, "ticks sent during the outage", DEADLINE, |s| {
        sent(s) >= at_kill + 300
    });

    // Start host a again: the flow resumes, and the tally counts the gap as lost.
    let host_a = Up::start(&topology, &["--host", "a", "--grace", "2"]);
    assert_eq!(host_a.started(1)[0].0, "hub");
    let resumed = scrape_until(TALLY, "the flow resumed with a loss", DEADLINE, |s| {
        metric(s, "hermes_lost_total") > 0
    });
    let before = received(&resumed);
    scrape_until(TALLY, "ticks after the outage", DEADLINE, |s| {
        received(s) > before
    });

    // Once the ticker is done, everything it sent is either received or counted lost:
    // exactly, with nothing missed at the start either (the tally was ready first).
    scrape_until(TICKER, "every tick sent", Duration::from_secs(60), |s| {
        sent(s) == COUNT
    });
    let last = scrape_until(TALLY, "received + lost = sent", DEADLINE, |s| {
        received(s) + metric(s, "hermes_lost_total") == COUNT
    });
    // At least what the 300 ticks sent into the outage overflowed of the ticker's queue (a
    // high-water mark of 100) was lost.
    let lost = metric(&last, "hermes_lost_total");
    assert!(lost >= 200, "the outage lost only {lost}");
    assert_eq!(metric(&last, "hermes_decode_errors_total"), 0, "{last}");

    let (mut host_a, mut host_b) = (host_a, host_b);
    host_b.terminate();
    host_a.terminate();
}
