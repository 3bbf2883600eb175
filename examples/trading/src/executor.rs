//! Node `executor`: paper-trades accepted orders against the synthetic books.

use std::collections::BTreeMap;

use hermes_runtime::{Envelope, HandlerResult};

use crate::exchange::{round_to, venue};
use crate::topology::nodes::executor;
use crate::{Fill, Level, Order, Quote, RiskDecision, Side};

/// Keeps each exchange's latest book and fills accepted orders against it, immediate-or-cancel:
/// walking the levels for the size, at whatever the book shows when the decision arrives.
#[derive(Debug, Default)]
pub struct Executor {
    books: BTreeMap<String, Quote>,
    fills: u64,
    unfilled: u64,
}

impl Executor {
    /// Fills `order` against the latest book of its exchange, or `None` if there is none yet.
    pub fn execute(&self, order: &Order) -> Option<Fill> {
        let book = self.books.get(&order.exchange)?;
        let venue = venue(&order.exchange)?;
        let levels: &[Level] = match order.side() {
            Side::Buy => &book.asks,
            Side::Sell => &book.bids,
        };
        let (mut left, mut filled, mut cost) = (order.size, 0.0, 0.0);
        for level in levels {
            let take = level.size.min(left);
            filled += take;
            cost += take * level.price;
            left -= take;
            if left <= 1e-9 {
                break;
            }
        }
        if filled <= 0.0 {
            return None;
        }
        let price = cost / filled;
        let worse = match order.side() {
            Side::Buy => price - order.price,
            Side::Sell => order.price - price,
        };
        Some(Fill {
            order_id: order.id,
            exchange: order.exchange.clone(),
            symbol: order.symbol.clone(),
            side: order.side,
            price,
            size: round_to(filled, 8),
            fee: venue.fee(cost),
            slippage_bps: worse / order.price * 10_000.0,
        })
    }
}

impl hermes_runtime::Hooks<executor::Outputs> for Executor {
    fn on_stop(&mut self, _outputs: &mut executor::Outputs) -> HandlerResult {
        tracing::info!(
            "executor stopped: {} fills, {} unfilled",
            self.fills,
            self.unfilled
        );
        Ok(())
    }
}

impl executor::Handler for Executor {
    fn on_quotes(
        &mut self,
        envelope: Envelope<Quote>,
        _outputs: &mut executor::Outputs,
    ) -> HandlerResult {
        let quote = envelope.message;
        self.books.insert(quote.exchange.clone(), quote);
        Ok(())
    }

    fn on_decisions(
        &mut self,
        envelope: Envelope<RiskDecision>,
        outputs: &mut executor::Outputs,
    ) -> HandlerResult {
        let decision = envelope.message;
        let Some(order) = decision.order.filter(|_| decision.accepted) else {
            return Ok(());
        };
        match self.execute(&order) {
            Some(fill) => {
                self.fills += 1;
                outputs.fills(&fill)?;
            }
            None => {
                self.unfilled += 1;
                tracing::warn!(order = order.id, exchange = %order.exchange, "no book to fill against");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hermes_runtime::Hooks as _;

    #[test]
    fn a_buy_walks_the_asks_and_pays_the_taker_fee() {
        let mut executor = Executor::default();
        executor.books.insert(
            "kraken".to_owned(),
            Quote {
                exchange: "kraken".to_owned(),
                asks: vec![
                    Level {
                        price: 60_000.0,
                        size: 0.1,
                    },
                    Level {
                        price: 60_010.0,
                        size: 1.0,
                    },
                ],
                ..Quote::default()
            },
        );
        let order = Order {
            id: 7,
            exchange: "kraken".to_owned(),
            side: Side::Buy.into(),
            price: 60_000.0,
            size: 0.2,
            ..Order::default()
        };
        let fill = executor.execute(&order).expect("fills");
        assert_eq!(fill.size, 0.2);
        assert!((fill.price - 60_005.0).abs() < 1e-9, "{}", fill.price);
        assert!((fill.fee - 12_001.0 * 0.001).abs() < 1e-9, "{}", fill.fee);
        assert!(fill.slippage_bps > 0.0);
        let _ = executor.tick_interval();
    }
}
