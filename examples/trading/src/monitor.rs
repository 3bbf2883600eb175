//! Node `monitor`: a compact live summary of the whole desk, once a second.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hermes_runtime::{Envelope, HandlerResult};

use crate::pnl::Ledger;
use crate::topology::nodes::monitor;
use crate::{Fill, Order, Quote, RiskDecision, Trade};

/// The desk at one moment, as the monitor prints it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Time since the monitor started.
    pub elapsed: Duration,
    /// Whether this is the summary printed on stop.
    pub is_final: bool,
    /// Quotes received per exchange, in all.
    pub quotes: BTreeMap<String, u64>,
    /// Quotes per second per exchange over the last interval.
    pub quote_rates: BTreeMap<String, f64>,
    /// Exchange trades seen.
    pub trades: u64,
    /// Orders the strategy sent.
    pub orders: u64,
    /// Orders risk accepted.
    pub accepted: u64,
    /// Orders risk rejected.
    pub rejected: u64,
    /// Fills from the executor.
    pub fills: u64,
    /// Net position over all exchanges, in BTC.
    pub position_btc: f64,
    /// Profit and loss in USD: cash flows and fees, positions marked to each exchange's mid.
    pub pnl_usd: f64,
    /// Fees paid, in USD.
    pub fees_usd: f64,
    /// Median publish-to-monitor lag over the last interval (all the run in the final summary).
    pub lag_p50: Duration,
    /// Largest lag over the last interval (all the run in the final summary).
    pub lag_max: Duration,
    /// Envelopes missing from a publisher's sequence (a gap per origin and topic).
    pub drops: u64,
    /// Publishers seen restarting (a new epoch); not drops.
    pub restarts: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_final {
            write!(f, "final {:>5.1}s | quotes", self.elapsed.as_secs_f64())?;
            for (exchange, count) in &self.quotes {
                write!(f, " {exchange} {count}")?;
            }
        } else {
            write!(f, "[{:>4}s] quotes/s", self.elapsed.as_secs())?;
            for (exchange, rate) in &self.quote_rates {
                write!(f, " {exchange} {rate:.0}")?;
            }
        }
        write!(
            f,
            " | trades {} | orders {} ({} ok, {} rejected) | fills {} | position {:+.4} BTC | PnL {}${:.2} | fees ${:.2} | lag p50 {:.2} ms max {:.2} ms | drops {}",
            self.trades,
            self.orders,
            self.accepted,
            self.rejected,
            self.fills,
            self.position_btc,
            if self.pnl_usd < 0.0 { "-" } else { "+" },
            self.pnl_usd.abs(),
            self.fees_usd,
            self.lag_p50.as_secs_f64() * 1e3,
            self.lag_max.as_secs_f64() * 1e3,
            self.drops,
        )?;
        if self.restarts > 0 {
            write!(f, " | restarts {}", self.restarts)?;
        }
        Ok(())
    }
}

/// Where a publisher's sequence on one topic is.
#[derive(Debug, Clone, Copy)]
struct Sequence {
    epoch: u32,
    next: u64,
}

/// Subscribes to every topic, keeps the desk's books (positions, cash, fees, mids), counts
/// sequence gaps, and prints a [`Summary`] every second and on stop.
#[derive(Debug)]
pub struct Monitor {
    print: bool,
    started: Instant,
    last_tick: Instant,
    summary: Summary,
    shared: Arc<Mutex<Summary>>,
    sequences: HashMap<(String, String), Sequence>,
    interval_quotes: BTreeMap<String, u64>,
    interval_lags_ns: Vec<u64>,
    all_lags_ns: Vec<u64>,
    ledger: Ledger,
}

