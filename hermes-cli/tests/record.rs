//! `hermes record` and `hermes replay` end to end: the trading desk, every node its own process
//! around a `hermes proxy` on private ipc endpoints, recorded while `hermes stats` counts and
//! `hermes tap` prints the same capture socket. The file is read by the `mcap` Python packages
//! and checked against tap's decoding, replayed into a proxy and tapped again (all of it, some
//! topics, in a loop), and a recorder is killed mid-stream beside one that stops by itself and
//! splits its files. Real processes and sockets; every wait is bounded.

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
fn read_with_python(file: &Path, arguments: &[&str]) -> serde_json::Value {
    let log = tempfile::NamedTempFile::new().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new(python());
    command
        .arg("tests/python/read_recording.py")
        .arg(file)
        .args(arguments);
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
        "read_recording.py {arguments:?} failed:\n{stdout}\n{stderr}"
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

/// A binary of the trading example, built once for every test (beside `hermes`, in the same
/// target directory and profile).
fn trading_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut build = Running::spawn(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--quiet", "-p", "trading", "--bins"])
                .stdout(Stdio::null()),
            log.path(),
        );
        let status = build.wait(Duration::from_secs(600), "building the trading example");
        let log = std::fs::read_to_string(log.path()).unwrap_or_default();
        status.success().then_some(()).ok_or(log)
    });
    if let Err(log) = built {
        panic!("cannot build the trading example:\n{log}");
    }
    Path::new(env!("CARGO_BIN_EXE_hermes")).with_file_name(name)
}

/// The desk's consumers, started first so that they are subscribed when quotes start.
const CONSUMERS: [&str; 4] = ["monitor", "strategy", "risk", "executor"];
/// The desk's feeds.
const FEEDS: [&str; 3] = ["bitstamp", "kraken", "coinbase"];

/// The trading desk as separate processes around a `hermes proxy`, on the ipc endpoints of
/// `desk_topology`, with tools listening to its capture socket.
struct Desk {
    dir: PathBuf,
    topology: PathBuf,
    proxy: Running,
    nodes: Vec<(&'static str, Running)>,
}

impl Desk {
    /// Starts the proxy.
    fn proxy(dir: &Path) -> Desk {
        let (topology, frontend, capture) = desk_topology(dir);
        let mut proxy = hermes();
        proxy
            .arg("proxy")
            .args(["--name", "market", "--frontend", &frontend])
            .args([
                "--backend",
                &Desk::endpoint(dir, "backend"),
                "--capture",
                &capture,
            ])
            .stdout(Stdio::null());
        let proxy = Running::spawn(&mut proxy, &dir.join("proxy.log"));
        wait_for_text(
            &dir.join("proxy.log"),
            "proxy running",
            Duration::from_secs(30),
        );
        Desk {
            dir: dir.to_owned(),
            topology,
            proxy,
            nodes: Vec::new(),
        }
    }

    fn endpoint(dir: &Path, side: &str) -> String {
        format!("ipc://{}", dir.join(format!("{side}.ipc")).display())
    }

