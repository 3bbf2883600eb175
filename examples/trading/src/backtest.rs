//! The desk's backtest: recorded quotes (and trades) through `strategy`, `risk` and
//! `executor`, in process, on recorded time, with the fills and PnL they give.
//!
//! The three nodes run their live handlers under a [`hermes_runtime::backtest::Backtest`]:
//! recorded quotes reach the strategy and the executor, the strategy's orders reach risk, its
//! decisions the executor, all at the recorded time of the quote that caused them. Recorded
//! `orders`, `decisions` and `fills` (from the live desk) are skipped: the backtested nodes
//! publish their own. The strategy reads the time with [`hermes_runtime::clock_ns`], so quote
//! ages and cooldowns are measured on recorded time; nothing else in these three handlers
//! reads a clock or draws a random number, so a recording always gives the same fills.

use std::fmt;

use hermes_runtime::backtest::{Backtest, Report};
use hermes_runtime::{CodecError, Error, RawEnvelope, Result, TopicFilter};

use crate::pnl::Ledger;
use crate::topology::{TOPOLOGY, nodes, topics};
use crate::{Executor, Fill, Quote, Risk, RiskLimits, Strategy, StrategyConfig, StrategyReport};

/// What the backtested nodes are set up with.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BacktestConfig {
    /// The strategy's parameters.
    pub strategy: StrategyConfig,
    /// Risk's limits.
    pub limits: RiskLimits,
}

/// What a backtest of the desk gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The executor's fills, in the order it made them, with the recorded time of each.
    pub fills: Vec<(u64, Fill)>,
    /// The fills booked and marked to each exchange's last recorded mid.
    pub ledger: Ledger,
    /// The strategy's quote and order counts.
    pub strategy: StrategyReport,
    /// The engine's counts.
    pub report: Report,
}

/// Runs `strategy`, `risk` and `executor` on `recording` (`(log time, envelope)`, as
/// [`hermes_runtime::recording::Recording`] reads it).
///
/// # Errors
///
/// A node's failure, as [`Backtest::run`] reports it.
pub fn run(
    config: &BacktestConfig,
    recording: impl IntoIterator<Item = (u64, RawEnvelope)>,
) -> Result<Outcome> {
    let mut recording: Vec<(u64, RawEnvelope)> = recording.into_iter().collect();
    recording.sort_by_key(|(log_time_ns, _)| *log_time_ns);
    // The last mid of each exchange, to mark the positions to at the end.
    let quotes = TopicFilter::new(topics::QUOTES)?;
    let mut ledger = Ledger::default();
    for (_, raw) in &recording {
        if quotes.matches(&raw.topic)
            && let Ok(quote) = raw.decode::<Quote>()
        {
            ledger.mark(&quote.message);
        }
    }

    let strategy = Strategy::new(config.strategy);
    let strategy_report = strategy.report();
    let mut backtest = Backtest::new(&TOPOLOGY);
    nodes::strategy::backtest(&mut backtest, strategy)?;
    nodes::risk::backtest(&mut backtest, Risk::new(config.limits))?;
    nodes::executor::backtest(&mut backtest, Executor::default())?;
    backtest.capture(topics::FILLS)?;
    let report = backtest.run(recording)?;

    let mut fills = Vec::new();
    for (at, raw) in &report.captured {
        let fill = raw
            .decode::<Fill>()
            .map_err(|error| Error::Codec(CodecError::Decode(error.to_string())))?
            .message;
        ledger.fill(&fill);
        fills.push((*at, fill));
    }
    let strategy = strategy_report
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Ok(Outcome {
        fills,
        ledger,
        strategy,
        report,
    })
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[allow(clippy::cast_precision_loss, reason = "seconds for display")]
        let seconds = self.report.end_ns.saturating_sub(self.report.start_ns) as f64 / 1e9;
        write!(f, "backtest {seconds:.1}s | quotes")?;
        for (exchange, count) in &self.strategy.quotes {
            write!(f, " {exchange} {count}")?;
        }
        let decisions = self.report.node("risk").map_or(0, |risk| risk.published);
        let pnl = self.ledger.pnl_usd();
        write!(
            f,
            " | orders {} | decisions {decisions} | fills {} | position {:+.4} BTC | PnL {}${:.2} | fees ${:.2}",
            self.strategy.orders,
            self.fills.len(),
            self.ledger.position_btc(),
            if pnl < 0.0 { "-" } else { "+" },
            pnl.abs(),
            self.ledger.fees_usd(),
        )
    }
}
