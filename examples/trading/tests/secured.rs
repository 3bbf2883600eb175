//! The whole desk secured: every link CURVE, the proxy admitting exactly the declared nodes. The
//! desk works as it does unsecured; an operator key reads the backend; a socket without a key
//! reads nothing.

use std::time::{Duration, Instant};

use hermes_runtime::{Curve, KeyRole, KeyStore, Receiver, Runtime};
use trading::exchange::VENUES;
use trading::{DeskConfig, Quote, desk, topology};

/// A key pair for every node, proxy and the operator, as `hermes keygen` writes them.
fn keys(dir: &std::path::Path) -> KeyStore {
    let store = KeyStore::new(dir);
    topology::TOPOLOGY.generate_keys(&store).expect("keys");
    store
}

#[test]
fn the_secured_desk_trades_and_admits_only_declared_keys() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = keys(dir.path());
    let mut wiring = topology::TOPOLOGY.loopback_wiring();
    wiring.secure(&topology::TOPOLOGY, dir.path());

    let mut runtime = Runtime::new().expect("runtime");
    let config = DeskConfig {
        print_summary: false,
        ..DeskConfig::default()
    };
    let (handlers, reports) = desk(&config);
    let wiring = topology::launch(&mut runtime, &wiring, handlers).expect("launches secured");
    let backend = wiring.proxy("market").expect("market").backend.clone();

    let operator = Curve::Client {
        keys: store
            .pair(KeyRole::Operator, "operator")
            .expect("operator keys"),
        server: store.public(KeyRole::Proxy, "market").expect("proxy key"),
    };
    let mut tap = Receiver::<Quote>::builder(runtime.context())
        .topic("quotes")
        .curve(operator)
        .connect(&backend)
        .expect("operator connects");
    let mut intruder = Receiver::<Quote>::builder(runtime.context())
        .topic("quotes")
        .connect(&backend)
        .expect("a plain socket connects, but is never admitted");

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tapped = 0;
    loop {
        while tap.try_recv().is_ok() {
            tapped += 1;
        }
        let strategy = reports.strategy.lock().expect("strategy report").clone();
        let monitor = reports.monitor.lock().expect("monitor summary").clone();
        let every_exchange = VENUES
            .iter()
            .all(|venue| strategy.quotes.get(venue.name).is_some_and(|&n| n > 0));
        if every_exchange && monitor.fills > 0 && tapped > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no complete secured flow after 60 s: strategy {strategy:?}, monitor {monitor}, \
             operator saw {tapped} quotes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Quotes flow at hundreds a second; a socket without a key got none of them.
    assert!(
        intruder.recv_timeout(Duration::from_millis(500)).is_err(),
        "a socket without a key received a quote"
    );
    assert_eq!(intruder.stats().received, 0);

    runtime.stop();
    runtime
        .wait_timeout(Duration::from_secs(5))
        .expect("every node stops cleanly");
}

#[test]
fn a_missing_key_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().expect("temporary directory");
    keys(dir.path());
    std::fs::remove_file(dir.path().join("nodes/strategy.key_secret")).expect("removed");
    let mut wiring = topology::TOPOLOGY.loopback_wiring();
    wiring.secure(&topology::TOPOLOGY, dir.path());
    let mut runtime = Runtime::new().expect("runtime");
    let (handlers, _) = desk(&DeskConfig {
        print_summary: false,
        ..DeskConfig::default()
    });
    let error = topology::launch(&mut runtime, &wiring, handlers)
        .expect_err("a node without its key cannot start");
    let message = error.to_string();
    assert!(
        message.contains("nodes/strategy.key_secret"),
        "the error names the file: {message}"
    );
}
