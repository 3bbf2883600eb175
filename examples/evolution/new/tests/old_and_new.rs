//! The runtime proof of schema evolution: the `evolution` topology built from two versions of
//! its messages (`evolution-old`, and this crate's compatible evolution of it) runs old
//! publishers against new receivers and new publishers against old receivers, on both of its
//! ports (`orders/proto`, protobuf; `orders/json`, JSON), over TCP loopback. Every order
//! arrives with the fields both builds know. An `Order` raised to version 2 is refused and
//! counted instead.
//!
//! Sockets are made from each build's own port table (`TOPOLOGY`): the `desk` node's
//! publications and the `book` node's subscriptions, with their topics and codecs. The desk
//! binds an ephemeral port and waits for the book's subscription before sending, so nothing is
//! lost to PUB/SUB's late joining and every wait has a deadline.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use evolution_new::evolution as new;
use evolution_old::evolution as old;
use hermes_core::proto::compat::{RuleSet, compare};
use hermes_runtime::topology::TopologyInfo;
use hermes_runtime::{Context, Error, HermesMessage, Message, Publisher, Receiver, ReceiverStats};

/// How long any one wait may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);

/// Both ports of the topology: the protobuf one and the JSON one.
const TOPICS: [&str; 2] = [old::topics::ORDERS_PROTO, old::topics::ORDERS_JSON];

/// The `desk` node's publisher of `topic`, as `topology`'s port table describes it, bound to an
/// ephemeral loopback port.
fn desk_publisher<M: Message>(
    context: &Context,
    topology: &TopologyInfo,
    topic: &str,
) -> Publisher<M> {
    let desk = topology.node("desk").expect("the topology has a desk");
    let port = desk
        .publishes
        .iter()
        .find(|port| port.topic == topic)
        .expect("the desk publishes the topic");
    Publisher::builder(context)
        .topic(port.topic)
        .origin(desk.name)
        .codec(port.codec)
        // An XPUB socket reports subscriptions, so the test can wait for one.
        .xpub()
        .bind("tcp://127.0.0.1:0")
        .expect("binds an ephemeral port")
}

/// The `book` node's receiver of `topic`, as `topology`'s port table describes it, connected
/// to `endpoint`.
fn book_receiver<M: Message>(
    context: &Context,
    topology: &TopologyInfo,
    topic: &str,
    endpoint: &str,
) -> Receiver<M> {
    let book = topology.node("book").expect("the topology has a book");
    let port = book
        .subscribes
        .iter()
        .find(|port| port.topic == topic)
        .expect("the book subscribes to the topic");
    Receiver::builder(context)
        .topic(port.topic)
        .codec(port.codec)
        .hwm(port.hwm)
        .connect(endpoint)
        .expect("connects to the desk")
}

/// A connected desk and book on `topic`: the desk from `publisher_topology`, sending `P`, the
/// book from `receiver_topology`, receiving `R`; returned once the book's subscription has
/// reached the desk.
fn desk_and_book<P: Message, R: Message>(
    context: &Context,
    publisher_topology: &TopologyInfo,
    receiver_topology: &TopologyInfo,
    topic: &str,
) -> (Publisher<P>, Receiver<R>) {
    let mut publisher = desk_publisher::<P>(context, publisher_topology, topic);
    let endpoint = publisher.endpoints()[0].clone();
    let receiver = book_receiver::<R>(context, receiver_topology, topic, &endpoint);
    publisher
        .wait_for_subscriber(DEADLINE)
        .expect("the book subscribes in time");
    (publisher, receiver)
}

/// Sends every message of `sent` on `topic` from a desk of `publisher_topology` to a book of
/// `receiver_topology`, and returns what the book received, in order, and its statistics.
fn send_across<P: Message, R: Message>(
    publisher_topology: &TopologyInfo,
    receiver_topology: &TopologyInfo,
    topic: &str,
    sent: &[P],
) -> (Vec<R>, ReceiverStats) {
    let context = Context::new();
    let (mut publisher, mut receiver) =
        desk_and_book::<P, R>(&context, publisher_topology, receiver_topology, topic);
    for message in sent {
        publisher.send(message).expect("sends");
    }
    let deadline = Instant::now() + DEADLINE;
    let mut received = Vec::new();
    while received.len() < sent.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(envelope) => {
                assert_eq!(envelope.topic, topic);
                received.push(envelope.message);
            }
            Err(error) => panic!(
                "{} of {} orders arrived on `{topic}` ({error}); receiver: {:?}",
                received.len(),
                sent.len(),
                receiver.stats()
            ),
        }
    }
    (received, receiver.stats())
}

