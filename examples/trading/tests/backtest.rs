//! The desk's backtest: record the three feeds through the `market` proxy's capture socket
//! into an MCAP file, then backtest strategy, risk and executor on it twice. Same file, same
//! fills, same PnL.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hermes_runtime::recording::{NoSchemas, Recorder, Recording};
use hermes_runtime::{Error, RawEnvelope, RawReceiver, Runtime, now_ns};
use trading::backtest::{BacktestConfig, Outcome, run};
use trading::topology::{self, nodes};
use trading::{BitstampFeed, CoinbaseFeed, KrakenFeed};

/// Long enough that the strategy has something to trade in most recordings.
const AT_LEAST: Duration = Duration::from_secs(3);
/// Arbitrage chances come every few seconds: record until the strategy traded twice, bounded.
const AT_MOST: Duration = Duration::from_secs(60);

/// The recording the tests of this file share (made once), in a directory kept until exit.
fn recording() -> &'static Path {
    static RECORDING: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &RECORDING.get_or_init(record_desk).1
}

/// Runs the three feeds and the `market` proxy in process, and records what the proxy's
/// capture socket shows, with the runtime's [`Recorder`], as `hermes record` does.
fn record_desk() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("desk.mcap");
    let mut runtime = Runtime::new().expect("runtime");
    let mut wiring = topology::TOPOLOGY.inproc_wiring("backtest-test");
    hermes_runtime::topology::spawn_proxies(&mut runtime, &mut wiring).expect("market proxy");
    let market = wiring.proxy("market").expect("the market proxy");
    let capture = market.capture.clone().expect("a capture socket");
    // A proxy forwards only what its backend's subscribers ask for, and so does its capture
    // socket: this subscriber asks for everything, as the live desk's monitor does. It is
    // never read; past its high-water mark the proxy drops for it alone.
    let _everything = RawReceiver::builder(runtime.context())
        .topic("")
        .connect(&market.backend)
        .expect("backend receiver");
    let mut tap = RawReceiver::builder(runtime.context())
        .topic("")
        .connect(&capture)
        .expect("capture receiver");
    let seed = 7;
    nodes::bitstamp::spawn(&mut runtime, &wiring, BitstampFeed::new(seed)).expect("bitstamp");
    nodes::kraken::spawn(&mut runtime, &wiring, KrakenFeed::new(seed)).expect("kraken");
    nodes::coinbase::spawn(&mut runtime, &wiring, CoinbaseFeed::new(seed)).expect("coinbase");

    let file = BufWriter::new(File::create(&path).expect("create the recording"));
    let mut recorder = Recorder::new(file, NoSchemas).expect("recorder");
    let mut recorded: Vec<(u64, RawEnvelope)> = Vec::new();
    let started = Instant::now();
    let mut next_check = started + AT_LEAST;
    loop {
        match tap.recv_timeout(Duration::from_millis(50)) {
            Ok(raw) => {
                let log_time = now_ns();
                recorder.record(&raw, log_time).expect("records");
                recorded.push((log_time, raw));
            }
            Err(Error::Timeout) => {}
            Err(error) => panic!("capture receiver failed: {error}"),
        }
        if Instant::now() >= next_check {
            next_check += Duration::from_secs(1);
            let outcome = run(&BacktestConfig::default(), recorded.clone()).expect("backtest");
            if outcome.fills.len() >= 2 {
                break;
            }
            assert!(
                started.elapsed() < AT_MOST,
                "no fills after recording {AT_MOST:?}: {outcome}"
            );
        }
    }
    runtime.stop();
    recorder.finish().expect("finishes the recording");
    (dir, path)
}

fn backtest(path: &Path) -> Outcome {
    let recording: Vec<(u64, RawEnvelope)> = Recording::open(path)
        .expect("opens the recording")
        .collect::<Result<_, _>>()
        .expect("reads the recording");
    run(&BacktestConfig::default(), recording).expect("backtest runs")
}

#[test]
fn the_same_recording_gives_the_same_fills_and_pnl() {
    let path = recording();
    let first = backtest(path);
    let second = backtest(path);
    eprintln!("{first}");
    assert!(!first.fills.is_empty(), "no fills: {first}");
    assert_eq!(first.fills.len(), second.fills.len());
    for (a, b) in first.fills.iter().zip(&second.fills) {
        assert_eq!(a, b, "the same fill, at the same time, in the same order");
    }
    assert_eq!(
        first.ledger.pnl_usd().to_bits(),
        second.ledger.pnl_usd().to_bits(),
        "identical PnL: {first} / {second}"
    );
    assert_eq!(first, second);
    let report = &first.report;
    assert!(report.recorded > 100, "{report:?}");
    assert_eq!(
        report.skipped, 0,
        "the feeds alone were recorded: {report:?}"
    );
    for node in &report.nodes {
        let stats = node.stats();
        assert_eq!(
            (stats.type_mismatches, stats.decode_errors),
            (0, 0),
            "{node:?}"
        );
    }
}

#[test]
fn the_backtest_binary_prints_the_fills_and_pnl() {
    let path = recording();
    let expected = backtest(path);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_backtest"))
        .arg(path)
        .output()
        .expect("backtest runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let fill_lines = stdout
        .lines()
        .filter(|line| line.starts_with("fill at"))
        .count();
    assert_eq!(fill_lines, expected.fills.len(), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert_eq!(last, expected.to_string(), "{stdout}");
    assert!(last.contains("PnL"), "{last}");
}

#[test]
fn the_backtest_binary_reports_an_unreadable_file_with_status_2() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_backtest"))
        .arg("/nonexistent/desk.mcap")
        .output()
        .expect("backtest runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot read"),
        "{output:?}"
    );
}
