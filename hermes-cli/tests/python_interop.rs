//! Live interop with hermes-zmq 1.3, the Python original, through the `hermes proxy` binary.
//!
//! Every test starts `hermes proxy` as a child process on ports it picks itself (it prints the
//! endpoints it bound), a Python hermes-zmq node as another, and the Rust side in the test.
//!
//! The Python side runs in a virtual environment under cargo's target directory, made on first
//! use with hermes-zmq 1.3.0 and pyzmq from PyPI and reused by later runs. Without python3, its
//! `venv` module or PyPI the tests fail and say why: they are never skipped silently.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hermes_runtime::{Codec, Context, Envelope, Error, Message, Publisher, Receiver};

/// The same bounded, locked venv install as hermes-build's buf oracle.
#[path = "../../hermes-build/tests/support/venv.rs"]
mod venv;
use serde_json::{Value, json};

// The generated code of the `desk` fixture (`pub mod desk`), kept current by
// `tests/generate.rs`: typed Rust nodes, as a crate's `include_topology!` would give them.
include!("generated/desk.rs");
use desk::{Level, Order, Side};

const HERMES_ZMQ: &str = "hermes-zmq==1.3.0";
const PYZMQ: &str = "pyzmq==27.3.0";

/// The bound on every wait once the processes run.
const DEADLINE: Duration = Duration::from_secs(10);

/// The venv's python, made once per test process and shared by test processes through a lock.
fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    // A failure is kept too, so the second test reports it at once instead of installing again.
    match PYTHON.get_or_init(make_venv) {
        Ok(python) => python,
        Err(why) => panic!(
            "cannot make the Python hermes-zmq environment: {why}\n\
             help: the interop tests need python3 with its `venv` module and access to PyPI"
        ),
    }
}

fn make_venv() -> Result<PathBuf, String> {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let venv = venv::venv(
        &tmp,
        "hermes-zmq-1.3.0-venv",
        &[HERMES_ZMQ, PYZMQ],
        |venv| {
            let mut import = Command::new(venv.join("bin").join("python"));
            import.args(["-c", "import hermes, zmq"]);
            import
        },
    )?;
    Ok(venv.join("bin").join("python"))
}

/// A child process whose stdout lines arrive on a channel; killed when dropped, however the
/// test ends.
struct ChildProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl ChildProcess {
    fn start(command: &mut Command) -> ChildProcess {
        let shown = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {shown}: {err}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        ChildProcess { child, lines }
    }

    fn next_line(&self, deadline: Instant, what: &str) -> String {
        let left = deadline.saturating_duration_since(Instant::now());
        self.lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {what} in time"))
    }

    fn say(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("piped stdin");
        writeln!(stdin, "{line}").expect("write to the child");
        stdin.flush().expect("write to the child");
    }

    fn assert_running(&mut self, what: &str) {
        let status = self.child.try_wait().expect("wait");
        assert!(status.is_none(), "{what} exited: {status:?}");
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `hermes proxy` on free loopback ports, with the endpoints it bound.
struct HermesProxy {
    process: ChildProcess,
    frontend: String,
    backend: String,
}

fn start_hermes_proxy() -> HermesProxy {
    let process = ChildProcess::start(Command::new(env!("CARGO_BIN_EXE_hermes")).args([
        "proxy",
        "--frontend",
        "tcp://127.0.0.1:0",
        "--backend",
        "tcp://127.0.0.1:0",
        "--no-capture",
    ]));
    let deadline = Instant::now() + DEADLINE;
    let endpoint = |side: &str| {
        let line = process.next_line(deadline, &format!("`{side}` line from hermes proxy"));
        let (name, endpoint) = line.split_once(' ').expect("`side endpoint`");
        assert_eq!(name, side, "{line}");
        endpoint.to_owned()
    };
    let frontend = endpoint("frontend");
    let backend = endpoint("backend");
    HermesProxy {
        process,
        frontend,
        backend,
    }
}

/// The Python side, `interop.py MODE ENDPOINT COUNT`; every stdout line is a JSON object.
struct PythonNode(ChildProcess);

impl PythonNode {
    fn start(mode: &str, endpoint: &str, count: usize) -> PythonNode {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/interop.py");
        PythonNode(ChildProcess::start(
            Command::new(python())
                .arg(script)
                .args([mode, endpoint, &count.to_string()]),
        ))
    }

    /// `interop.py` with `arguments`.
    fn start_with(arguments: &[&str]) -> PythonNode {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/interop.py");
        PythonNode(ChildProcess::start(
            Command::new(python()).arg(script).args(arguments),
        ))
    }

    fn next(&self, deadline: Instant) -> Value {
        let line = self.0.next_line(deadline, "line from the python node");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON from python: {line}"))
    }

    fn try_next(&self, timeout: Duration) -> Option<Value> {
        let line = self.0.lines.recv_timeout(timeout).ok()?;
        Some(serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}")))
    }
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

#[test]
fn a_python_publisher_reaches_a_rust_receiver_through_hermes_proxy() {
    python(); // install first, so the deadlines below measure only the exchange
    let mut proxy = start_hermes_proxy();
    let context = Context::new();
    let mut receiver = Receiver::<Value>::builder(&context)
        .topics(["quotes", "warmup"])
        .codec(Codec::PythonJson)
        .connect(&proxy.backend)
        .unwrap();
    let count = 50;
    let started = now_seconds();
    let mut python = PythonNode::start("publish", &proxy.frontend, count);

    let deadline = Instant::now() + DEADLINE;
    loop {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(envelope) if envelope.topic == "warmup" => break,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "no warmup from python"),
            Err(err) => panic!("{err}"),
        }
    }
    python.0.say("go");
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
    python.0.say("stop");
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
        python.next(Instant::now() + DEADLINE),
        json!({"done": count})
    );
    assert_eq!(receiver.stats().decode_errors, 0);
    proxy.process.assert_running("hermes proxy");
}

