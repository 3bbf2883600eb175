//! The generated topology runs in one process — proxy, feed, trader and audit as threads — on
//! inproc or ephemeral TCP endpoints, and typed messages arrive.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use hermes_example_hello::{Order, Quote, Side, handlers, hello};
use hermes_runtime::topology::{PortWiring, ProxySide, Wiring};
use hermes_runtime::{Codec, Envelope, Message, Runtime};

/// Launches the topology on `wiring`, waits (bounded) for `count` orders at the audit, stops.
fn orders_through(wiring: &Wiring, count: usize) -> (Wiring, Vec<Envelope<Order>>) {
    let (sender, orders) = mpsc::channel();
    let mut runtime = Runtime::new().expect("runtime");
    let resolved = hello::launch(&mut runtime, wiring, handlers(Some(sender))).expect("launches");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut received = Vec::new();
    while received.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        match orders.recv_timeout(left) {
            Ok(envelope) => received.push(envelope),
            Err(error) => panic!("{} of {count} orders after 10 s: {error}", received.len()),
        }
    }
    runtime.stop();
    runtime
        .wait_timeout(Duration::from_secs(5))
        .expect("every node stops cleanly");
    (resolved, received)
}

fn assert_typed_orders(orders: &[Envelope<Order>]) {
    let mut last_seq = None;
    for envelope in orders {
        assert_eq!(envelope.topic, hello::topics::ORDERS);
        assert_eq!(envelope.origin, hello::nodes::trader::NAME);
        let order: &Order = &envelope.message;
        assert_eq!(order.symbol, "BTC-EUR");
        assert!(matches!(order.side(), Side::Bid | Side::Ask));
        assert_eq!(order.tags.get("from").map(String::as_str), Some("feed"));
        assert!(last_seq < Some(order.quote_seq), "quotes arrive in order");
        last_seq = Some(order.quote_seq);
    }
}

#[test]
fn inproc_wiring_delivers_typed_orders() {
    let (_, orders) = orders_through(&hello::TOPOLOGY.inproc_wiring("inproc-test"), 5);
    assert_typed_orders(&orders);
}

#[test]
fn loopback_wiring_runs_on_ephemeral_ports_and_reports_them() {
    let (resolved, orders) = orders_through(&hello::TOPOLOGY.loopback_wiring(), 5);
    assert_typed_orders(&orders);
    let market = resolved.proxy("market").expect("market");
    assert!(market.frontend.starts_with("tcp://127.0.0.1:"));
    assert_ne!(market.frontend, "tcp://127.0.0.1:0");
    let orders_endpoint = resolved
        .channel("trader_orders")
        .and_then(|channel| channel.connect.clone())
        .expect("resolved for the audit");
    assert_ne!(orders_endpoint, "tcp://127.0.0.1:0");
}

/// Reports its start and stop; publishes nothing and has no tick.
struct Quiet(mpsc::Sender<&'static str>);

impl hello::nodes::feed::Handler for Quiet {}

impl hermes_runtime::Hooks<hello::nodes::feed::Outputs> for Quiet {
    fn on_start(&mut self, _: &mut hello::nodes::feed::Outputs) -> hermes_runtime::HandlerResult {
        let _ = self.0.send("start");
        Ok(())
    }

    fn on_stop(&mut self, _: &mut hello::nodes::feed::Outputs) -> hermes_runtime::HandlerResult {
        let _ = self.0.send("stop");
        Ok(())
    }
}

#[test]
fn a_node_without_subscriptions_or_tick_runs_until_stopped() {
    let (sender, events) = mpsc::channel();
    let mut runtime = Runtime::new().expect("runtime");
    hello::nodes::feed::spawn(
        &mut runtime,
        &hello::TOPOLOGY.inproc_wiring("quiet"),
        Quiet(sender),
    )
    .expect("spawns");
    assert_eq!(events.recv_timeout(Duration::from_secs(5)), Ok("start"));
    assert!(
        events.recv_timeout(Duration::from_millis(300)).is_err(),
        "the node stopped on its own"
    );
    runtime.stop();
    runtime
        .wait_timeout(Duration::from_secs(5))
        .expect("stops cleanly");
    assert_eq!(events.try_recv(), Ok("stop"));
}

#[test]
fn default_wiring_is_the_yaml() {
    let wiring = hello::TOPOLOGY.wiring();
    let market = wiring.proxy("market").expect("market");
    assert_eq!(market.frontend, "tcp://127.0.0.1:7100");
    assert_eq!(market.backend, "tcp://127.0.0.1:7101");
    let orders = wiring.channel("trader_orders").expect("trader_orders");
    assert_eq!(orders.bind, "tcp://127.0.0.1:7110");
    assert_eq!(orders.connect, None);
}

#[test]
fn the_topology_value_describes_every_port() {
    let trader = hello::TOPOLOGY.node("trader").expect("trader");
    assert_eq!(trader.subscribes[0].topic, "quotes");
    assert_eq!(
        trader.subscribes[0].wiring,
        PortWiring::Proxy("market", ProxySide::Backend)
    );
    assert_eq!(trader.publishes[0].codec, Codec::Json);
    assert_eq!(trader.publishes[0].fingerprint, Order::FINGERPRINT);
    let audit = hello::TOPOLOGY.node("audit").expect("audit");
    assert_eq!(
        audit.subscribes[0].wiring,
        PortWiring::Connect("trader_orders", "tcp://127.0.0.1:7110")
    );
    assert_eq!(
        hello::TOPOLOGY
            .message_by_fingerprint(Quote::FINGERPRINT)
            .map(|m| m.name),
        Some("hello.Quote")
    );
}

#[test]
fn fingerprints_are_computable_from_the_yaml() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/topology.yaml");
    let loaded = hermes_build::load(path).expect("loads");
    for (name, fingerprint) in [("Quote", Quote::FINGERPRINT), ("Order", Order::FINGERPRINT)] {
        let canonical = hermes_build::canonical_form(&loaded, name).expect("declared");
        assert_eq!(
            hermes_runtime::fingerprint(&canonical),
            fingerprint,
            "{canonical}"
        );
    }
}

