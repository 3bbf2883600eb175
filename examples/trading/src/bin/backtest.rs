//! Backtests the desk on a recording: `cargo run -p trading --bin backtest -- desk.mcap`.
//!
//! Replays the recorded quotes (and trades) through `strategy`, `risk` and `executor` in this
//! process, on recorded time, and prints every fill and the PnL. The same file gives the same
//! fills on every run. Record a desk with `hermes record examples/trading -o desk.mcap`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use hermes_runtime::recording::Recording;
use trading::backtest::{BacktestConfig, run};
use trading::{Side, StrategyConfig};

/// Backtests strategy, risk and executor on a recording of the trading desk.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Examples:\n  backtest desk.mcap\n  backtest desk.mcap --threshold-bps 1 --quiet"
)]
struct Args {
    /// The MCAP recording to replay (`hermes record` writes one).
    file: PathBuf,
    /// The strategy's smallest edge worth trading, in basis points after fees.
    #[arg(long, default_value_t = StrategyConfig::default().threshold_bps)]
    threshold_bps: f64,
    /// Print only the summary, not every fill.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let recording =
        match Recording::open(&args.file).and_then(Iterator::collect::<Result<Vec<_>, _>>) {
            Ok(recording) => recording,
            Err(error) => {
                eprintln!("error: cannot read `{}`: {error}", args.file.display());
                return ExitCode::from(2);
            }
        };
    let config = BacktestConfig {
        strategy: StrategyConfig {
            threshold_bps: args.threshold_bps,
            ..StrategyConfig::default()
        },
        ..BacktestConfig::default()
    };
    let outcome = match run(&config, recording) {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("error: the backtest failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    if !args.quiet {
        for (at, fill) in &outcome.fills {
            let side = match fill.side() {
                Side::Buy => "buy",
                Side::Sell => "sell",
            };
            println!(
                "fill at {at} ns: order {} {side} {:.8} BTC on {} @ {:.2}, fee ${:.2}",
                fill.order_id, fill.size, fill.exchange, fill.price, fill.fee
            );
        }
    }
    println!("{outcome}");
    ExitCode::SUCCESS
}
