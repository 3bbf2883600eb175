//! Node `risk`: pre-trade limits on every order.

use std::collections::BTreeMap;

use hermes_runtime::{Envelope, HandlerResult};

use crate::exchange::venue;
use crate::topology::nodes::risk;
use crate::{Order, RiskDecision, Side};

/// The limits risk enforces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskLimits {
    /// Largest absolute position on one exchange, in BTC, counting every accepted order.
    pub max_position_btc: f64,
    /// Largest notional of one order, in USD.
    pub max_order_notional_usd: f64,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_position_btc: 0.5,
            max_order_notional_usd: 10_000.0,
        }
    }
}

/// Accepts an order when it is well-formed, its notional is within the limit, and the position
/// it would leave on its exchange is within the limit (or smaller than now).
///
/// Positions count accepted orders as if filled in full, before the executor reports: the
/// conservative view, since the executor never fills more than it was given.
#[derive(Debug, Default)]
pub struct Risk {
    limits: RiskLimits,
    positions: BTreeMap<String, f64>,
    accepted: u64,
    rejected: u64,
}

impl Risk {
    /// Risk with `limits`.
    pub fn new(limits: RiskLimits) -> Risk {
        Risk {
            limits,
            ..Risk::default()
        }
    }

    /// Decides on `order`, updating positions when it is accepted; `Err` is the reason to reject.
    pub fn check(&mut self, order: &Order) -> Result<(), String> {
        if venue(&order.exchange).is_none() {
            return Err(format!("unknown exchange `{}`", order.exchange));
        }
        if !(order.size.is_finite()
            && order.size > 0.0
            && order.price.is_finite()
            && order.price > 0.0)
        {
            return Err(format!(
                "invalid size {} or price {}",
                order.size, order.price
            ));
        }
        let notional = order.size * order.price;
        if notional > self.limits.max_order_notional_usd {
            return Err(format!(
                "notional ${notional:.0} over the ${:.0} limit",
                self.limits.max_order_notional_usd
            ));
        }
        let position = self.positions.get(&order.exchange).copied().unwrap_or(0.0);
        let signed = match order.side() {
            Side::Buy => order.size,
            Side::Sell => -order.size,
        };
        let after = position + signed;
        if after.abs() > self.limits.max_position_btc && after.abs() > position.abs() {
            return Err(format!(
                "position on {} would be {after:+.4} BTC, over the {} BTC limit",
                order.exchange, self.limits.max_position_btc
            ));
        }
        self.positions.insert(order.exchange.clone(), after);
        Ok(())
    }
}

impl hermes_runtime::Hooks<risk::Outputs> for Risk {
    fn on_stop(&mut self, _outputs: &mut risk::Outputs) -> HandlerResult {
        let positions: Vec<String> = self
            .positions
            .iter()
            .map(|(exchange, btc)| format!("{exchange} {btc:+.4} BTC"))
            .collect();
        tracing::info!(
            "risk stopped: {} accepted, {} rejected; positions {}",
            self.accepted,
            self.rejected,
            if positions.is_empty() {
                "flat".to_owned()
            } else {
                positions.join(", ")
            }
        );
        Ok(())
    }
}

impl risk::Handler for Risk {
    fn on_orders(
        &mut self,
        envelope: Envelope<Order>,
        outputs: &mut risk::Outputs,
    ) -> HandlerResult {
        let order = envelope.message;
        let (accepted, reason) = match self.check(&order) {
            Ok(()) => {
                self.accepted += 1;
                (true, "within limits".to_owned())
            }
            Err(reason) => {
                self.rejected += 1;
                tracing::debug!(order = order.id, "rejected: {reason}");
                (false, reason)
            }
        };
        outputs.decisions(&RiskDecision {
            order_id: order.id,
            accepted,
            reason,
            order: Some(order),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(exchange: &str, side: Side, size: f64) -> Order {
        Order {
            exchange: exchange.to_owned(),
            side: side.into(),
            price: 60_000.0,
            size,
            ..Order::default()
        }
    }

    #[test]
    fn rejects_orders_over_the_notional_limit() {
        let mut risk = Risk::default();
        let reason = risk.check(&order("kraken", Side::Buy, 0.25)).unwrap_err();
        assert_eq!(reason, "notional $15000 over the $10000 limit");
    }

    #[test]
    fn rejects_growing_a_position_past_the_limit_but_allows_reducing_it() {
        let mut risk = Risk::default();
        for _ in 0..3 {
            risk.check(&order("bitstamp", Side::Buy, 0.15))
                .expect("within limits");
        }
        let reason = risk.check(&order("bitstamp", Side::Buy, 0.15)).unwrap_err();
        assert!(
            reason.starts_with("position on bitstamp would be +0.6000 BTC"),
            "{reason}"
        );
        risk.check(&order("bitstamp", Side::Sell, 0.15))
            .expect("reduces");
    }

    #[test]
    fn rejects_unknown_exchanges_and_nonsense_sizes() {
        let mut risk = Risk::default();
        assert!(risk.check(&order("mtgox", Side::Buy, 0.1)).is_err());
        assert!(risk.check(&order("kraken", Side::Buy, f64::NAN)).is_err());
        assert!(risk.check(&order("kraken", Side::Sell, -1.0)).is_err());
    }
}