#[test]
fn json_writes_enum_names_and_reads_names_or_numbers() {
    let order = Order {
        symbol: "ETH-EUR".into(),
        side: Side::Ask.into(),
        ..Order::default()
    };
    let mut json = Vec::new();
    order.encode(Codec::Json, &mut json).expect("encodes");
    let text = String::from_utf8(json).expect("utf-8");
    assert!(text.contains(r#""side":"ask""#), "{text}");
    let by_number = text.replace(r#""side":"ask""#, r#""side":1"#);
    assert_eq!(
        Order::decode(Codec::Json, by_number.as_bytes()).expect("decodes"),
        order
    );
    assert_eq!(
        Order::decode(Codec::Json, b"{}").expect("fields default"),
        Order::default()
    );
}

#[test]
fn protobuf_uses_the_schema_field_numbers() {
    let quote = Quote {
        seq: 1,
        ..Quote::default()
    };
    let mut bytes = Vec::new();
    quote.encode(Codec::Protobuf, &mut bytes).expect("encodes");
    assert_eq!(bytes, [4 << 3, 1], "`seq` is field 4, a varint");
}

#[test]
fn wrong_types_and_undeclared_ports_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

/// Runs a binary of this package with `args`, killing it if it is still running after 10 s.
fn run_bounded(binary: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = std::process::Command::new(binary)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`{binary} {}` still running after 10 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("output");
    (
        status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_generated_main_answers_help_without_starting() {
    let (code, stdout, _) = run_bounded(env!("CARGO_BIN_EXE_feed"), &["--help"]);
    assert_eq!(code, Some(0));
    for option in [
        "--market-frontend",
        "--market-backend",
        "--trader-orders",
        "--duration",
        "--log-level",
    ] {
        assert!(
            stdout.contains(option),
            "`{option}` missing from:\n{stdout}"
        );
    }
    let (code, _, stderr) = run_bounded(env!("CARGO_BIN_EXE_hello"), &["--no-such-option"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--no-such-option"), "{stderr}");
}

#[test]
fn a_generated_main_takes_endpoints_from_flags_and_environment_and_stops_after_its_duration() {
    // The YAML's frontend is taken, so only the overrides can make this run.
    let _taken = std::net::TcpListener::bind("127.0.0.1:7100");
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint = |name: &str| format!("ipc://{}", dir.path().join(name).display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hello"));
    child
        .args([
            "--frontend",
            &endpoint("in"),
            "--trader-orders",
            &endpoint("orders"),
        ])
        .args(["--duration", "1"])
        .env("HERMES_MARKET_BACKEND", endpoint("out"));
    let output = assert_cmd::Command::from_std(child)
        .timeout(Duration::from_secs(20))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("order #"),
        "no order reached the audit:\n{stdout}\n{stderr}"
    );
}

#[test]
fn secured_loopback_wiring_delivers_typed_orders_over_curve_through_proxy_and_channel() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = hermes_runtime::KeyStore::new(dir.path());
    hello::TOPOLOGY.generate_keys(&store).expect("keys");
    let mut wiring = hello::TOPOLOGY.loopback_wiring();
    wiring.secure(&hello::TOPOLOGY, dir.path());
    assert!(wiring.security().is_some());
    let (_, orders) = orders_through(&wiring, 5);
    assert_typed_orders(&orders);
}