    /// Waits until `tools` sockets are connected to the capture socket and have subscribed.
    fn wait_for_listeners(&self, tools: usize) {
        wait_for_connections(&self.dir.join("capture.ipc"), tools, "the capture socket");
        // The connections are up; let their subscriptions reach the capture socket.
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Starts the consumers, waits for their subscriptions to connect, then starts the feeds.
    fn start_nodes(&mut self) {
        for node in CONSUMERS {
            self.start(node);
        }
        wait_for_connections(
            &self.dir.join("backend.ipc"),
            CONSUMERS.len(),
            "the backend",
        );
        for node in FEEDS {
            self.start(node);
        }
    }

    fn start(&mut self, node: &'static str) {
        let mut command = Command::new(trading_binary(node));
        command
            .args(["--log-level", "warn"])
            .args(["--frontend", &Desk::endpoint(&self.dir, "frontend")])
            .args(["--backend", &Desk::endpoint(&self.dir, "backend")])
            .stdout(Stdio::null());
        let running = Running::spawn(&mut command, &self.dir.join(format!("{node}.log")));
        self.nodes.push((node, running));
    }

    /// Whether every node is still running.
    fn running(&mut self) -> bool {
        self.nodes
            .iter_mut()
            .all(|(_, node)| node.0.try_wait().unwrap().is_none())
    }

    /// Stops the feeds, then the consumers (so that what the feeds sent is handled), each with
    /// SIGTERM, and checks that each exits 0.
    fn stop_nodes(&mut self) {
        for group in [&FEEDS[..], &CONSUMERS[..]] {
            for (_, node) in self.nodes.iter().filter(|(name, _)| group.contains(name)) {
                node.signal(Signal::SIGTERM);
            }
            for (name, node) in self
                .nodes
                .iter_mut()
                .filter(|(name, _)| group.contains(name))
            {
                let status = node.wait(Duration::from_secs(10), name);
                let log = std::fs::read_to_string(self.dir.join(format!("{name}.log")));
                assert!(status.success(), "{name}: {status}\n{}", log.unwrap());
            }
        }
        self.nodes.clear();
    }

    fn stop_proxy(mut self) {
        self.proxy.signal(Signal::SIGTERM);
        let status = self.proxy.wait(Duration::from_secs(10), "hermes proxy");
        assert!(status.success(), "hermes proxy: {status}");
    }
}

/// Waits until `count` sockets are connected to the ipc endpoint bound at `path`.
fn wait_for_connections(path: &Path, count: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while ipc_connections(path) < count {
        assert!(
            Instant::now() < deadline,
            "fewer than {count} sockets connected to {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `file` has stopped growing for `quiet`: a tap whose source went silent.
fn wait_until_quiet(file: &Path, quiet: Duration) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut size = std::fs::metadata(file).map_or(0, |meta| meta.len());
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let now = std::fs::metadata(file).map_or(0, |meta| meta.len());
        if now != size {
            (size, since) = (now, Instant::now());
        } else if since.elapsed() >= quiet {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} still grows after 30 s",
            file.display()
        );
    }
}

/// `hermes tap --format json` on the capture of the topology at `topology`, to `out`.
fn tap(topology: &Path, out: &Path, log: &Path) -> Running {
    Running::spawn(
        hermes()
            .arg("tap")
            .arg(topology)
            .args(["--format", "json"])
            .stdout(std::fs::File::create(out).unwrap()),
        log,
    )
}

/// The lines `hermes tap --format json` wrote to `file`.
fn tapped(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The topics the topology at `path` declares, each with its message's full name.
fn declared_topics(path: &Path) -> Vec<(String, String)> {
    let loaded = hermes_build::load(path).expect("a valid topology");
    let mut topics: Vec<_> = loaded
        .topology
        .nodes
        .iter()
        .flat_map(|(_, node)| &node.publishes)
        .map(|port| {
            let message = port.message.as_str();
            (port.topic.as_str().to_owned(), format!("trading.{message}"))
        })
        .collect();
    topics.sort();
    topics
}

/// A `hermes record` of a run of the whole desk, with what `hermes stats` and `hermes tap`
/// saw of the same capture socket.
struct RecordedDesk {
    file: PathBuf,
    topology: PathBuf,
    /// What `hermes stats` counted.
    seen: u64,
    /// What `hermes tap --format json` printed, in order.
    tap: PathBuf,
}

/// Records the desk while `hermes stats` counts it and `hermes tap` prints it. The proxy runs
/// first, and the nodes start only once the three tools are connected to its capture socket,
/// so that they see the same envelopes from the first. The feeds run for two seconds, and on
/// until every declared topic has carried traffic (orders, decisions and fills included).
fn record_the_desk(dir: &Path) -> RecordedDesk {
    let mut desk = Desk::proxy(dir);
    let topology = desk.topology.clone();
    let file = dir.join("desk.mcap");
    let record_log = dir.join("record.log");
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
        &dir.join("stats.log"),
    );
    let tap_out = dir.join("tap.jsonl");
    let mut tap = tap(&topology, &tap_out, &dir.join("tap.log"));
    desk.wait_for_listeners(3);
    desk.start_nodes();
    let declared = declared_topics(&topology);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&tap_out).unwrap_or_default();
        let missing: Vec<_> = declared
            .iter()
            .filter(|(topic, _)| !text.contains(&format!("\"topic\":\"{topic}\"")))
            .collect();
        // A few seconds of the desk, whatever comes first.
        if missing.is_empty() && started.elapsed() >= Duration::from_secs(2) {
            break;
        }
        assert!(
            Instant::now() < deadline && desk.running(),
            "no traffic on {missing:?} after 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    desk.stop_nodes();
    wait_until_quiet(&tap_out, Duration::from_millis(500));
    for tool in [&recorder, &stats, &tap] {
        tool.signal(Signal::SIGINT);
    }
    let status = recorder.wait(Duration::from_secs(30), "hermes record");
    let log = std::fs::read_to_string(&record_log).unwrap();
    assert!(status.success(), "hermes record: {status}\n{log}");
    let status = stats.wait(Duration::from_secs(30), "hermes stats");
    assert!(status.success(), "hermes stats: {status}");
    let status = tap.wait(Duration::from_secs(30), "hermes tap");
    assert!(status.success(), "hermes tap: {status}");
    desk.stop_proxy();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap();
    let seen = report["received"].as_u64().expect("received");
    assert!(seen > 100, "the desk sent little: {report}");
    assert_eq!(report["lost"], 0, "{report}");
    RecordedDesk {
        file,
        topology,
        seen,
        tap: tap_out,
    }
}

#[test]
fn a_recorded_desk_reads_in_python_with_schemas_and_the_count_stats_saw() {
    let dir = tempfile::tempdir().unwrap();
    let desk = record_the_desk(dir.path());
    // Python decodes every message with the schema in the file and compares its payload,
    // field by field, with what tap decoded from the wire with the topology's types.
    let read = read_with_python(&desk.file, &["full", desk.tap.to_str().unwrap()]);
    assert!(read["quotes"].as_u64().unwrap() > 0, "{read}");
    assert_eq!(
        read["count"].as_u64(),
        Some(desk.seen),
        "python read {read}; stats saw {}",
        desk.seen
    );
    assert_eq!(read["statistics"].as_u64(), Some(desk.seen), "{read}");
    // Every declared topic carried traffic: each has a channel whose schema is its message's.
    let mut channels: Vec<(String, String)> = read["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|channel| {
            assert_eq!(channel["schema_encoding"], "protobuf", "{channel}");
            assert_eq!(channel["message_encoding"], "protobuf", "{channel}");
            let text = |key: &str| channel[key].as_str().unwrap().to_owned();
            (text("topic"), text("schema"))
        })
        .collect();
    channels.sort();
    channels.dedup();
    assert_eq!(channels, declared_topics(&desk.topology));
}

#[test]
fn a_replayed_recording_taps_as_the_same_topics_and_payloads_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let desk = record_the_desk(dir.path());
    // What the desk published, as tap printed it live.
    let live = tapped(&desk.tap);
    // The recording, read by the runtime, in order.
    let recorded: Vec<_> = hermes_runtime::recording::Recording::open(&desk.file)
        .unwrap()
        .map(|item| item.unwrap().1)
        .collect();
    assert_eq!(live.len(), recorded.len());
    // Replayed into a fresh proxy on the same endpoints, tapped on its backend: its
    // subscription reaches the replay through the proxy, so replay's wait for a subscriber
    // ends as soon as tap is there.
    let endpoint =
        |side: &str| format!("ipc://{}", dir.path().join(format!("{side}.ipc")).display());
    let _proxy = Running::spawn(
        hermes()
            .arg("proxy")
            .args(["--frontend", &endpoint("frontend")])
            .args(["--backend", &endpoint("backend")])
            .args(["--capture", &endpoint("capture")])
            .stdout(Stdio::null()),
        &dir.path().join("replay-proxy.log"),
    );
    let replay = |name: &str, options: &[&str], count: usize| {
        let out = dir.path().join(format!("{name}.jsonl"));
        let tap_log = dir.path().join(format!("{name}-tap.log"));
        let mut tap = Running::spawn(
            hermes()
                .arg("tap")
                .arg(&desk.topology)
                .args(["--endpoint", &endpoint("backend"), "--insecure"])
                .args(["--format", "json", "--timeout", "120"])
                .args(["--count", &count.to_string()])
                .stdout(std::fs::File::create(&out).unwrap()),
            &tap_log,
        );
        wait_for_text(&tap_log, "tapping", Duration::from_secs(30));
        let replay_log = dir.path().join(format!("{name}-replay.log"));
        let replay = Running::spawn(
            hermes()
                .arg("replay")
                .arg(&desk.file)
                .arg(&desk.topology)
                .args(options),
            &replay_log,
        );
        let status = tap.wait(Duration::from_secs(120), "hermes tap");
        let log = std::fs::read_to_string(&replay_log).unwrap();
        assert!(status.success(), "{name}: tap got too few\n{log}");
        (tapped(&out), replay, replay_log)
    };
    let same = |replayed: &serde_json::Value, live: &serde_json::Value| {
        assert_eq!(replayed["topic"], live["topic"], "{replayed}");
        assert_eq!(
            replayed["origin"],
            format!("{}@replay", live["origin"].as_str().unwrap()),
            "{replayed}"
        );
        assert_eq!(replayed["seq"], live["seq"], "{replayed}");
        assert_eq!(replayed["message"], live["message"], "{replayed}");
        assert!(replayed.get("error").is_none(), "{replayed}");
        assert_eq!(replayed["payload"], live["payload"], "{replayed}");
    };

