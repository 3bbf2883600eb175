//! Security over real sockets: CURVE, the ZAP authenticator, and the topic and subscription
//! checks of a secured proxy and of bound ports. Every wait is bounded by `DEADLINE`.

use std::time::{Duration, Instant};

use hermes_runtime::{
    Access, Context, Curve, KeyPair, Peer, Proxy, ProxyConfig, ProxySecurity, Publisher, Receiver,
    SecurityReport,
};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(10);
const TCP: &str = "tcp://127.0.0.1:0";

fn keys() -> KeyPair {
    KeyPair::generate().unwrap()
}

fn client(keys: &KeyPair, server: &KeyPair) -> Curve {
    Curve::Client {
        keys: keys.clone(),
        server: server.public(),
    }
}

/// Sends `send` (then `n += 1`) until `done` says the receivers have what they need.
fn pump(mut send: impl FnMut(u64), mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    let mut n = 0;
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        send(n);
        n += 1;
    }
}

/// Drains what `receiver` has now (waiting at most a few ms), returning the topics but the
/// proxy's own security reports.
fn topics(receiver: &mut Receiver<Value>) -> Vec<String> {
    let mut topics = Vec::new();
    while let Ok(envelope) = receiver.recv_timeout(Duration::from_millis(5)) {
        if !SecurityReport::is_report_topic(&envelope.topic) {
            topics.push(envelope.topic.to_string());
        }
    }
    topics
}

fn wait_for(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::yield_now();
    }
}

struct Cluster {
    context: Context,
    proxy_keys: KeyPair,
    publisher: KeyPair,
    subscriber: KeyPair,
    listener: KeyPair,
    operator: KeyPair,
    source: KeyPair,
    proxy: Proxy,
}

/// A secured proxy: `publisher` publishes `ticks` and `source` publishes `secret`;
/// `subscriber` subscribes to `ticks`, `listener` to `secret`, `operator` to anything.
fn cluster() -> Cluster {
    let (proxy_keys, publisher, subscriber, listener, operator) =
        (keys(), keys(), keys(), keys(), keys());
    let source = keys();
    let security = ProxySecurity::new(proxy_keys.clone())
        .frontend(Access::new([
            Peer::new("ticker", publisher.public()).publishes(["ticks"]),
            Peer::new("source", source.public()).publishes(["secret"]),
        ]))
        .backend(Access::new([
            Peer::new("watcher", subscriber.public()).subscribes(["ticks"]),
            Peer::new("listener", listener.public()).subscribes(["secret"]),
            Peer::operator("ops", operator.public()),
        ]));
    let context = Context::new();
    let proxy = Proxy::spawn(&context, ProxyConfig::new(TCP, TCP).with_security(security)).unwrap();
    Cluster {
        context,
        proxy_keys,
        publisher,
        subscriber,
        listener,
        operator,
        source,
        proxy,
    }
}

impl Cluster {
    fn publisher(&self, keys: &KeyPair) -> Publisher<Value> {
        Publisher::builder(&self.context)
            .topic("ticks")
            .curve(client(keys, &self.proxy_keys))
            .connect(self.proxy.frontend())
            .unwrap()
    }

    fn receiver(&self, keys: &KeyPair, topics: &[&str]) -> Receiver<Value> {
        Receiver::builder(&self.context)
            .topics(topics.iter().copied())
            .curve(client(keys, &self.proxy_keys))
            .connect(self.proxy.backend())
            .unwrap()
    }
}

#[test]
fn curve_is_present() {
    assert!(zmq::has("curve").unwrap_or(false));
}

#[test]
fn declared_nodes_exchange_through_a_secured_proxy_and_an_operator_sees_everything() {
    let cluster = cluster();
    let mut publisher = cluster.publisher(&cluster.publisher);
    let mut subscriber = cluster.receiver(&cluster.subscriber, &["ticks"]);
    let mut operator = cluster.receiver(&cluster.operator, &[""]);
    let (mut seen, mut operated) = (false, false);
    pump(
        |n| publisher.send(&json!(n)).unwrap(),
        || {
            seen |= subscriber.try_recv().is_ok();
            operated |= operator
                .try_recv()
                .is_ok_and(|envelope| !SecurityReport::is_report_topic(&envelope.topic));
            seen && operated
        },
    );
    assert_eq!(cluster.proxy.security_stats(), Default::default());
}

