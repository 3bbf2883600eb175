//! The generated topology runs in one process — proxy, feed, trader and audit as threads — on
//! inproc or ephemeral TCP endpoints, and typed messages arrive.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use hermes_example_hello::{Order, Quote, Side, handlers, hello};
use hermes_runtime::{Codec, Envelope, Message, Runtime};

/// Launches the topology on `wiring`, waits (bounded) for `count` orders at the audit, stops.
fn orders_through(wiring: &hello::Wiring, count: usize) -> (hello::Wiring, Vec<Envelope<Order>>) {
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
    let (_, orders) = orders_through(&hello::Wiring::inproc("inproc-test"), 5);
    assert_typed_orders(&orders);
}

#[test]
fn loopback_wiring_runs_on_ephemeral_ports_and_reports_them() {
    let (resolved, orders) = orders_through(&hello::Wiring::loopback(), 5);
    assert_typed_orders(&orders);
    assert!(resolved.market.frontend.starts_with("tcp://127.0.0.1:"));
    assert_ne!(resolved.market.frontend, "tcp://127.0.0.1:0");
    let orders_endpoint = resolved
        .trader_orders
        .connect
        .expect("resolved for the audit");
    assert_ne!(orders_endpoint, "tcp://127.0.0.1:0");
}

/// Reports its start and stop; publishes nothing and has no tick.
struct Quiet(mpsc::Sender<&'static str>);

impl hello::nodes::feed::Handler for Quiet {
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
    hello::nodes::feed::spawn(&mut runtime, &hello::Wiring::inproc("quiet"), Quiet(sender))
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
    let wiring = hello::Wiring::default();
    assert_eq!(wiring.market.frontend, "tcp://127.0.0.1:7100");
    assert_eq!(wiring.market.backend, "tcp://127.0.0.1:7101");
    assert_eq!(wiring.trader_orders.bind, "tcp://127.0.0.1:7110");
    assert_eq!(wiring.trader_orders.connect, None);
}

#[test]
fn endpoint_constants_are_the_yaml() {
    use hello::endpoints;
    assert_eq!(endpoints::market::FRONTEND, "tcp://127.0.0.1:7100");
    assert_eq!(endpoints::market::BACKEND, "tcp://127.0.0.1:7101");
    assert_eq!(endpoints::TRADER_ORDERS, "tcp://127.0.0.1:7110");
    let proxy = &hello::TOPOLOGY.proxies[0];
    assert_eq!(
        (proxy.frontend, proxy.backend),
        (endpoints::market::FRONTEND, endpoints::market::BACKEND)
    );
}

#[test]
fn the_topology_value_describes_every_port() {
    let trader = hello::TOPOLOGY.node("trader").expect("trader");
    assert_eq!(trader.subscribes[0].topic, "quotes");
    assert_eq!(trader.publishes[0].codec, Codec::Json);
    assert_eq!(trader.publishes[0].fingerprint, Order::FINGERPRINT);
    let audit = hello::TOPOLOGY.node("audit").expect("audit");
    assert_eq!(
        audit.subscribes[0].wiring,
        hermes_runtime::PortWiring::Connect("tcp://127.0.0.1:7110")
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