    // Everything, paced as recorded (4 times faster).
    let (replayed, mut process, log) = replay("all", &["--speed", "4"], recorded.len());
    let status = process.wait(Duration::from_secs(120), "hermes replay");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(status.success(), "hermes replay: {status}\n{log}");
    for ((replayed, live), recorded) in replayed.iter().zip(&live).zip(&recorded) {
        same(replayed, live);
        assert_eq!(live["seq"], recorded.seq);
        assert_eq!(live["topic"], recorded.topic.as_ref());
    }

    // Two topics, as fast as possible, to the proxy named.
    let topics = ["quotes/kraken", "fills"];
    let selected: Vec<_> = live
        .iter()
        .filter(|line| topics.iter().any(|topic| line["topic"] == *topic))
        .collect();
    let options = [
        "--max", "--proxy", "market", "--topics", topics[0], topics[1],
    ];
    let (replayed, mut process, log) = replay("selected", &options, selected.len());
    let status = process.wait(Duration::from_secs(120), "hermes replay --max");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(status.success(), "hermes replay --max: {status}\n{log}");
    assert!(
        log.contains(&format!("replayed {} envelopes", selected.len())),
        "{log}"
    );
    for (replayed, live) in replayed.iter().zip(&selected) {
        same(replayed, live);
    }