/// Reads from `receiver` until the statistic `counted` reaches `expected`, and returns the
/// statistics then; fails if an envelope is delivered or the deadline passes. A receiver counts
/// a refused envelope only when it reads it, so waiting for the count means reading.
fn read_until_counted<M: Message + Debug>(
    receiver: &mut Receiver<M>,
    counted: fn(&ReceiverStats) -> u64,
    expected: u64,
) -> ReceiverStats {
    let deadline = Instant::now() + DEADLINE;
    while counted(&receiver.stats()) < expected {
        assert!(
            Instant::now() < deadline,
            "{:?} after {DEADLINE:?}",
            receiver.stats()
        );
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Err(Error::Timeout) => {}
            Ok(envelope) => panic!("delivered {:?}", envelope.message),
            Err(error) => panic!("{error}"),
        }
    }
    receiver.stats()
}

fn old_orders() -> Vec<old::Order> {
    (0..4u32)
        .map(|i| old::Order {
            id: 100 + u64::from(i),
            symbol: format!("BTC-EUR-{i}"),
            note: format!("note {i}, which the new build deleted"),
            side: if i % 2 == 0 {
                old::Side::Buy
            } else {
                old::Side::Sell
            }
            .into(),
            price: 50_000.5 + f64::from(i),
            venue: Some(old::Venue {
                name: format!("venue {i}"),
            }),
        })
        .collect()
}

/// New orders that use only the variants the old build knows; the appended variant has tests
/// of its own below.
fn new_orders() -> Vec<new::Order> {
    (0..4u32)
        .map(|i| new::Order {
            id: 200 + u64::from(i),
            symbol: format!("ETH-EUR-{i}"),
            side: if i % 2 == 0 {
                new::Side::Sell
            } else {
                new::Side::Buy
            }
            .into(),
            price: 3_000.25 + f64::from(i),
            venue: Some(new::Venue {
                name: format!("venue {i}"),
                region: "eu-west".to_owned(),
            }),
            quantity: 7 + i,
        })
        .collect()
}