#[test]
fn a_rust_publisher_reaches_a_python_receiver_through_hermes_proxy() {
    python();
    let mut proxy = start_hermes_proxy();
    let context = Context::new();
    let mut publisher = Publisher::<Value>::builder(&context)
        .origin("kraken")
        .codec(Codec::PythonJson)
        .connect(&proxy.frontend)
        .unwrap();
    let count = 20;
    let python = PythonNode::start("receive", &proxy.backend, count);

    // Warm up until the Python receiver's subscription has come through the proxy.
    let deadline = Instant::now() + DEADLINE;
    loop {
        publisher
            .send_to("quotes/warmup", &json!(["warmup"]))
            .unwrap();
        match python.try_next(Duration::from_millis(20)) {
            Some(line) if line == json!({"subscribed": true}) => break,
            Some(line) => panic!("unexpected {line}"),
            None => assert!(Instant::now() < deadline, "python never subscribed"),
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
        let line = python.next(deadline);
        assert_eq!(line["topic"], "quotes/kraken", "{line}");
        assert_eq!(line["origin"], "kraken", "{line}");
        assert_eq!(line["data"], json!(["Quote", n, 99.5]), "{line}");
        let ts = line["ts"].as_f64().unwrap();
        assert!(
            (started - 1.0..=now_seconds() + 1.0).contains(&ts),
            "{line}"
        );
    }
    assert_eq!(python.next(deadline), json!({"done": count}));
    proxy.process.assert_running("hermes proxy");
}

const DESK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../hermes-build/tests/fixtures/valid/desk/topology.yaml"
);

/// The `desk` module as `hermes gen --python` writes it, in a directory of its own.
fn python_module() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut generate = ChildProcess::start(
        Command::new(env!("CARGO_BIN_EXE_hermes"))
            .args(["gen", DESK, "--python"])
            .arg(dir.path()),
    );
    let line = generate.next_line(Instant::now() + DEADLINE, "output of hermes gen --python");
    assert!(line.starts_with("wrote "), "{line}");
    let deadline = Instant::now() + DEADLINE;
    while generate.child.try_wait().expect("wait").is_none() {
        assert!(
            Instant::now() < deadline,
            "hermes gen --python did not finish"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    dir
}

/// The `n`th order `interop.py` makes with the generated classes.
fn generated_order(n: u32) -> Order {
    Order {
        symbol: format!("BTC-{n}"),
        side: Side::Sell as i32,
        best: Some(Level {
            price: 101.5 + f64::from(n),
            size: n,
        }),
        levels: vec![
            Level {
                price: 1.5,
                size: 1,
            },
            Level {
                price: 2.5,
                size: 2,
            },
        ],
        limits: [("max".to_owned(), 1e-7), ("min".to_owned(), 0.5)].into(),
        note: (n % 2 == 1).then(|| "\u{e9}\u{20ac} note".to_owned()),
        raw: vec![0, 255, (n % 256) as u8].into(),
    }
}

/// Receives until the Python publisher's warm-up (a topic ending in `/warmup`) arrives, says
/// `go`, then receives `count` envelopes, skipping later warm-ups; says `stop`.
fn receive_from_python<M: Message + std::fmt::Debug>(
    receiver: &mut Receiver<M>,
    python: &mut PythonNode,
    count: usize,
) -> Vec<Envelope<M>> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(envelope) if envelope.topic.ends_with("/warmup") => break,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(Error::Timeout) => assert!(Instant::now() < deadline, "no warmup from python"),
            Err(err) => panic!("{err}"),
        }
    }
    python.0.say("go");
    let mut received = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while received.len() < count {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(envelope) if envelope.topic.ends_with("/warmup") => {}
            Ok(envelope) => received.push(envelope),
            Err(Error::Timeout) => {
                assert!(
                    Instant::now() < deadline,
                    "got {} of {count} (decode errors: {})",
                    received.len(),
                    receiver.stats().decode_errors
                )
            }
            Err(err) => panic!("{err}"),
        }
    }
    python.0.say("stop");
    assert_eq!(
        python.next(Instant::now() + DEADLINE),
        json!({"done": count})
    );
    received
}

