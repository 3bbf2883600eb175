//! Synthetic exchanges: order books around a shared fair value, one handler per feed node.
//!
//! Every exchange quotes around the same BTC/USD fair value, a deterministic function of the
//! wall clock and the seed (so feeds in separate processes agree on it), plus a basis of its own:
//! a mean-reverting random walk with occasional sweeps, when someone hits one book hard. Sweeps
//! and noise open cross-exchange spreads now and then, which is what the strategy trades.

use std::time::Duration;

use hermes_runtime::HandlerResult;

use crate::rng::{Rng, mix, seed_for, value_noise};
use crate::topology::nodes::{bitstamp, coinbase, kraken};
use crate::{Level, Quote, Side, Trade};

/// The only instrument traded here.
pub const SYMBOL: &str = "BTC/USD";

/// Where the fair value starts from, in USD per BTC.
const FAIR_VALUE_ANCHOR: f64 = 60_000.0;

/// Levels published on each side of a book.
const LEVELS: usize = 5;

/// An exchange's fixed parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Venue {
    /// Node name and exchange name.
    pub name: &'static str,
    /// Decimals of the price tick: 2 for 0.01 USD, 1 for 0.1 USD.
    pub tick_decimals: i32,
    /// Taker fee, in basis points of the notional.
    pub taker_fee_bps: f64,
    /// Time between book updates.
    pub quote_interval: Duration,
    /// Mean half spread, in USD.
    pub half_spread_usd: f64,
    /// Mean size of the top level, in BTC.
    pub depth_btc: f64,
    /// Trades printed per second, on average.
    pub trades_per_second: f64,
}

impl Venue {
    /// The price tick, in USD.
    pub fn tick(&self) -> f64 {
        10f64.powi(-self.tick_decimals)
    }

    /// `price` rounded to a whole number of ticks.
    pub fn round_to_tick(&self, price: f64) -> f64 {
        round_to(price, self.tick_decimals)
    }

    /// The taker fee on `notional` USD.
    pub fn fee(&self, notional: f64) -> f64 {
        notional * self.taker_fee_bps / 10_000.0
    }
}

/// Bitstamp: tick 0.01, 100 updates a second, taker fee 0.03 % (a volume tier).
pub const BITSTAMP: Venue = Venue {
    name: "bitstamp",
    tick_decimals: 2,
    taker_fee_bps: 3.0,
    quote_interval: Duration::from_millis(10),
    half_spread_usd: 1.5,
    depth_btc: 0.4,
    trades_per_second: 6.0,
};

/// Kraken: tick 0.1, 50 updates a second, taker fee 0.10 % (a volume tier).
pub const KRAKEN: Venue = Venue {
    name: "kraken",
    tick_decimals: 1,
    taker_fee_bps: 10.0,
    quote_interval: Duration::from_millis(20),
    half_spread_usd: 2.5,
    depth_btc: 0.6,
    trades_per_second: 4.0,
};

/// Coinbase: tick 0.01, about 150 updates a second, taker fee 0.05 % (a volume tier).
pub const COINBASE: Venue = Venue {
    name: "coinbase",
    tick_decimals: 2,
    taker_fee_bps: 5.0,
    quote_interval: Duration::from_micros(6_667),
    half_spread_usd: 0.5,
    depth_btc: 0.3,
    trades_per_second: 10.0,
};

/// Every exchange of the topology.
pub const VENUES: [&Venue; 3] = [&BITSTAMP, &COINBASE, &KRAKEN];

/// The exchange named `name`, if it is one of [`VENUES`].
pub fn venue(name: &str) -> Option<&'static Venue> {
    VENUES.into_iter().find(|venue| venue.name == name)
}

/// The fair value of BTC/USD at `unix_ns`: the same in every process that shares `seed`.
///
/// Fractal value noise in log price, octave amplitudes growing with the square root of their
/// period as a random walk's do (about 1.2 bp per √s).
pub fn fair_value(seed: u64, unix_ns: u64) -> f64 {
    const SIGMA_PER_SQRT_SECOND: f64 = 1.2e-4;
    #[allow(
        clippy::cast_precision_loss,
        reason = "sub-microsecond precision is plenty"
    )]
    let seconds = unix_ns as f64 / 1e9;
    let log_deviation: f64 = [1.0_f64, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0]
        .iter()
        .zip(0u64..)
        .map(|(period, octave)| {
            SIGMA_PER_SQRT_SECOND
                * period.sqrt()
                * value_noise(mix(seed.wrapping_add(octave)), seconds / period)
        })
        .sum();
    FAIR_VALUE_ANCHOR * log_deviation.exp()
}

