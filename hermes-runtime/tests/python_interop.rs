//! Live interop with hermes-zmq 1.3, the Python original, through a Hermes proxy.
//!
//! The test makes a virtual environment under cargo's target directory on first use and
//! pip-installs hermes-zmq 1.3.0 and pyzmq from PyPI into it; later runs reuse it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::DEADLINE;
use hermes_runtime::{Codec, Context, Error, Proxy, ProxyConfig, Publisher, Receiver};
use serde_json::{Value, json};

const HERMES_ZMQ: &str = "hermes-zmq==1.3.0";
const PYZMQ: &str = "pyzmq==27.3.0";

/// The venv's python, made once per test process.
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hermes-zmq-1.3.0-venv");
        let python = venv.join("bin").join("python");
        let installed = Command::new(&python)
            .args(["-c", "import hermes, zmq"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !installed {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3");
            assert!(made.success(), "python3 -m venv failed");
            let pip = Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    HERMES_ZMQ,
                    PYZMQ,
                ])
                .status()
                .expect("pip");
            assert!(pip.success(), "pip install {HERMES_ZMQ} {PYZMQ} failed");
        }
        python
    })
}

/// A Python child process, killed when the test ends however it ends.
struct PythonNode {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl PythonNode {
    fn start(args: &[&str]) -> PythonNode {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/interop.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python");
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        PythonNode { child, lines }
    }

    fn next_line(&self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.lines
            .recv_timeout(left)
            .expect("the python node said nothing in time")
    }

    fn say(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for PythonNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn a_python_publisher_reaches_a_rust_receiver_through_the_proxy() {
    let context = Context::new();
    let proxy = Proxy::spawn(
        &context,
        ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
    )
    .unwrap();
    let mut receiver = Receiver::<Value>::builder(&context)
        .topics(["quotes", "warmup"])
        .codec(Codec::PythonJson)
        .connect(proxy.backend())
        .unwrap();
    let count = 50;
    let started = now_seconds();
    let mut python = PythonNode::start(&["publish", proxy.frontend(), &count.to_string()]);

    let deadline = Instant::now() + DEADLINE * 3; // the first run installs the venv
    loop {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(envelope) if envelope.topic == "warmup" => break,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "no warmup from python"),
            Err(err) => panic!("{err}"),
        }
    }
    python.say("go");
    let mut quotes = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while quotes.len() < count {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(envelope) if envelope.topic == "warmup" => {}
            Ok(envelope) => quotes.push(envelope),
            Err(Error::Timeout) => {
                assert!(Instant::now() < deadline, "got {} of {count}", quotes.len())
            }
            Err(err) => panic!("{err}"),
        }
    }
    let finished = now_seconds();
    for (n, envelope) in quotes.iter().enumerate() {
        assert_eq!(envelope.topic, "quotes/bitstamp");
        assert_eq!(envelope.origin, "bitstamp");
        assert_eq!(envelope.message, json!(["Quote", n, 101.5 + n as f64]));
        let ts = envelope.timestamp_ns as f64 / 1e9;
        assert!(
            started - 1.0 <= ts && ts <= finished + 1.0,
            "ts {ts} outside {started}..{finished}"
        );
    }
    assert_eq!(
        python.next_line(Instant::now() + DEADLINE),
        json!({"done": count})
    );
    assert_eq!(receiver.stats().decode_errors, 0);
}

#[test]
fn a_rust_publisher_reaches_a_python_receiver_through_the_proxy() {
    let context = Context::new();
    let proxy = Proxy::spawn(
        &context,
        ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
    )
    .unwrap();
    let mut publisher = Publisher::<Value>::builder(&context)
        .origin("kraken")
        .codec(Codec::PythonJson)
        .connect(proxy.frontend())
        .unwrap();
    let count = 20;
    let python = PythonNode::start(&["receive", proxy.backend(), &count.to_string()]);

    // Warm up until the Python receiver's subscription has come through the proxy.
    let deadline = Instant::now() + DEADLINE * 3;
    loop {
        publisher
            .send_to("quotes/warmup", &json!(["warmup"]))
            .unwrap();
        match python.lines.recv_timeout(Duration::from_millis(20)) {
            Ok(line) if line == json!({"subscribed": true}) => break,
            Ok(line) => panic!("unexpected {line}"),
            Err(_) => assert!(Instant::now() < deadline, "python never subscribed"),
        }
    }
    let started = now_seconds();
    for n in 0..count {
        publisher
            .send_to("quotes/kraken", &json!(["Quote", n, 99.5]))
            .unwrap();
    }
    let deadline = Instant::now() + DEADLINE;
    for n in 0..count {
        let line = python.next_line(deadline);
        assert_eq!(line["topic"], "quotes/kraken", "{line}");
        assert_eq!(line["origin"], "kraken", "{line}");
        assert_eq!(line["data"], json!(["Quote", n, 99.5]), "{line}");
        let ts = line["ts"].as_f64().unwrap();
        assert!(
            (started - 1.0..=now_seconds() + 1.0).contains(&ts),
            "{line}"
        );
    }
    assert_eq!(python.next_line(deadline), json!({"done": count}));
}
