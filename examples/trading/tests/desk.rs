//! The whole desk in one process on inproc endpoints: quotes from every exchange reach the
//! strategy, risk decides orders, fills reach the monitor, and nothing is lost or undecodable.

mod common;

use std::time::{Duration, Instant};

use hermes_runtime::Runtime;
use trading::exchange::VENUES;
use trading::topology;
use trading::{DeskConfig, desk};

use common::Audit;

#[test]
fn quotes_orders_decisions_and_fills_flow_through_the_desk_in_one_process() {
    let mut runtime = Runtime::new().expect("runtime");
    let config = DeskConfig {
        print_summary: false,
        ..DeskConfig::default()
    };
    let (handlers, reports) = desk(&config);
    let wiring = topology::launch(
        &mut runtime,
        &topology::TOPOLOGY.inproc_wiring("desk-test"),
        handlers,
    )
    .expect("launches");

    let audit = Audit::start(
        runtime.context(),
        &wiring.proxy("market").expect("market").backend,
    );

    // Arbitrage opportunities come every few seconds; wait for a fill, bounded.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let strategy = reports.strategy.lock().expect("strategy report").clone();
        let monitor = reports.monitor.lock().expect("monitor summary").clone();
        let every_exchange = VENUES
            .iter()
            .all(|venue| strategy.quotes.get(venue.name).is_some_and(|&n| n > 0));
        if every_exchange && monitor.accepted + monitor.rejected > 0 && monitor.fills > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no complete flow after 60 s: strategy {strategy:?}, monitor {monitor}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    runtime.stop();
    runtime
        .wait_timeout(Duration::from_secs(5))
        .expect("every node stops cleanly");

    let summary = reports.monitor.lock().expect("monitor summary").clone();
    assert!(
        summary.is_final,
        "the monitor wrote its final summary: {summary}"
    );
    for venue in VENUES {
        assert!(
            summary.quotes.get(venue.name).is_some_and(|&n| n > 0),
            "{summary}"
        );
    }
    assert!(
        summary.accepted + summary.rejected <= summary.orders,
        "{summary}"
    );
    assert!(
        summary.fills >= 1 && summary.fills <= summary.accepted,
        "{summary}"
    );
    assert_eq!(summary.drops, 0, "no unexplained drops: {summary}");
    assert_eq!(summary.restarts, 0, "{summary}");

    audit.finish();
}

#[test]
fn the_trading_binary_stops_by_itself_after_its_duration_with_a_final_summary() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let endpoint = |name: &str| format!("ipc://{}/{name}", dir.path().display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trading"))
        .args(["--duration", "2", "--frontend", &endpoint("frontend")])
        .args(["--backend", &endpoint("backend"), "--no-capture"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("trading starts");
    let started = Instant::now();
    let Some(status) = common::exit_status_by(&mut child, started + Duration::from_secs(20)) else {
        let _ = child.kill();
        panic!("`trading --duration 2` still running after 20 s");
    };
    assert!(status.success(), "exited with {status}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "stopped before its duration"
    );
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut out)
        .expect("read stdout");
    let last = out.lines().last().unwrap_or_default();
    assert!(last.starts_with("final"), "no final summary last: {out}");
    for venue in VENUES {
        assert!(last.contains(venue.name), "{venue:?} missing from {last}");
    }
}