/// Three intruders: an unknown key, no CURVE at all, and a known key aimed at the wrong server
/// key. None of them delivers or receives anything, and each is counted as refused.
///
/// The unknown key reaches the ZAP handler, which refuses and counts it. The other two fail
/// the CURVE handshake before ZAP is asked (a NULL client does not speak CURVE; a HELLO boxed
/// for another server key cannot be opened); the proxy's socket monitors count those.
#[test]
fn unknown_keys_plain_clients_and_wrong_server_keys_get_and_deliver_nothing() {
    let cluster = cluster();
    let stranger = keys();
    let wrong_server = keys();
    let mut rogues = vec![
        cluster.publisher(&stranger),
        Publisher::builder(&cluster.context)
            .topic("ticks")
            .connect(cluster.proxy.frontend())
            .unwrap(),
        Publisher::builder(&cluster.context)
            .topic("ticks")
            .curve(client(&cluster.publisher, &wrong_server))
            .connect(cluster.proxy.frontend())
            .unwrap(),
    ];
    let mut rogue_receivers = vec![
        cluster.receiver(&stranger, &[""]),
        Receiver::builder(&cluster.context)
            .topic("")
            .connect(cluster.proxy.backend())
            .unwrap(),
        Receiver::builder(&cluster.context)
            .topic("")
            .curve(client(&cluster.operator, &wrong_server))
            .connect(cluster.proxy.backend())
            .unwrap(),
    ];
    let mut publisher = cluster.publisher(&cluster.publisher);
    let mut operator = cluster.receiver(&cluster.operator, &[""]);
    let mut good = 0;
    pump(
        |n| {
            for rogue in &mut rogues {
                rogue.send(&json!("rogue")).unwrap();
            }
            publisher.send(&json!(n)).unwrap();
        },
        || {
            while let Ok(envelope) = operator.recv_timeout(Duration::from_millis(1)) {
                if SecurityReport::is_report_topic(&envelope.topic) {
                    continue; // the proxy's own report
                }
                assert_ne!(envelope.message, json!("rogue"));
                good += 1;
            }
            good >= 20
        },
    );
    for receiver in &mut rogue_receivers {
        assert!(topics(receiver).is_empty());
    }
    // Six intruders: each refused at least once, however the refusal happened.
    wait_for(|| cluster.proxy.security_stats().refused_connections >= 6);
}

/// Handshakes that fail before ZAP is asked are counted by the proxy's socket monitors: a
/// client without CURVE on the backend, and one with the wrong server key on the frontend,
/// each against a proxy of its own so that each count is its alone.
#[test]
fn plain_clients_and_wrong_server_keys_are_counted_as_refused() {
    let plain = cluster();
    let _receiver = Receiver::<Value>::builder(&plain.context)
        .topic("")
        .connect(plain.proxy.backend())
        .unwrap();
    wait_for(|| plain.proxy.security_stats().refused_connections >= 1);

    let misdirected = cluster();
    let _publisher = Publisher::<Value>::builder(&misdirected.context)
        .topic("ticks")
        .curve(client(&misdirected.publisher, &keys()))
        .connect(misdirected.proxy.frontend())
        .unwrap();
    wait_for(|| misdirected.proxy.security_stats().refused_connections >= 1);

    for cluster in [plain, misdirected] {
        let stats = cluster.proxy.security_stats();
        assert_eq!(
            (stats.dropped_publications, stats.dropped_subscriptions),
            (0, 0)
        );
    }
}

#[test]
fn an_operator_reads_the_proxys_security_report_with_its_refusals() {
    let cluster = cluster();
    let mut operator = Receiver::<SecurityReport>::builder(&cluster.context)
        .topic(SecurityReport::TOPIC_PREFIX)
        .curve(client(&cluster.operator, &cluster.proxy_keys))
        .connect(cluster.proxy.backend())
        .unwrap();
    // Refused over and over: a client without CURVE reconnects after each refusal.
    let _plain = Receiver::<Value>::builder(&cluster.context)
        .topic("")
        .connect(cluster.proxy.backend())
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    let report = loop {
        let envelope = operator
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a report with a refusal before the deadline");
        if envelope.message.stats.refused_connections >= 1 {
            break envelope;
        }
    };
    assert_eq!(report.topic, "hermes/security/proxy");
    assert_eq!(report.origin, "proxy");
    assert_eq!(report.message.proxy, "proxy");
}

