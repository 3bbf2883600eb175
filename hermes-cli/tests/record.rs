//! `hermes record` and `hermes replay` end to end: the trading desk recorded over private ipc
//! endpoints, the file read by the `mcap` Python packages, replayed into a proxy and tapped, and
//! a recorder killed outright. Real processes and sockets; every wait is bounded.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

#[path = "../../hermes-build/tests/support/venv.rs"]
mod venv;

const MCAP: &str = "mcap==1.6.0";
const MCAP_PROTOBUF: &str = "mcap-protobuf-support==0.6.0";

fn hermes() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hermes"))
}

/// A child process killed when dropped, however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn spawn(command: &mut Command, stderr: &Path) -> Running {
        let log = std::fs::File::create(stderr).unwrap();
        Running(command.stderr(log).spawn().expect("spawn"))
    }

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.0.id() as i32), signal).unwrap();
    }

    /// Waits for the exit, at most `limit`; panics past it.
    fn wait(&mut self, limit: Duration, what: &str) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{what} did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Waits until `file` contains `text`.
fn wait_for_text(file: &Path, text: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let content = std::fs::read_to_string(file).unwrap_or_default();
        if content.contains(text) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no `{text}` in {}:\n{content}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The trading topology with its proxy on ipc endpoints in `dir`: (path, frontend, capture).
fn desk_topology(dir: &Path) -> (PathBuf, String, String) {
    let example = Path::new("../examples/trading");
    std::fs::copy(example.join("messages.yaml"), dir.join("messages.yaml")).unwrap();
    let endpoint = |side: &str| format!("ipc://{}", dir.join(format!("{side}.ipc")).display());
    let yaml = std::fs::read_to_string(example.join("topology.yaml"))
        .unwrap()
        .replace("tcp://127.0.0.1:6000", &endpoint("frontend"))
        .replace("tcp://127.0.0.1:6001", &endpoint("backend"))
        .replace("tcp://127.0.0.1:6002", &endpoint("capture"))
        .replace("../../schemas/", "");
    assert!(!yaml.contains("tcp://"), "an endpoint left on tcp");
    let path = dir.join("topology.yaml");
    std::fs::write(&path, yaml).unwrap();
    (path, endpoint("frontend"), endpoint("capture"))
}

/// Runs the whole desk in one process for `seconds`, on the endpoints of `desk_topology`.
fn run_desk(dir: &Path, seconds: u32) {
    let endpoint = |side: &str| format!("ipc://{}", dir.join(format!("{side}.ipc")).display());
    let mut desk = Running::spawn(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["run", "--quiet", "-p", "trading", "--bin", "trading", "--"])
            .args(["--duration", &seconds.to_string(), "--log-level", "warn"])
            .args(["--frontend", &endpoint("frontend")])
            .args(["--backend", &endpoint("backend")])
            .args(["--capture", &endpoint("capture")])
            .stdout(Stdio::null()),
        &dir.join("desk.log"),
    );
    // Building the example may come first.
    let status = desk.wait(Duration::from_secs(600), "the desk");
    let log = std::fs::read_to_string(dir.join("desk.log")).unwrap_or_default();
    assert!(status.success(), "the desk failed: {status}\n{log}");
}

fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = PYTHON.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let venv = venv::venv(&tmp, "mcap-venv", &[MCAP, MCAP_PROTOBUF], |venv| {
            let mut import = Command::new(venv.join("bin").join("python"));
            import.args(["-c", "import mcap, mcap_protobuf"]);
            import
        })?;
        Ok(venv.join("bin").join("python"))
    });
    match made {
        Ok(python) => python,
        Err(why) => panic!(
            "cannot install {MCAP} and {MCAP_PROTOBUF}: {why}\n\
             help: these tests need python3 with its `venv` module and access to PyPI"
        ),
    }
}