    // Orders over and over, until interrupted: every pass in order, each a new epoch.
    let orders: Vec<_> = live
        .iter()
        .filter(|line| line["topic"] == "orders")
        .collect();
    let options = ["--loop", "--speed", "20", "--topics", "orders"];
    let (replayed, mut process, log) = replay("loop", &options, 2 * orders.len() + 1);
    process.signal(Signal::SIGINT);
    let status = process.wait(Duration::from_secs(30), "hermes replay --loop");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(status.success(), "hermes replay --loop: {status}\n{log}");
    let passes: Vec<_> = replayed.chunks(orders.len()).collect();
    for pass in &passes {
        for (replayed, live) in pass.iter().zip(&orders) {
            same(replayed, live);
            assert_eq!(replayed["epoch"], pass[0]["epoch"], "{replayed}");
        }
    }
    assert_ne!(passes[0][0]["epoch"], passes[1][0]["epoch"]);
    assert_ne!(passes[1][0]["epoch"], passes[2][0]["epoch"]);
}

#[test]
fn a_killed_recorder_leaves_a_prefix_python_reads_and_a_timed_one_complete_split_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desk::proxy(dir.path());
    let file = dir.path().join("killed.mcap");
    let record_log = dir.path().join("record.log");
    let mut recorder = Running::spawn(
        hermes()
            .arg("record")
            .arg(&desk.topology)
            .arg("-o")
            .arg(&file),
        &record_log,
    );
    let tap_out = dir.path().join("tap.jsonl");
    let mut tap = tap(&desk.topology, &tap_out, &dir.path().join("tap.log"));
    desk.wait_for_listeners(2);
    desk.start_nodes();
    // Once a chunk is in the file, while the desk still runs: what the file held then must
    // survive the kill.
    let snapshot = dir.path().join("snapshot.mcap");
    let deadline = Instant::now() + Duration::from_secs(30);
    let flushed = loop {
        std::fs::copy(&file, &snapshot).unwrap();
        let count = hermes_runtime::recording::Recording::open(&snapshot)
            .map_or(0, |recording| recording.map_while(Result::ok).count());
        if count > 0 {
            break count;
        }
        assert!(Instant::now() < deadline, "no chunk written after 30 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    // Beside it, a recorder that stops by itself and starts a new file at every chunk. Its
    // duration counts from its own start, so it starts once the desk's traffic flows: the
    // desk's seven processes can take longer than the duration to start on a loaded machine.
    let split = dir.path().join("split.mcap");
    let split_log = dir.path().join("split.log");
    let mut split_recorder = Running::spawn(
        hermes()
            .arg("record")
            .arg(&desk.topology)
            .arg("-o")
            .arg(&split)
            .args(["--duration", "5", "--split-size", "1000"]),
        &split_log,
    );
    recorder.signal(Signal::SIGKILL);
    recorder.wait(Duration::from_secs(10), "the killed recorder");
    assert!(
        desk.running(),
        "the desk stopped before the recorder was killed"
    );
    let status = split_recorder.wait(Duration::from_secs(35), "hermes record --duration 5");
    let split_log = std::fs::read_to_string(&split_log).unwrap();
    assert!(
        status.success(),
        "hermes record --duration: {status}\n{split_log}"
    );
    assert!(
        desk.running(),
        "the desk stopped before `--duration` ended the recording"
    );
    desk.stop_nodes();
    wait_until_quiet(&tap_out, Duration::from_millis(500));
    tap.signal(Signal::SIGINT);
    tap.wait(Duration::from_secs(30), "hermes tap");
    desk.stop_proxy();

    let mut recording = hermes_runtime::recording::Recording::open(&file).unwrap();
    let mut count = 0;
    for item in recording.by_ref() {
        item.unwrap();
        count += 1;
    }
    assert!(recording.truncated());
    assert!(
        count >= flushed,
        "{count} envelopes, {flushed} before the kill"
    );
    // The Python reader gets the same envelopes, and they are the first that flowed: what
    // tap printed, in the same order, with nothing missing, nothing added.
    let read = read_with_python(&file, &["killed"]);
    assert_eq!(Some(count as u64), read["count"].as_u64(), "{read}");
    let live: Vec<serde_json::Value> = tapped(&tap_out)
        .iter()
        .map(|line| serde_json::json!([line["topic"], line["origin"], line["epoch"], line["seq"]]))
        .collect();
    assert!(
        live.len() > count,
        "the desk had stopped: {count} of {}",
        live.len()
    );
    let envelopes = read["envelopes"].as_array().unwrap();
    assert_eq!(envelopes[..], live[..count]);

    // The recording that ended by itself is complete files, each with its summary, which
    // together hold as many envelopes as the recorder said.
    let mut split_envelopes = Vec::new();
    let mut files = 0;
    for index in 1.. {
        let path = dir.path().join(format!("split-{index}.mcap"));
        if !path.exists() {
            break;
        }
        files += 1;
        let mut recording = hermes_runtime::recording::Recording::open(&path).unwrap();
        for item in recording.by_ref() {
            let envelope = item.unwrap().1;
            split_envelopes.push(serde_json::json!([
                envelope.topic.as_ref(),
                envelope.origin.as_ref(),
                envelope.epoch,
                envelope.seq
            ]));
        }
        assert!(!recording.truncated(), "{} is unfinished", path.display());
    }
    assert!(files >= 2, "{files} files:\n{split_log}");
    assert!(
        split_log.contains(&format!("recorded {} envelopes", split_envelopes.len())),
        "{} envelopes in {files} files:\n{split_log}",
        split_envelopes.len()
    );
    // It joined a flowing stream: from its first envelope on, it holds a run of what tap saw,
    // with nothing missing and nothing added.
    let first = live
        .iter()
        .position(|envelope| *envelope == split_envelopes[0])
        .expect("the split recording's first envelope was tapped");
    assert!(live.len() > first + split_envelopes.len());
    assert_eq!(
        split_envelopes[..],
        live[first..first + split_envelopes.len()]
    );
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

#[test]
fn replay_to_a_proxy_the_topology_lacks_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (topology, _, _) = desk_topology(dir.path());
    let file = dir.path().join("one.mcap");
    let writer = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    let mut recorder =
        hermes_runtime::recording::Recorder::new(writer, hermes_runtime::recording::NoSchemas)
            .unwrap();
    let envelope = hermes_runtime::RawEnvelope::new(
        "fills",
        "executor",
        hermes_runtime::Codec::Json,
        None,
        1,
        0,
        1,
        b"{}".to_vec(),
    );
    recorder.record(&envelope, 1).unwrap();
    recorder.finish().unwrap();
    let output = hermes()
        .arg("replay")
        .arg(&file)
        .arg(&topology)
        .args(["--proxy", "exchange"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: no proxy `exchange` in the topology"),
        "{stderr}"
    );
}