/// On the wire a subscription is a byte prefix: a node that declared `herm` and subscribes to
/// it would match `hermes/security/…`. The report must not reach it, so while it holds that
/// subscription the report goes to the capture socket only.
#[test]
fn a_node_whose_declared_prefix_matches_the_report_bytes_does_not_receive_it() {
    let (proxy_keys, nosy, source, operator) = (keys(), keys(), keys(), keys());
    let security = ProxySecurity::new(proxy_keys.clone())
        .frontend(Access::new([
            Peer::new("source", source.public()).publishes(["herm"])
        ]))
        .backend(Access::new([
            Peer::new("nosy", nosy.public()).subscribes(["herm"])
        ]))
        .capture(Access::new([Peer::operator("ops", operator.public())]));
    let context = Context::new();
    let config = ProxyConfig::new(TCP, TCP)
        .with_capture(TCP)
        .with_name("hub")
        .with_security(security);
    let proxy = Proxy::spawn(&context, config).unwrap();
    let mut nosy: Receiver<Value> = Receiver::builder(&context)
        .topic("herm")
        .curve(client(&nosy, &proxy_keys))
        .connect(proxy.backend())
        .unwrap();
    let mut publisher: Publisher<Value> = Publisher::builder(&context)
        .topic("herm")
        .curve(client(&source, &proxy_keys))
        .connect(proxy.frontend())
        .unwrap();
    // Its subscription is applied once it receives what it subscribed to.
    pump(
        |n| publisher.send(&json!(n)).unwrap(),
        || nosy.try_recv().is_ok(),
    );
    let mut reports = Receiver::<SecurityReport>::builder(&context)
        .topic(SecurityReport::TOPIC_PREFIX)
        .curve(client(&operator, &proxy_keys))
        .connect(proxy.capture().unwrap())
        .unwrap();
    // A client without CURVE keeps the counts changing, so a report is due every second.
    let _plain = Receiver::<Value>::builder(&context)
        .topic("")
        .connect(proxy.backend())
        .unwrap();
    let mut seen = 0;
    let deadline = Instant::now() + DEADLINE;
    while seen < 2 {
        let report = reports
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("reports on the capture socket");
        assert_eq!(report.topic, "hermes/security/hub");
        seen += 1;
    }
    while let Ok(envelope) = nosy.try_recv() {
        assert_eq!(
            envelope.topic, "herm",
            "the report reached a node that may not read it"
        );
    }
    assert!(
        nosy.stats().filtered == 0,
        "nothing else reached it: {:?}",
        nosy.stats()
    );
}

#[test]
fn a_node_may_not_publish_on_the_reserved_report_topic() {
    let cluster = cluster();
    let (proxy_keys, forger) = (keys(), keys());
    let security = ProxySecurity::new(proxy_keys.clone())
        .frontend(Access::new([
            Peer::new("forger", forger.public()).publishes(["hermes", "ticks"])
        ]))
        .backend(Access::new([Peer::operator(
            "ops",
            cluster.operator.public(),
        )]));
    let proxy = Proxy::spawn(
        &cluster.context,
        ProxyConfig::new(TCP, TCP).with_security(security),
    )
    .unwrap();
    let mut operator: Receiver<Value> = Receiver::builder(&cluster.context)
        .topic("")
        .curve(client(&cluster.operator, &proxy_keys))
        .connect(proxy.backend())
        .unwrap();
    let mut forged: Publisher<Value> = Publisher::builder(&cluster.context)
        .topic("ticks")
        .curve(client(&forger, &proxy_keys))
        .connect(proxy.frontend())
        .unwrap();
    let mut ticks = 0;
    pump(
        |n| {
            forged
                .send_to("hermes/security/proxy", &json!({"proxy": "proxy"}))
                .unwrap();
            forged.send(&json!(n)).unwrap();
        },
        || {
            while let Ok(envelope) = operator.recv_timeout(Duration::from_millis(1)) {
                if envelope.topic == "ticks" {
                    ticks += 1;
                } else {
                    assert_eq!(envelope.origin, "proxy", "a forged report passed");
                }
            }
            ticks >= 20
        },
    );
    assert!(proxy.security_stats().dropped_publications >= 20);
}

#[test]
fn an_undeclared_topic_is_dropped_at_the_proxy_and_declared_ones_still_flow() {
    let cluster = cluster();
    let mut publisher = cluster.publisher(&cluster.publisher);
    let mut operator = cluster.receiver(&cluster.operator, &[""]);
    let mut ticks = 0;
    pump(
        |n| {
            // Sent first on the same connection: had it passed, it would arrive first.
            publisher.send_to("secret", &json!(n)).unwrap();
            publisher.send(&json!(n)).unwrap();
        },
        || {
            for topic in topics(&mut operator) {
                assert_eq!(topic, "ticks");
                ticks += 1;
            }
            ticks >= 20
        },
    );
    assert!(cluster.proxy.security_stats().dropped_publications >= 20);
}

#[test]
fn an_undeclared_subscription_gets_nothing_while_another_subscriber_has_it_upstream() {
    let cluster = cluster();
    // The listener declared `secret` and subscribes to it, so it flows upstream; the watcher
    // declared only `ticks` and subscribes to both.
    let mut listener = cluster.receiver(&cluster.listener, &["secret"]);
    let mut watcher = cluster.receiver(&cluster.subscriber, &["secret", "ticks"]);
    let mut ticker = cluster.publisher(&cluster.publisher);
    let mut secret_publisher: Publisher<Value> = Publisher::builder(&cluster.context)
        .topic("secret")
        .curve(client(&cluster.source, &cluster.proxy_keys))
        .connect(cluster.proxy.frontend())
        .unwrap();
    let (mut secrets, mut ticks) = (0, 0);
    pump(
        |n| {
            secret_publisher.send(&json!(n)).unwrap();
            ticker.send(&json!(n)).unwrap();
        },
        || {
            secrets += topics(&mut listener).len();
            for topic in topics(&mut watcher) {
                assert_eq!(topic, "ticks", "the watcher never declared `secret`");
                ticks += 1;
            }
            secrets >= 20 && ticks >= 20
        },
    );
    assert!(cluster.proxy.security_stats().dropped_subscriptions >= 1);
}