/// One synthetic exchange: its book and trades, stepped by the feed node's tick.
#[derive(Debug, Clone)]
pub struct Exchange {
    venue: &'static Venue,
    seed: u64,
    rng: Rng,
    basis: f64,
    last_ns: Option<u64>,
    next_trade_id: u64,
}

impl Exchange {
    /// Basis volatility at equilibrium, in USD.
    const BASIS_SIGMA_USD: f64 = 8.0;
    /// Basis half-life, in seconds.
    const BASIS_HALF_LIFE: f64 = 0.5;
    /// Sweeps per second, on average.
    const SWEEPS_PER_SECOND: f64 = 0.3;

    /// Exchange `venue`, with a fair value and noise drawn from `seed`.
    pub fn new(venue: &'static Venue, seed: u64) -> Exchange {
        Exchange {
            venue,
            seed,
            rng: Rng::new(seed_for(seed, venue.name)),
            basis: 0.0,
            last_ns: None,
            next_trade_id: 1,
        }
    }

    /// The exchange's parameters.
    pub fn venue(&self) -> &'static Venue {
        self.venue
    }

    /// Moves the book to `now_ns` and returns it, with a trade if one printed meanwhile.
    pub fn step(&mut self, now_ns: u64) -> (Quote, Option<Trade>) {
        #[allow(clippy::cast_precision_loss, reason = "nanoseconds between two ticks")]
        let dt = self
            .last_ns
            .map_or(0.0, |last| now_ns.saturating_sub(last) as f64 / 1e9)
            .min(1.0);
        self.last_ns = Some(now_ns);
        let mut trade = None;

        // Ornstein–Uhlenbeck basis: decays towards 0, noise keeps its spread at BASIS_SIGMA_USD.
        let decay = (-std::f64::consts::LN_2 / Self::BASIS_HALF_LIFE * dt).exp();
        self.basis = self.basis * decay
            + Self::BASIS_SIGMA_USD * (1.0 - decay * decay).sqrt() * self.rng.normal();
        if self.rng.chance(Self::SWEEPS_PER_SECOND * dt) {
            let side = if self.rng.chance(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let push = 30.0 + 90.0 * self.rng.uniform();
            self.basis += if side == Side::Buy { push } else { -push };
            let size = 0.5 + 2.5 * self.rng.uniform();
            trade = Some((side, size));
        }

        let mid = fair_value(self.seed, now_ns) + self.basis + 0.5 * self.rng.normal();
        let tick = self.venue.tick();
        let half_spread = self
            .rng
            .exponential(self.venue.half_spread_usd)
            .max(tick / 2.0);
        let bid = self
            .venue
            .round_to_tick(((mid - half_spread) / tick).floor() * tick);
        let ask = self
            .venue
            .round_to_tick(((mid + half_spread) / tick).ceil() * tick)
            .max(self.venue.round_to_tick(bid + tick));
        let bids = self.side_levels(bid, -1.0);
        let asks = self.side_levels(ask, 1.0);

        if trade.is_none() && self.rng.chance(self.venue.trades_per_second * dt) {
            let side = if self.rng.chance(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            trade = Some((side, self.rng.exponential(0.05)));
        }
        let trade = trade.map(|(side, size)| {
            let id = self.next_trade_id;
            self.next_trade_id += 1;
            Trade {
                exchange: self.venue.name.to_owned(),
                symbol: SYMBOL.to_owned(),
                id,
                side: side.into(),
                price: if side == Side::Buy { ask } else { bid },
                size: round_to(size.max(0.0001), 8),
                exchange_ts: now_ns,
            }
        });
        let quote = Quote {
            exchange: self.venue.name.to_owned(),
            symbol: SYMBOL.to_owned(),
            bid,
            ask,
            bid_size: bids[0].size,
            ask_size: asks[0].size,
            bids,
            asks,
            exchange_ts: now_ns,
        };
        (quote, trade)
    }

    /// [`LEVELS`] levels from `top`, away from the spread in `direction` (-1 bids, +1 asks).
    fn side_levels(&mut self, top: f64, direction: f64) -> Vec<Level> {
        let tick = self.venue.tick();
        let mut price = top;
        (0..LEVELS)
            .map(|depth| {
                if depth > 0 {
                    let gap = self
                        .venue
                        .round_to_tick(0.5 + self.rng.exponential(1.5))
                        .max(tick);
                    price = self.venue.round_to_tick(price + direction * gap);
                }
                #[allow(clippy::cast_precision_loss, reason = "depth is below 10")]
                let mean = self.venue.depth_btc * (1.0 + 0.5 * depth as f64);
                Level {
                    price,
                    size: round_to(self.rng.exponential(mean) + 0.0001, 8),
                }
            })
            .collect()
    }
}

/// `value` rounded to `decimals` decimal places.
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

macro_rules! feed_node {
    ($(#[$doc:meta])* $feed:ident, $node:ident, $venue:expr, $quotes:ident, $trades:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $feed(Exchange);

        impl $feed {
            /// The feed, with markets drawn from `seed`.
            pub fn new(seed: u64) -> $feed {
                $feed(Exchange::new(&$venue, seed))
            }
        }

        impl hermes_runtime::Hooks<$node::Outputs> for $feed {
            fn tick_interval(&self) -> Option<Duration> {
                Some(self.0.venue.quote_interval)
            }

            fn on_start(&mut self, _outputs: &mut $node::Outputs) -> HandlerResult {
                tracing::info!(exchange = self.0.venue.name, "feed started");
                Ok(())
            }

            fn on_tick(&mut self, outputs: &mut $node::Outputs) -> HandlerResult {
                let (quote, trade) = self.0.step(hermes_runtime::now_ns());
                outputs.$quotes(&quote)?;
                if let Some(trade) = trade {
                    outputs.$trades(&trade)?;
                }
                Ok(())
            }
        }

        impl $node::Handler for $feed {}
    };
}

feed_node!(
    /// Node `bitstamp`: the synthetic Bitstamp feed.
    BitstampFeed, bitstamp, BITSTAMP, quotes_bitstamp, trades_bitstamp
);
feed_node!(
    /// Node `kraken`: the synthetic Kraken feed.
    KrakenFeed, kraken, KRAKEN, quotes_kraken, trades_kraken
);
feed_node!(
    /// Node `coinbase`: the synthetic Coinbase feed.
    CoinbaseFeed, coinbase, COINBASE, quotes_coinbase, trades_coinbase
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn books_are_on_ticks_and_never_crossed() {
        for venue in VENUES {
            let mut exchange = Exchange::new(venue, 42);
            for i in 0..5_000u64 {
                let (quote, _) = exchange.step(1_700_000_000_000_000_000 + i * 10_000_000);
                assert!(quote.bid < quote.ask, "{quote:?}");
                for level in quote.bids.iter().chain(&quote.asks) {
                    let ticks = level.price / venue.tick();
                    assert!((ticks - ticks.round()).abs() < 1e-6, "{}", level.price);
                    assert!(level.size > 0.0);
                }
                assert!(quote.bids.windows(2).all(|w| w[0].price > w[1].price));
                assert!(quote.asks.windows(2).all(|w| w[0].price < w[1].price));
            }
        }
    }

    #[test]
    fn fair_value_is_shared_and_realistic() {
        let t = 1_700_000_000_000_000_000;
        assert_eq!(fair_value(1, t), fair_value(1, t));
        for minute in 0..600 {
            let price = fair_value(1, t + minute * 60_000_000_000);
            assert!((55_000.0..65_000.0).contains(&price), "{price}");
        }
    }

    #[test]
    fn exchanges_stay_close_but_cross_now_and_then() {
        let mut exchanges: Vec<Exchange> = VENUES.iter().map(|v| Exchange::new(v, 7)).collect();
        let mut crossed = 0;
        let steps = 60_000u64; // ten minutes at 100 Hz
        for i in 0..steps {
            let now = 1_700_000_000_000_000_000 + i * 10_000_000;
            let quotes: Vec<Quote> = exchanges.iter_mut().map(|e| e.step(now).0).collect();
            let best_bid = quotes.iter().map(|q| q.bid).fold(f64::MIN, f64::max);
            let best_ask = quotes.iter().map(|q| q.ask).fold(f64::MAX, f64::min);
            assert!(best_bid - best_ask < 400.0, "{quotes:?}");
            if best_bid - best_ask > 75.0 {
                crossed += 1;
            }
        }
        eprintln!("crossed by more than $75 in {crossed} of {steps} steps");
        // Sweeps (0.3 a second per exchange, decaying with a 0.5 s half-life) keep some pair
        // crossed by more than the widest fee pair for roughly a tenth of the time.
        assert!(
            crossed > steps / 1000 && crossed < steps / 5,
            "{crossed} of {steps}"
        );
    }
}