impl Monitor {
    /// A monitor that prints its summaries to stdout.
    pub fn new() -> Monitor {
        Monitor {
            print: true,
            started: Instant::now(),
            last_tick: Instant::now(),
            summary: Summary::default(),
            shared: Arc::default(),
            sequences: HashMap::new(),
            interval_quotes: BTreeMap::new(),
            interval_lags_ns: Vec::new(),
            all_lags_ns: Vec::new(),
            ledger: Ledger::default(),
        }
    }

    /// A monitor that only keeps its summaries for [`summary`](Monitor::summary) readers.
    pub fn silent() -> Monitor {
        Monitor {
            print: false,
            ..Monitor::new()
        }
    }

    /// A handle on the latest summary (updated on every envelope), to read from another thread.
    pub fn summary(&self) -> Arc<Mutex<Summary>> {
        Arc::clone(&self.shared)
    }

    /// Counts a sequence gap or restart; the first envelope of a publisher is neither.
    fn track<M>(&mut self, envelope: &Envelope<M>) {
        let lag = u64::try_from(envelope.lag().as_nanos()).unwrap_or(u64::MAX);
        self.interval_lags_ns.push(lag);
        self.all_lags_ns.push(lag);
        if envelope.epoch == 0 {
            return; // python-json publishers carry no sequence numbers
        }
        let key = (envelope.origin.to_string(), envelope.topic.to_string());
        let next = Sequence {
            epoch: envelope.epoch,
            next: envelope.seq + 1,
        };
        match self.sequences.insert(key, next) {
            None => {}
            Some(previous) if previous.epoch != envelope.epoch => self.summary.restarts += 1,
            Some(previous) if envelope.seq > previous.next => {
                self.summary.drops += envelope.seq - previous.next;
            }
            Some(_) => {}
        }
    }

    /// Recomputes position and PnL, and shares the summary.
    fn publish_summary(&mut self) {
        self.summary.elapsed = self.started.elapsed();
        self.summary.position_btc = self.ledger.position_btc();
        self.summary.fees_usd = self.ledger.fees_usd();
        self.summary.pnl_usd = self.ledger.pnl_usd();
        *self.shared.lock().unwrap_or_else(PoisonError::into_inner) = self.summary.clone();
    }
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor::new()
    }
}

/// The `q`-quantile of `values` (sorted in place), as a duration.
fn quantile(values: &mut [u64], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "an index into a slice of at most millions"
    )]
    let index = ((values.len() - 1) as f64 * q).round() as usize;
    Duration::from_nanos(values[index])
}

impl hermes_runtime::Hooks<monitor::Outputs> for Monitor {
    fn tick_interval(&self) -> Option<Duration> {
        Some(Duration::from_secs(1))
    }

    fn on_tick(&mut self, _outputs: &mut monitor::Outputs) -> HandlerResult {
        let seconds = self.last_tick.elapsed().as_secs_f64().max(1e-3);
        self.last_tick = Instant::now();
        self.summary.quote_rates = self
            .summary
            .quotes
            .keys()
            .map(|exchange| {
                let count = self.interval_quotes.get(exchange).copied().unwrap_or(0);
                #[allow(clippy::cast_precision_loss, reason = "counts per second")]
                (exchange.clone(), count as f64 / seconds)
            })
            .collect();
        self.interval_quotes.clear();
        self.summary.lag_p50 = quantile(&mut self.interval_lags_ns, 0.5);
        self.summary.lag_max = quantile(&mut self.interval_lags_ns, 1.0);
        self.interval_lags_ns.clear();
        self.publish_summary();
        if self.print {
            println!("{}", self.summary);
        }
        Ok(())
    }

    fn on_stop(&mut self, _outputs: &mut monitor::Outputs) -> HandlerResult {
        self.summary.is_final = true;
        self.summary.lag_p50 = quantile(&mut self.all_lags_ns, 0.5);
        self.summary.lag_max = quantile(&mut self.all_lags_ns, 1.0);
        self.publish_summary();
        if self.print {
            println!("{}", self.summary);
        }
        Ok(())
    }
}