#[test]
fn new_messages_are_a_compatible_evolution_with_the_same_fingerprint() {
    // The premise of the other tests: `hermes diff`'s rules accept NEW as an evolution of OLD
    // (by the stricter JSON rules, since a JSON port carries `Order`), and nothing raised the
    // version, so both builds stamp and accept the same fingerprint.
    let files = |crate_dir: &str| {
        let path = format!(
            "{}/../{crate_dir}/topology.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let loaded = hermes_build::load(&path).expect("loads");
        hermes_build::proto::files(&loaded)
    };
    let findings = compare(&files("old"), &files("new"), RuleSet::WireJson);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(
        <old::Order as Message>::FINGERPRINT,
        <new::Order as Message>::FINGERPRINT
    );
}

#[test]
fn old_publisher_to_new_receiver_delivers_every_order_with_shared_fields() {
    let sent = old_orders();
    for topic in TOPICS {
        let (received, stats) =
            send_across::<old::Order, new::Order>(&old::TOPOLOGY, &new::TOPOLOGY, topic, &sent);
        assert_eq!(stats.received, sent.len() as u64, "on `{topic}`");
        assert_eq!(
            stats.type_mismatches + stats.decode_errors,
            0,
            "on `{topic}`"
        );
        for (old, new) in sent.iter().zip(&received) {
            assert_eq!(new.id, old.id, "on `{topic}`");
            assert_eq!(new.symbol, old.symbol, "on `{topic}`");
            assert_eq!(new.side, old.side, "on `{topic}`");
            assert_eq!(new.price, old.price, "on `{topic}`");
            let (old_venue, new_venue) = (old.venue.as_ref(), new.venue.as_ref());
            assert_eq!(
                new_venue.map(|venue| &venue.name),
                old_venue.map(|venue| &venue.name),
                "on `{topic}`"
            );
            // What only the new build knows was never sent: it has its default.
            assert_eq!(new_venue.map(|venue| venue.region.as_str()), Some(""));
            assert_eq!(new.quantity, 0, "on `{topic}`");
        }
    }
}

#[test]
fn new_publisher_to_old_receiver_delivers_every_order_with_shared_fields() {
    let sent = new_orders();
    for topic in TOPICS {
        let (received, stats) =
            send_across::<new::Order, old::Order>(&new::TOPOLOGY, &old::TOPOLOGY, topic, &sent);
        assert_eq!(stats.received, sent.len() as u64, "on `{topic}`");
        assert_eq!(
            stats.type_mismatches + stats.decode_errors,
            0,
            "on `{topic}`"
        );
        for (new, old) in sent.iter().zip(&received) {
            assert_eq!(old.id, new.id, "on `{topic}`");
            assert_eq!(old.symbol, new.symbol, "on `{topic}`");
            assert_eq!(old.side, new.side, "on `{topic}`");
            assert_eq!(old.price, new.price, "on `{topic}`");
            assert_eq!(
                old.venue.as_ref().map(|venue| &venue.name),
                new.venue.as_ref().map(|venue| &venue.name),
                "on `{topic}`"
            );
            // The field the new build deleted is not sent, so the old build sees its default.
            assert_eq!(old.note, "", "on `{topic}`");
        }
    }
}

#[test]
fn appended_variant_reaches_an_old_protobuf_receiver_as_its_number() {
    // Protobuf enums are open: the old build keeps a value it has no name for, and says so.
    let sent = new::Order {
        side: new::Side::Cross.into(),
        ..new_orders().remove(0)
    };
    let (received, _) = send_across::<new::Order, old::Order>(
        &new::TOPOLOGY,
        &old::TOPOLOGY,
        old::topics::ORDERS_PROTO,
        std::slice::from_ref(&sent),
    );
    assert_eq!(received[0].side, i32::from(new::Side::Cross));
    assert_eq!(old::Side::try_from(received[0].side).ok(), None);
    assert_eq!(received[0].id, sent.id);
}

/// `evolution.Order` after a breaking change (`price` became a string), which therefore raised
/// its version to 2 and with it the lineage fingerprint.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(name = "evolution.Order", version = 2)]
struct OrderV2 {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(string, tag = "2")]
    symbol: String,
    #[prost(string, tag = "5")]
    price: String,
}

#[test]
fn version_raise_is_refused_by_an_old_receiver_and_counted() {
    const SENT: u64 = 5;
    assert_ne!(
        <OrderV2 as Message>::FINGERPRINT,
        <old::Order as Message>::FINGERPRINT
    );
    for topic in TOPICS {
        let context = Context::new();
        let (mut publisher, mut receiver) =
            desk_and_book::<OrderV2, old::Order>(&context, &new::TOPOLOGY, &old::TOPOLOGY, topic);
        for id in 0..SENT {
            let order = OrderV2 {
                id,
                symbol: "BTC-EUR".to_owned(),
                price: "50000.5".to_owned(),
            };
            publisher.send(&order).expect("sends");
        }
        let stats = read_until_counted(&mut receiver, |stats| stats.type_mismatches, SENT);
        assert_eq!(stats.type_mismatches, SENT, "on `{topic}`");
        assert_eq!(stats.received, 0, "on `{topic}`");
        assert_eq!(stats.decode_errors, 0, "on `{topic}`");
    }
}

#[test]
fn appended_variant_is_refused_not_misread_by_an_old_json_receiver() {
    // JSON writes a variant by name, and the old build has no number for `cross`: it refuses
    // the whole envelope as undecodable (as protobuf's JSON mapping does) rather than guess.
    // So a JSON port may carry a new variant only once every receiver knows it, although
    // `hermes diff` calls appending one compatible.
    let sent = new::Order {
        side: new::Side::Cross.into(),
        ..new_orders().remove(0)
    };
    let context = Context::new();
    let (mut publisher, mut receiver) = desk_and_book::<new::Order, old::Order>(
        &context,
        &new::TOPOLOGY,
        &old::TOPOLOGY,
        old::topics::ORDERS_JSON,
    );
    publisher.send(&sent).expect("sends");
    let stats = read_until_counted(&mut receiver, |stats| stats.decode_errors, 1);
    assert_eq!((stats.received, stats.decode_errors), (0, 1));
}
