//! Profit and loss of the desk's fills: what the monitor shows live and a backtest prints.

use std::collections::BTreeMap;

use crate::{Fill, Quote, Side};

/// Positions, cash and fees from fills, marked to each exchange's latest mid.
///
/// # Examples
///
/// ```
/// use trading::pnl::Ledger;
/// use trading::{Fill, Quote, Side};
///
/// let mut ledger = Ledger::default();
/// ledger.mark(&Quote { exchange: "kraken".into(), bid: 60_099.0, ask: 60_101.0, ..Quote::default() });
/// ledger.fill(&Fill {
///     exchange: "kraken".into(),
///     side: Side::Buy.into(),
///     price: 60_000.0,
///     size: 0.5,
///     fee: 30.0,
///     ..Fill::default()
/// });
/// assert_eq!(ledger.position_btc(), 0.5);
/// assert!((ledger.pnl_usd() - 20.0).abs() < 1e-9); // 0.5 × (60,100 − 60,000) − 30
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    positions: BTreeMap<String, f64>,
    mids: BTreeMap<String, f64>,
    cash_usd: f64,
    fees_usd: f64,
    fills: u64,
}

impl Ledger {
    /// Marks `quote`'s exchange to its mid.
    pub fn mark(&mut self, quote: &Quote) {
        self.mids
            .insert(quote.exchange.clone(), (quote.bid + quote.ask) / 2.0);
    }

    /// Books `fill`: its position, its cash and its fee.
    pub fn fill(&mut self, fill: &Fill) {
        let (signed, cash) = match fill.side() {
            Side::Buy => (fill.size, -fill.size * fill.price),
            Side::Sell => (-fill.size, fill.size * fill.price),
        };
        *self.positions.entry(fill.exchange.clone()).or_default() += signed;
        self.cash_usd += cash;
        self.fees_usd += fill.fee;
        self.fills += 1;
    }

    /// Fills booked.
    pub fn fills(&self) -> u64 {
        self.fills
    }

    /// Net position over all exchanges, in BTC.
    pub fn position_btc(&self) -> f64 {
        // `+ 0.0` turns a -0.0 sum into 0.0, so a flat book never prints as `-0.0000`.
        self.positions.values().sum::<f64>() + 0.0
    }

    /// Each exchange's position, in BTC.
    pub fn positions(&self) -> &BTreeMap<String, f64> {
        &self.positions
    }

    /// Fees paid, in USD.
    pub fn fees_usd(&self) -> f64 {
        self.fees_usd
    }

    /// Cash flows less fees, positions marked to each exchange's latest mid, in USD.
    pub fn pnl_usd(&self) -> f64 {
        let marked: f64 = self
            .positions
            .iter()
            .map(|(exchange, position)| position * self.mids.get(exchange).copied().unwrap_or(0.0))
            .sum();
        self.cash_usd - self.fees_usd + marked
    }
}