#[test]
fn the_generated_python_module_imports_next_to_hermes_zmq() {
    python();
    let module = python_module();
    let dir = module.path().to_str().expect("UTF-8 path");
    let python = PythonNode::start_with(&["import", dir]);
    let line = python.next(Instant::now() + DEADLINE);
    assert_eq!(line["message"], true, "{line}");
    assert_eq!(
        line["slots"],
        json!(["symbol", "side", "best", "levels", "limits", "note", "raw"])
    );
    assert_eq!(
        line["all_slots"],
        json!([
            "dtype", "ts", "symbol", "side", "best", "levels", "limits", "note", "raw"
        ]),
        "hermes.Message's own slots come first, as it serializes them"
    );
    assert_eq!(line["enum"], json!(["buy", "sell"]));
    let serialized = &line["serialized"];
    assert_eq!(serialized[0], "Order");
    assert!(serialized[1].is_f64(), "{serialized}");
    assert_eq!(
        serialized.as_array().unwrap()[2..],
        json!(["BTC-1", "sell", [102.5, 1], [[1.5, 1], [2.5, 2]], {"max": 1e-7, "min": 0.5}, "\u{e9}\u{20ac} note", [0, 255, 1]])
            .as_array()
            .unwrap()[..]
    );
    assert_eq!(line["subscribe"], "\"orders");
}

#[test]
fn python_nodes_using_the_generated_classes_reach_a_typed_rust_receiver() {
    python();
    let module = python_module();
    let mut proxy = start_hermes_proxy();
    let context = Context::new();
    let receiver = Receiver::<Order>::builder(&context).build().unwrap();
    assert_eq!(receiver.codec(), Codec::Protobuf, "the type's default");
    drop(receiver);
    let mut receiver = Receiver::<Order>::builder(&context)
        .topic("orders")
        .codec(Codec::PythonJson)
        .connect(&proxy.backend)
        .unwrap();
    let count = 20;
    let dir = module.path().to_str().expect("UTF-8 path");
    let mut python = PythonNode::start_with(&[
        "publish-generated",
        &proxy.frontend,
        &count.to_string(),
        dir,
    ]);
    let orders = receive_from_python(&mut receiver, &mut python, count);
    for (n, envelope) in (0..).zip(&orders) {
        assert_eq!(envelope.topic, "orders/trader");
        assert_eq!(envelope.origin, "trader");
        assert_eq!(envelope.message, generated_order(n));
    }
    assert_eq!(receiver.stats().decode_errors, 0);
    proxy.process.assert_running("hermes proxy");
}

#[test]
fn python_nodes_sending_plain_lists_and_dicts_reach_a_typed_rust_receiver() {
    python();
    let mut proxy = start_hermes_proxy();
    let context = Context::new();
    let mut receiver = Receiver::<Order>::builder(&context)
        .topic("orders")
        .codec(Codec::PythonJson)
        .connect(&proxy.backend)
        .unwrap();
    let count = 9;
    let mut python = PythonNode::start("publish-plain", &proxy.frontend, count);
    let orders = receive_from_python(&mut receiver, &mut python, count);
    for (n, envelope) in (0..).zip(&orders) {
        let level = Level {
            price: 3.5,
            size: n,
        };
        let expected = Order {
            symbol: "ETH".into(),
            side: Side::Buy as i32,
            best: Some(level.clone()),
            levels: vec![level],
            limits: [("max".to_owned(), 2.0)].into(),
            note: None,
            raw: vec![1, 2].into(),
        };
        assert_eq!(envelope.message, expected, "order {n}");
    }
    assert_eq!(receiver.stats().decode_errors, 0);
    proxy.process.assert_running("hermes proxy");
}