/// What tests/python/read_recording.py reports about `file`.
fn read_with_python(file: &Path, mode: &str) -> serde_json::Value {
    let log = tempfile::NamedTempFile::new().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new(python());
    command
        .arg("tests/python/read_recording.py")
        .arg(file)
        .arg(mode);
    let status = venv::run_until(
        &mut command,
        Instant::now() + Duration::from_secs(120),
        out.path(),
        log.path(),
    )
    .unwrap_or_else(|why| panic!("read_recording.py: {why}"));
    let stdout = std::fs::read_to_string(out.path()).unwrap_or_default();
    let stderr = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(
        status.success(),
        "read_recording.py {mode} failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|err| panic!("{stdout}: {err}"))
}

/// How many sockets are connected to the ipc endpoint bound at `path`, from /proc/net/unix
/// (the listening socket and one per connection carry the path).
fn ipc_connections(path: &Path) -> usize {
    let path = path.display().to_string();
    std::fs::read_to_string("/proc/net/unix")
        .unwrap_or_default()
        .lines()
        .filter(|line| line.ends_with(&path))
        .count()
        .saturating_sub(1)
}

/// Records the desk while `hermes stats` counts it; returns the file, its topology and what
/// stats saw. The proxy runs first as `hermes proxy`, and the feeds and the monitor start only
/// once both tools are connected to its capture socket, so the two see the same envelopes from
/// the first.
fn record_the_desk(dir: &Path) -> (PathBuf, PathBuf, u64) {
    let (topology, frontend, capture) = desk_topology(dir);
    let backend = format!("ipc://{}", dir.join("backend.ipc").display());
    let mut proxy = Running::spawn(
        hermes()
            .arg("proxy")
            .args(["--name", "market", "--frontend", &frontend])
            .args(["--backend", &backend, "--capture", &capture])
            .stdout(Stdio::null()),
        &dir.join("proxy.log"),
    );
    wait_for_text(
        &dir.join("proxy.log"),
        "proxy running",
        Duration::from_secs(30),
    );
    let file = dir.join("desk.mcap");
    let record_log = dir.join("record.log");
    let stats_log = dir.join("stats.log");
    let stats_out = std::fs::File::create(dir.join("stats.json")).unwrap();
    let mut recorder = Running::spawn(
        hermes().arg("record").arg(&topology).arg("-o").arg(&file),
        &record_log,
    );
    let mut stats = Running::spawn(
        hermes()
            .arg("stats")
            .arg(&topology)
            .args(["--json", "--duration", "3600"])
            .stdout(stats_out),
        &stats_log,
    );
    let capture_path = dir.join("capture.ipc");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ipc_connections(&capture_path) < 2 {
        assert!(
            Instant::now() < deadline,
            "record and stats did not both connect to the capture socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The connections are up; let their subscriptions reach the capture socket.
    std::thread::sleep(Duration::from_millis(300));
    let mut nodes: Vec<(&str, Running)> = ["monitor", "bitstamp", "kraken", "coinbase"]
        .into_iter()
        .map(|node| {
            let running = Running::spawn(
                Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                    .args(["run", "--quiet", "-p", "trading", "--bin", node, "--"])
                    .args(["--duration", "3", "--log-level", "warn"])
                    .args(["--frontend", &frontend, "--backend", &backend])
                    .stdout(Stdio::null()),
                &dir.join(format!("{node}.log")),
            );
            (node, running)
        })
        .collect();
    for (node, running) in &mut nodes {
        // Building the example may come first.
        let status = running.wait(Duration::from_secs(600), node);
        let log = std::fs::read_to_string(dir.join(format!("{node}.log"))).unwrap_or_default();
        assert!(status.success(), "{node} failed: {status}\n{log}");
    }
    // The feeds have stopped: what they sent has reached both.
    std::thread::sleep(Duration::from_millis(500));
    recorder.signal(Signal::SIGINT);
    stats.signal(Signal::SIGINT);
    let status = recorder.wait(Duration::from_secs(30), "hermes record");
    let log = std::fs::read_to_string(&record_log).unwrap();
    assert!(status.success(), "hermes record: {status}\n{log}");
    assert!(
        stats
            .wait(Duration::from_secs(30), "hermes stats")
            .success()
    );
    proxy.signal(Signal::SIGTERM);
    assert!(
        proxy
            .wait(Duration::from_secs(10), "hermes proxy")
            .success()
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap();
    let seen = report["received"].as_u64().expect("received");
    assert!(seen > 100, "the desk sent little: {report}");
    (file, topology, seen)
}

#[test]
fn a_recorded_desk_reads_in_python_with_schemas_and_the_count_stats_saw() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _, seen) = record_the_desk(dir.path());
    let read = read_with_python(&file, "full");
    assert!(read["quotes"].as_u64().unwrap() > 0, "{read}");
    assert_eq!(
        read["count"].as_u64(),
        Some(seen),
        "python read {read}; stats saw {seen}"
    );
    assert_eq!(read["statistics"].as_u64(), Some(seen), "{read}");
}

#[test]
fn a_replayed_recording_taps_as_the_same_topics_and_payloads_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (file, topology, _) = record_the_desk(dir.path());
    let recorded_tap = dir.path().join("recorded.jsonl");
    // What was recorded, as tap shows it: replay into a fresh proxy on the same endpoints.
    let proxy_log = dir.path().join("proxy.log");
    let endpoint =
        |side: &str| format!("ipc://{}", dir.path().join(format!("{side}.ipc")).display());
    let _proxy = Running::spawn(
        hermes()
            .arg("proxy")
            .args(["--frontend", &endpoint("frontend")])
            .args(["--backend", &endpoint("backend")])
            .args(["--capture", &endpoint("capture")]),
        &proxy_log,
    );
    let tap_out = std::fs::File::create(&recorded_tap).unwrap();
    let tap_log = dir.path().join("tap.log");
    let mut tap = Running::spawn(
        hermes()
            .arg("tap")
            .arg(&topology)
            // The backend: its subscription reaches the replay through the proxy, so replay's
            // wait for a subscriber ends as soon as tap is there.
            .args(["--endpoint", &endpoint("backend"), "--insecure"])
            .args(["--format", "json", "--timeout", "120"])
            .stdout(tap_out),
        &tap_log,
    );
    wait_for_text(&tap_log, "tapping", Duration::from_secs(30));
    let replay_log = dir.path().join("replay.log");
    let mut replay = Running::spawn(
        hermes()
            .arg("replay")
            .arg(&file)
            .arg(&topology)
            .args(["--speed", "4"]),
        &replay_log,
    );
    let status = replay.wait(Duration::from_secs(120), "hermes replay");
    let log = std::fs::read_to_string(&replay_log).unwrap();
    assert!(status.success(), "hermes replay: {status}\n{log}");
    std::thread::sleep(Duration::from_millis(500));
    tap.signal(Signal::SIGINT);
    tap.wait(Duration::from_secs(30), "hermes tap");
    let tapped: Vec<serde_json::Value> = std::fs::read_to_string(&recorded_tap)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // The recording, read by the runtime, in order.
    let recorded: Vec<_> = hermes_runtime::recording::Recording::open(&file)
        .unwrap()
        .map(|item| item.unwrap().1)
        .collect();
    assert_eq!(tapped.len(), recorded.len(), "replay log:\n{log}");
    for (tapped, recorded) in tapped.iter().zip(&recorded) {
        assert_eq!(tapped["topic"], recorded.topic.as_ref(), "{tapped}");
        assert_eq!(
            tapped["origin"],
            format!("{}@replay", recorded.origin),
            "{tapped}"
        );
        assert_eq!(tapped["seq"], recorded.seq, "{tapped}");
        assert!(tapped.get("error").is_none(), "{tapped}");
        if let Some(exchange) = recorded.topic.strip_prefix("quotes/") {
            assert_eq!(tapped["payload"]["exchange"], exchange, "{tapped}");
        }
    }
}

#[test]
fn a_killed_recorder_leaves_a_file_python_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (topology, _, _) = desk_topology(dir.path());
    let file = dir.path().join("killed.mcap");
    let record_log = dir.path().join("record.log");
    let mut recorder = Running::spawn(
        hermes().arg("record").arg(&topology).arg("-o").arg(&file),
        &record_log,
    );
    wait_for_text(&record_log, "recording ipc://", Duration::from_secs(30));
    run_desk(dir.path(), 3);
    // More than the one-second flush interval has passed since the desk stopped.
    std::thread::sleep(Duration::from_millis(1500));
    recorder.signal(Signal::SIGKILL);
    recorder.wait(Duration::from_secs(10), "the killed recorder");
    let mut recording = hermes_runtime::recording::Recording::open(&file).unwrap();
    let mut count = 0u64;
    for item in recording.by_ref() {
        item.unwrap();
        count += 1;
    }
    assert!(recording.truncated());
    assert!(count > 100, "{count}");
    // The Python reader gets the same envelopes.
    let read = read_with_python(&file, "killed");
    assert_eq!(Some(count), read["count"].as_u64(), "{read}");
}

#[test]
fn an_unwritable_output_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (topology, _, _) = desk_topology(dir.path());
    let output = hermes()
        .arg("record")
        .arg(&topology)
        .arg("-o")
        .arg(dir.path().join("missing/dir/x.mcap"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: cannot create"), "{stderr}");
}

#[test]
fn garbage_is_refused_by_replay_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("garbage.mcap");
    std::fs::write(&file, b"this is not an mcap file").unwrap();
    let output = hermes()
        .arg("replay")
        .arg(&file)
        .args(["--endpoint", "ipc:///nonexistent/hermes-replay.ipc"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a valid MCAP file"), "{stderr}");
}
