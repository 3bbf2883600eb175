//! Node `strategy`: cross-exchange arbitrage on the best bid and ask across all books.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hermes_runtime::{Envelope, HandlerResult};

use crate::exchange::{round_to, venue};
use crate::topology::nodes::strategy;
use crate::{Order, Quote, Side};

/// The strategy's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyConfig {
    /// Smallest edge worth trading, in basis points of the mid, after both taker fees.
    pub threshold_bps: f64,
    /// Largest size of one leg, in BTC.
    pub max_clip_btc: f64,
    /// Quotes older than this (by their exchange timestamp) are not traded against.
    pub max_quote_age: Duration,
    /// Least time between two arbitrages on the same pair of exchanges.
    pub cooldown: Duration,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        StrategyConfig {
            threshold_bps: 2.0,
            max_clip_btc: 0.15,
            max_quote_age: Duration::from_millis(250),
            cooldown: Duration::from_millis(300),
        }
    }
}

/// What the strategy has seen and done, readable while it runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrategyReport {
    /// Quotes received, per exchange.
    pub quotes: BTreeMap<String, u64>,
    /// Orders sent (two per arbitrage).
    pub orders: u64,
}

/// The best bid and ask of one exchange.
#[derive(Debug, Clone, Copy)]
struct Top {
    bid: f64,
    ask: f64,
    bid_size: f64,
    ask_size: f64,
    exchange_ts: u64,
}

/// Keeps every exchange's top of book; when one exchange's bid is above another's ask by more
/// than both taker fees plus the threshold, buys the cheap one and sells the rich one.
#[derive(Debug)]
pub struct Strategy {
    config: StrategyConfig,
    books: BTreeMap<String, Top>,
    last_arbitrage: BTreeMap<(String, String), u64>,
    next_order_id: u64,
    next_pair_id: u64,
    report: Arc<Mutex<StrategyReport>>,
}

impl Strategy {
    /// A strategy with `config`.
    pub fn new(config: StrategyConfig) -> Strategy {
        Strategy {
            config,
            books: BTreeMap::new(),
            last_arbitrage: BTreeMap::new(),
            next_order_id: 1,
            next_pair_id: 1,
            report: Arc::default(),
        }
    }

    /// A handle on the strategy's report, to read it from another thread.
    pub fn report(&self) -> Arc<Mutex<StrategyReport>> {
        Arc::clone(&self.report)
    }

    /// The most profitable crossing now, if it beats the threshold: `(buy on, sell on, edge)`.
    fn best_crossing(&self, now_ns: u64) -> Option<(&str, &str, f64)> {
        let max_age = u64::try_from(self.config.max_quote_age.as_nanos()).unwrap_or(u64::MAX);
        let fresh = |top: &&Top| now_ns.saturating_sub(top.exchange_ts) <= max_age;
        let mut best: Option<(&str, &str, f64)> = None;
        for (buy_on, cheap) in self.books.iter().filter(|(_, top)| fresh(top)) {
            for (sell_on, rich) in self.books.iter().filter(|(_, top)| fresh(top)) {
                let (Some(buy_venue), Some(sell_venue)) = (venue(buy_on), venue(sell_on)) else {
                    continue;
                };
                if buy_on == sell_on {
                    continue;
                }
                let mid = (rich.bid + cheap.ask) / 2.0;
                let edge_bps = (rich.bid - cheap.ask) / mid * 10_000.0
                    - buy_venue.taker_fee_bps
                    - sell_venue.taker_fee_bps;
                if edge_bps >= self.config.threshold_bps
                    && best.is_none_or(|(_, _, best_edge)| edge_bps > best_edge)
                {
                    best = Some((buy_on, sell_on, edge_bps));
                }
            }
        }
        best
    }
}

impl hermes_runtime::Hooks<strategy::Outputs> for Strategy {
    fn on_stop(&mut self, _outputs: &mut strategy::Outputs) -> HandlerResult {
        let report = self.report.lock().unwrap_or_else(PoisonError::into_inner);
        let quotes: Vec<String> = report
            .quotes
            .iter()
            .map(|(exchange, count)| format!("{exchange} {count}"))
            .collect();
        tracing::info!(
            "strategy stopped: quotes seen {}; orders sent {}",
            quotes.join(", "),
            report.orders
        );
        Ok(())
    }
}

impl strategy::Handler for Strategy {
    fn on_quotes(
        &mut self,
        envelope: Envelope<Quote>,
        outputs: &mut strategy::Outputs,
    ) -> HandlerResult {
        let quote = envelope.message;
        *self
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .quotes
            .entry(quote.exchange.clone())
            .or_default() += 1;
        self.books.insert(
            quote.exchange,
            Top {
                bid: quote.bid,
                ask: quote.ask,
                bid_size: quote.bid_size,
                ask_size: quote.ask_size,
                exchange_ts: quote.exchange_ts,
            },
        );

        // The node's clock, not the wall clock: recorded time in a backtest, so that runs repeat.
        let now = hermes_runtime::clock_ns();
        let Some((buy_on, sell_on, edge_bps)) = self.best_crossing(now) else {
            return Ok(());
        };
        let pair = (buy_on.to_owned(), sell_on.to_owned());
        let cooldown = u64::try_from(self.config.cooldown.as_nanos()).unwrap_or(u64::MAX);
        if self
            .last_arbitrage
            .get(&pair)
            .is_some_and(|last| now.saturating_sub(*last) < cooldown)
        {
            return Ok(());
        }
        let (cheap, rich) = (self.books[&pair.0], self.books[&pair.1]);
        // Round down to a satoshi so the legs never exceed the displayed size.
        let size = (cheap
            .ask_size
            .min(rich.bid_size)
            .min(self.config.max_clip_btc)
            * 1e8)
            .floor()
            / 1e8;
        if size < 0.0001 {
            return Ok(());
        }
        self.last_arbitrage.insert(pair.clone(), now);
        let pair_id = self.next_pair_id;
        self.next_pair_id += 1;
        let reason = format!(
            "arb #{pair_id}: buy {} @ {:.2}, sell {} @ {:.2}, edge {:.1} bp after fees",
            pair.0, cheap.ask, pair.1, rich.bid, edge_bps
        );
        tracing::debug!("{reason}");
        for (exchange, side, price) in [
            (&pair.0, Side::Buy, cheap.ask),
            (&pair.1, Side::Sell, rich.bid),
        ] {
            let order = Order {
                id: self.next_order_id,
                pair_id,
                exchange: exchange.clone(),
                symbol: crate::exchange::SYMBOL.to_owned(),
                side: side.into(),
                price,
                size: round_to(size, 8),
                reason: reason.clone(),
                created_ts: now,
            };
            self.next_order_id += 1;
            outputs.orders(&order)?;
        }
        self.report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .orders += 2;
        Ok(())
    }
}