#[test]
fn a_bound_receiver_refuses_unknown_keys_and_drops_undeclared_topics() {
    let context = Context::new();
    let (server, ticker, stranger) = (keys(), keys(), keys());
    let access = Access::new([Peer::new("ticker", ticker.public()).publishes(["ticks"])]);
    let mut receiver = Receiver::<Value>::builder(&context)
        .topic("")
        .curve(Curve::Server {
            keys: server.clone(),
            access,
        })
        .bind(TCP)
        .unwrap();
    let endpoint = receiver.endpoints()[0].clone();
    let connect = |keys: &KeyPair| {
        Publisher::<Value>::builder(&context)
            .topic("ticks")
            .curve(client(keys, &server))
            .connect(&endpoint)
            .unwrap()
    };
    let mut publisher = connect(&ticker);
    let mut rogue = connect(&stranger);
    let mut ticks = 0;
    pump(
        |n| {
            rogue.send(&json!("rogue")).unwrap();
            publisher.send_to("secret", &json!(n)).unwrap();
            publisher.send(&json!(n)).unwrap();
        },
        || {
            while let Ok(envelope) = receiver.recv_timeout(Duration::from_millis(1)) {
                assert_eq!(envelope.topic, "ticks");
                assert_ne!(envelope.message, json!("rogue"));
                ticks += 1;
            }
            ticks >= 20 && receiver.security_stats().refused_connections >= 1
        },
    );
    assert!(receiver.security_stats().dropped_publications >= 20);
}

#[test]
fn a_bound_publisher_refuses_unknown_keys_and_applies_only_declared_subscriptions() {
    let context = Context::new();
    let (server, watcher, listener, stranger) = (keys(), keys(), keys(), keys());
    let access = Access::new([
        Peer::new("watcher", watcher.public()).subscribes(["ticks"]),
        Peer::new("listener", listener.public()).subscribes(["secret"]),
    ]);
    let mut publisher = Publisher::<Value>::builder(&context)
        .topic("ticks")
        .curve(Curve::Server {
            keys: server.clone(),
            access,
        })
        .bind(TCP)
        .unwrap();
    let endpoint = publisher.endpoints()[0].clone();
    let connect = |keys: &KeyPair, topics: &[&str]| {
        Receiver::<Value>::builder(&context)
            .topics(topics.iter().copied())
            .curve(client(keys, &server))
            .connect(&endpoint)
            .unwrap()
    };
    let mut listening = connect(&listener, &["secret"]);
    let mut watching = connect(&watcher, &["secret", "ticks"]);
    let mut rogue = connect(&stranger, &[""]);
    let (mut secrets, mut ticks) = (0, 0);
    pump(
        |n| {
            publisher.send_to("secret", &json!(n)).unwrap();
            publisher.send(&json!(n)).unwrap();
        },
        || {
            secrets += topics(&mut listening).len();
            for topic in topics(&mut watching) {
                assert_eq!(topic, "ticks", "the watcher never declared `secret`");
                ticks += 1;
            }
            secrets >= 20 && ticks >= 20
        },
    );
    wait_for(|| publisher.security_stats().refused_connections >= 1);
    assert!(topics(&mut rogue).is_empty());
    assert!(publisher.security_stats().dropped_subscriptions >= 1);
}

#[test]
fn the_authenticator_stops_with_its_last_server_socket_and_the_context_drops_promptly() {
    let context = Context::new();
    let server = keys();
    let receiver = Receiver::<Value>::builder(&context)
        .curve(Curve::Server {
            keys: server,
            access: Access::default(),
        })
        .bind(TCP)
        .unwrap();
    assert!(hermes_runtime::__private::authenticator_running(&context));
    drop(receiver);
    assert!(!hermes_runtime::__private::authenticator_running(&context));
    // A second server socket starts it again (the ZAP endpoint was released).
    let proxy = Proxy::spawn(
        &context,
        ProxyConfig::new(TCP, TCP).with_security(ProxySecurity::new(keys())),
    )
    .unwrap();
    assert!(hermes_runtime::__private::authenticator_running(&context));
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        proxy.stop().unwrap();
        drop(context); // zmq_ctx_term: returns only once every socket is closed
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(DEADLINE)
        .expect("the context dropped promptly");
}