impl monitor::Handler for Monitor {
    fn on_quotes(
        &mut self,
        envelope: Envelope<Quote>,
        _outputs: &mut monitor::Outputs,
    ) -> HandlerResult {
        self.track(&envelope);
        let quote = envelope.message;
        *self
            .interval_quotes
            .entry(quote.exchange.clone())
            .or_default() += 1;
        *self
            .summary
            .quotes
            .entry(quote.exchange.clone())
            .or_default() += 1;
        self.ledger.mark(&quote);
        Ok(())
    }

    fn on_trades(
        &mut self,
        envelope: Envelope<Trade>,
        _outputs: &mut monitor::Outputs,
    ) -> HandlerResult {
        self.track(&envelope);
        self.summary.trades += 1;
        Ok(())
    }

    fn on_orders(
        &mut self,
        envelope: Envelope<Order>,
        _outputs: &mut monitor::Outputs,
    ) -> HandlerResult {
        self.track(&envelope);
        self.summary.orders += 1;
        self.publish_summary();
        Ok(())
    }

    fn on_decisions(
        &mut self,
        envelope: Envelope<RiskDecision>,
        _outputs: &mut monitor::Outputs,
    ) -> HandlerResult {
        self.track(&envelope);
        if envelope.message.accepted {
            self.summary.accepted += 1;
        } else {
            self.summary.rejected += 1;
        }
        self.publish_summary();
        Ok(())
    }

    fn on_fills(
        &mut self,
        envelope: Envelope<Fill>,
        _outputs: &mut monitor::Outputs,
    ) -> HandlerResult {
        self.track(&envelope);
        self.ledger.fill(&envelope.message);
        self.summary.fills += 1;
        self.publish_summary();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Side;
    use hermes_runtime::Hooks as _;

    fn envelope(origin: &str, epoch: u32, seq: u64) -> Envelope<Trade> {
        Envelope {
            epoch,
            seq,
            ..Envelope::new("trades/x", origin, Trade::default())
        }
    }

    #[test]
    fn counts_gaps_but_not_first_envelopes_or_restarts() {
        let mut monitor = Monitor::silent();
        for (origin, epoch, seq) in [
            ("a", 1, 5),
            ("a", 1, 6),
            ("b", 9, 0),
            ("a", 1, 9),
            ("a", 2, 0),
        ] {
            monitor.track(&envelope(origin, epoch, seq));
        }
        assert_eq!(monitor.summary.drops, 2, "7 and 8 of `a` are missing");
        assert_eq!(monitor.summary.restarts, 1);
    }

    #[test]
    fn the_summary_shows_the_ledger_pnl() {
        let mut monitor = Monitor::silent();
        monitor.ledger.mark(&Quote {
            exchange: "kraken".to_owned(),
            bid: 60_099.0,
            ask: 60_101.0,
            ..Quote::default()
        });
        monitor.ledger.fill(&Fill {
            exchange: "kraken".to_owned(),
            side: Side::Buy.into(),
            price: 60_000.0,
            size: 0.5,
            fee: 30.0,
            ..Fill::default()
        });
        monitor.publish_summary();
        assert!((monitor.summary.pnl_usd - 20.0).abs() < 1e-9);
        assert!((monitor.summary.fees_usd - 30.0).abs() < 1e-9);
        let _ = monitor.tick_interval();
    }

    #[test]
    fn the_final_line_reads_like_the_live_one() {
        let summary = Summary {
            is_final: true,
            quotes: [("kraken".to_owned(), 10)].into(),
            fills: 3,
            pnl_usd: -1.5,
            ..Summary::default()
        };
        let line = summary.to_string();
        assert!(
            line.starts_with("final   0.0s | quotes kraken 10 | trades 0"),
            "{line}"
        );
        assert!(
            line.contains("| fills 3 |") && line.contains("PnL -$1.50"),
            "{line}"
        );
        assert!(line.ends_with("| drops 0"), "{line}");
    }
}