#[test]
fn a_typed_rust_publisher_reaches_a_python_receiver_with_the_fields_in_order() {
    python();
    let module = python_module();
    let mut proxy = start_hermes_proxy();
    let context = Context::new();
    let mut publisher = Publisher::<Order>::builder(&context)
        .origin("risk")
        .topic("fills/risk")
        .codec(Codec::PythonJson)
        .connect(&proxy.frontend)
        .unwrap();
    let count = 10;
    let dir = module.path().to_str().expect("UTF-8 path");
    let python =
        PythonNode::start_with(&["receive-generated", &proxy.backend, &count.to_string(), dir]);
    let deadline = Instant::now() + DEADLINE;
    loop {
        publisher
            .send_to("fills/risk/warmup", &generated_order(0))
            .unwrap();
        match python.try_next(Duration::from_millis(20)) {
            Some(line) if line == json!({"subscribed": true}) => break,
            Some(line) => panic!("unexpected {line}"),
            None => assert!(Instant::now() < deadline, "python never subscribed"),
        }
    }
    for n in 0..count {
        publisher.send(&generated_order(n)).unwrap();
    }
    let deadline = Instant::now() + DEADLINE;
    for n in 0..count {
        let line = python.next(deadline);
        assert_eq!(line["topic"], "fills/risk", "{line}");
        assert_eq!(line["origin"], "risk", "{line}");
        // What a plain `hermes.Receiver` hands its node: `[dtype, ts, fields…]`.
        let data = line["data"].as_array().expect("an array");
        assert_eq!(data[0], "Order", "{line}");
        assert!(data[1].is_f64(), "{line}");
        let note = if n % 2 == 1 {
            json!("\u{e9}\u{20ac} note")
        } else {
            Value::Null
        };
        let fields = json!([
            format!("BTC-{n}"),
            "sell",
            [101.5 + f64::from(n), n],
            [[1.5, 1], [2.5, 2]],
            {"max": 1e-7, "min": 0.5},
            note,
            [0, 255, n]
        ]);
        assert_eq!(data[2..], fields.as_array().unwrap()[..], "{line}");
        // And what the generated class reads from it, by YAML name and with its types.
        assert_eq!(
            line["decoded"],
            json!({
                "symbol": format!("BTC-{n}"),
                "side": "sell",
                "best": {"price": 101.5 + f64::from(n), "size": n},
                "levels": [{"price": 1.5, "size": 1}, {"price": 2.5, "size": 2}],
                "limits": {"max": 1e-7, "min": 0.5},
                "note": note,
                "raw": [0, 255, n],
            }),
            "{line}"
        );
        assert_eq!(
            (
                &line["side_is_enum"],
                &line["best_is_level"],
                &line["raw_is_bytes"]
            ),
            (&json!(true), &json!(true), &json!(true)),
            "{line}"
        );
    }
    assert_eq!(python.next(deadline), json!({"done": count}));
    proxy.process.assert_running("hermes proxy");
}

#[test]
fn hermes_tap_shows_a_python_nodes_messages_with_the_yaml_field_names() {
    python();
    let module = python_module();
    let mut proxy = start_hermes_proxy();
    let tap = ChildProcess::start(Command::new(env!("CARGO_BIN_EXE_hermes")).args([
        "tap",
        DESK,
        "orders",
        "--endpoint",
        &proxy.backend,
        "--count",
        "1",
        "--timeout",
        "20",
        "--format",
        "json",
    ]));
    let dir = module.path().to_str().expect("UTF-8 path");
    // The publisher warms up (on `orders/trader/warmup`) until told `go`, which never comes:
    // tap prints the first warm-up that reaches it and exits.
    let _python = PythonNode::start_with(&["publish-generated", &proxy.frontend, "1", dir]);
    let line = tap.next_line(
        Instant::now() + Duration::from_secs(25),
        "a line from hermes tap",
    );
    let line: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
    assert_eq!(line["topic"], "orders/trader/warmup", "{line}");
    assert_eq!(line["origin"], "trader", "{line}");
    assert_eq!(line["codec"], "python-json", "{line}");
    assert_eq!(line["message"], "Order", "{line}");
    assert_eq!(
        line["payload"],
        json!({
            "symbol": "BTC-0",
            "side": "sell",
            "best": {"price": 101.5, "size": 0},
            "levels": [{"price": 1.5, "size": 1}, {"price": 2.5, "size": 2}],
            "limits": {"max": 1e-7, "min": 0.5},
            "note": null,
            "raw": [0, 255, 0],
        }),
        "{line}"
    );
    proxy.process.assert_running("hermes proxy");
}
