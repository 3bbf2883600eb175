//! Loss accounting: what a high-water mark drops is reported exactly, from sequence gaps.

mod common;

use std::time::Duration;

use common::{DEADLINE, Tick, await_subscription, send_until_received, unique};
use hermes_runtime::{Context, Publisher, Receiver};

#[test]
fn reported_losses_equal_sent_minus_received_with_a_tiny_hwm_and_a_stalled_receiver() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("loss"));
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .hwm(10)
        .bind(&endpoint)
        .unwrap();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .hwm(10)
        .connect(&endpoint)
        .unwrap();
    let last_seq = await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0)).seq;
    let baseline = receiver.stats();

    // The receiver is stalled (nobody reads) while 5,000 envelopes are published.
    let burst = 5_000u64;
    for n in 1..=burst {
        publisher.send(&Tick::new(n)).unwrap();
    }
    let mut received = 0u64;
    while receiver.recv_timeout(Duration::from_millis(200)).is_ok() {
        received += 1;
    }
    // Envelopes after the stall close any gap at the end of the burst.
    let marker = send_until_received(&mut publisher, &mut receiver, &Tick::new(0));
    received += 1;
    // Everything sent after the baseline, up to the marker that arrived.
    let sent = marker.seq - last_seq;
    let stats = receiver.stats();
    assert!(
        received < burst,
        "the high-water mark must have dropped something"
    );
    assert_eq!(stats.lost - baseline.lost, sent - received, "{stats:?}");
    assert_eq!(stats.received - baseline.received, received);
    assert_eq!(stats.out_of_order, 0);
}

#[test]
fn a_late_joiner_does_not_report_earlier_envelopes_as_lost() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("late"));
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .bind(&endpoint)
        .unwrap();
    for n in 0..1_000 {
        publisher.send(&Tick::new(n)).unwrap(); // nobody listens yet
    }
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .connect(&endpoint)
        .unwrap();
    let first = await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0));
    assert!(first.seq >= 1_000);
    for n in 0..100 {
        publisher.send(&Tick::new(n)).unwrap();
    }
    for _ in 0..100 {
        receiver.recv_timeout(DEADLINE).unwrap();
    }
    assert_eq!(receiver.stats().lost, 0);
}

#[test]
fn a_restarted_publisher_is_a_new_epoch_not_a_gap() {
    let context = Context::new();
    let endpoint = format!("inproc://{}", unique("epoch"));
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .bind(&endpoint)
        .unwrap();
    for life in 0..2 {
        let mut publisher = Publisher::<Tick>::builder(&context)
            .topic("t")
            .origin("feed")
            .connect(&endpoint)
            .unwrap();
        await_subscription(&mut publisher, &mut receiver, "t", &Tick::new(0));
        for n in 0..50 {
            publisher.send(&Tick::new(n)).unwrap();
        }
        for _ in 0..50 {
            receiver.recv_timeout(DEADLINE).unwrap();
        }
        assert_eq!(receiver.stats().publisher_restarts, life);
    }
    let stats = receiver.stats();
    assert_eq!((stats.lost, stats.out_of_order), (0, 0), "{stats:?}");
}

#[test]
fn what_a_publisher_sent_before_a_receiver_joined_is_counted_as_missed_at_start_not_lost() {
    let context = Context::new();
    let mut publisher = Publisher::<Tick>::builder(&context)
        .topic("t")
        .xpub()
        .bind("tcp://127.0.0.1:0")
        .unwrap();
    let endpoint = publisher.endpoints()[0].clone();
    // Nobody subscribes yet: a PUB socket drops these.
    for n in 0..5 {
        publisher.send(&Tick::new(n)).unwrap();
    }
    let mut receiver = Receiver::<Tick>::builder(&context)
        .topic("t")
        .connect(&endpoint)
        .unwrap();
    publisher.wait_for_subscriber(DEADLINE).unwrap();
    publisher.send(&Tick::new(5)).unwrap();
    let envelope = receiver.recv_timeout(DEADLINE).unwrap();
    assert_eq!(envelope.seq, 5);
    let stats = receiver.stats();
    assert_eq!((stats.missed_at_start, stats.lost), (5, 0), "{stats:?}");
}
