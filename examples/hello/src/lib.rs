//! The smallest Hermes topology built through `build.rs`.
//!
//! `topology.yaml` declares three nodes and a proxy: `feed` publishes [`Quote`]s through the
//! `market` proxy, `trader` turns each into an [`Order`] on a port it binds, and `audit`
//! receives them. `build.rs` calls `hermes_build::compile("topology.yaml")`, and the line below
//! includes what it generated: the message types, a module per node with a typed `Outputs`
//! and a `Handler` trait (its start, tick and stop hooks are `hermes_runtime::Hooks`), and
//! `launch` for the whole topology.
//!
//! - `cargo run -p hermes-example-hello --bin hello` runs everything in one process;
//! - `cargo run -p hermes-example-hello --bin hello-market` (and `feed`, `trader`, `audit`) runs one
//!   piece as its own process, wired by the YAML's endpoints.

use std::sync::mpsc;
use std::time::Duration;

use hermes_runtime::{Envelope, HandlerResult, Hooks};

hermes_runtime::include_topology!("hello");

use hello::nodes::{audit, feed, trader};
pub use hello::{Order, Quote, Side};

/// Publishes a quote on every tick.
#[derive(Debug)]
pub struct Feed {
    /// Time between quotes.
    pub period: Duration,
    next: u64,
}

impl Feed {
    /// A feed that publishes every `period`.
    pub fn new(period: Duration) -> Feed {
        Feed { period, next: 0 }
    }
}

impl feed::Handler for Feed {}

impl Hooks<feed::Outputs> for Feed {
    fn tick_interval(&self) -> Option<Duration> {
        Some(self.period)
    }

    fn on_tick(&mut self, outputs: &mut feed::Outputs) -> HandlerResult {
        let quote = Quote {
            symbol: "BTC-EUR".into(),
            side: if self.next.is_multiple_of(2) {
                Side::Bid
            } else {
                Side::Ask
            }
            .into(),
            price: 50_000.0 + self.next as f64,
            seq: self.next,
            exchange_ts: None,
        };
        self.next += 1;
        outputs.quotes_feed(&quote)?;
        Ok(())
    }
}

/// Answers every quote with an order for the opposite side.
#[derive(Debug, Default)]
pub struct Trader;

impl Hooks<trader::Outputs> for Trader {}

impl trader::Handler for Trader {
    fn on_quotes(
        &mut self,
        envelope: Envelope<Quote>,
        outputs: &mut trader::Outputs,
    ) -> HandlerResult {
        let quote = envelope.message;
        let side = match quote.side() {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        };
        let order = Order {
            symbol: quote.symbol,
            side: side.into(),
            size: 0.1,
            quote_seq: quote.seq,
            tags: [("from".to_string(), envelope.origin.to_string())].into(),
            note: None,
        };
        outputs.orders(&order)?;
        Ok(())
    }
}

/// Hands every order it receives to a channel, or prints it when there is none.
#[derive(Debug, Default)]
pub struct Audit {
    sink: Option<mpsc::Sender<Envelope<Order>>>,
}

impl Audit {
    /// An audit that sends each order envelope to `sink`.
    pub fn to_channel(sink: mpsc::Sender<Envelope<Order>>) -> Audit {
        Audit { sink: Some(sink) }
    }
}

impl Hooks<audit::Outputs> for Audit {}

impl audit::Handler for Audit {
    fn on_orders(
        &mut self,
        envelope: Envelope<Order>,
        _outputs: &mut audit::Outputs,
    ) -> HandlerResult {
        match &self.sink {
            // A test that has seen enough drops its receiver; that is not the node's failure.
            Some(sink) => drop(sink.send(envelope)),
            None => println!(
                "order #{} from {}: {:?} {} {}",
                envelope.seq,
                envelope.origin,
                envelope.message.side(),
                envelope.message.size,
                envelope.message.symbol
            ),
        }
        Ok(())
    }
}

/// The handlers of the whole topology, with orders going to `orders` (or stdout).
pub fn handlers(orders: Option<mpsc::Sender<Envelope<Order>>>) -> hello::Handlers {
    hello::Handlers {
        audit: Box::new(Audit { sink: orders }),
        feed: Box::new(Feed::new(Duration::from_millis(10))),
        trader: Box::new(Trader),
    }
}
