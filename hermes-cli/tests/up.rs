//! `hermes up` with real processes: start order, prefixed output, restart after SIGKILL, and a
//! graceful stop on SIGTERM that leaves no process behind.

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
        let matches = |(from, text): &(String, String)| from == name && text.starts_with(prefix);
        let mut unmatched = self.unmatched.borrow_mut();
        if let Some(at) = unmatched.iter().position(matches) {
            return unmatched.remove(at).1;
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if matches(&line) => return line.1,
                Ok(line) => unmatched.push(line),
                Err(_) => panic!("no line `{name} | {prefix}…`"),
            }
        }
    }
}

impl Up {
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
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(started.elapsed() < DEADLINE, "hermes up did not exit");
            std::thread::sleep(Duration::from_millis(10));
        };
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

    // Proxies first, then nodes in file order.
    let market = pid_of(&up.expect("hermes", "started market"));
    let alpha_started = pid_of(&up.expect("hermes", "started alpha"));
    let beta = pid_of(&up.expect("hermes", "started beta"));
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

#[test]
fn up_runs_the_trading_example_brings_back_a_killed_node_and_leaves_nothing_behind() {
    // The nodes run as `cargo run --bin NAME` in examples/trading; on a cold target directory
    // the first of them compiles the crate, hence the generous first deadline.
    let up = Up::start(Path::new("../examples/trading"), &["--grace", "5"]);
    let mut groups = vec![pid_of(&up.expect("hermes", "started market"))];
    for node in [
        "bitstamp", "kraken", "coinbase", "strategy", "risk", "executor", "monitor",
    ] {
        groups.push(pid_of(&up.expect("hermes", &format!("started {node}"))));
    }
    let kraken_group = groups[2];
    up.expect_within("monitor", "[", Duration::from_secs(300));

    // SIGKILL the kraken binary itself (not the `cargo run` that started it): the node
    // exits, and comes back.
    // Each `cargo run` starts its binary once it has the build lock: wait for kraken's.
    let deadline = Instant::now() + Duration::from_secs(120);
    let kraken = loop {
        let found = group_members(kraken_group)
            .into_iter()
            .find(|(_, comm)| comm == "kraken");
        if let Some((pid, _)) = found {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "no kraken binary in its process group: {:?}",
            group_members(kraken_group)
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        Command::new("kill")
            .args(["-KILL", &kraken.to_string()])
            .status()
            .unwrap()
            .success()
    );
    up.expect("hermes", "kraken exited");
    groups.push(pid_of(&up.expect("hermes", "started kraken")));
    let summary = up.expect_within("monitor", "[", Duration::from_secs(60));
    assert!(summary.contains("kraken"), "{summary}");

    let mut up = up;
    up.terminate();
    let last = up.expect("monitor", "final");
    assert!(last.contains("drops"), "{last}");
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
