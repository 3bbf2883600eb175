//! Hermes' showcase: a crypto-trading desk on synthetic markets, end to end.
//!
//! `topology.yaml` declares the desk; `build.rs` generates its typed messages and wiring, and
//! this crate supplies one hand-written handler per node:
//!
//! | node | handler | does |
//! | --- | --- | --- |
//! | `bitstamp`, `kraken`, `coinbase` | [`BitstampFeed`], [`KrakenFeed`], [`CoinbaseFeed`] | synthetic BTC/USD books: [`Quote`]s on `quotes/<exchange>`, [`Trade`]s on `trades/<exchange>` |
//! | `strategy` | [`Strategy`] | cross-exchange arbitrage: [`Order`]s when a crossed spread beats both fees |
//! | `risk` | [`Risk`] | position and notional limits: a [`RiskDecision`] per order |
//! | `executor` | [`Executor`] | paper-trades accepted orders against the books: [`Fill`]s |
//! | `monitor` | [`Monitor`] | a live [`Summary`] once a second |
//!
//! Everything goes through the `market` proxy (tcp://127.0.0.1:6000, 6001, capture 6002).
//! `cargo run -p trading` runs the whole desk in one process; `cargo run -p trading --bin
//! <node>` runs one node (or `market`, the proxy) as its own process. In code:
//!
//! ```no_run
//! use hermes_runtime::Runtime;
//! use trading::{DeskConfig, desk, topology};
//!
//! let mut runtime = Runtime::new()?;
//! let (handlers, reports) = desk(&DeskConfig::default());
//! topology::launch(&mut runtime, &topology::TOPOLOGY.inproc_wiring("doc"), handlers)?;
//! std::thread::sleep(std::time::Duration::from_secs(2));
//! runtime.stop();
//! println!("{}", reports.monitor.lock().unwrap());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, Mutex};

hermes_runtime::include_topology!("trading");

pub use self::trading as topology;
pub use self::trading::{Fill, Level, Order, Quote, RiskDecision, Side, Trade};

pub mod backtest;
pub mod cli;
pub mod exchange;
pub mod executor;
pub mod monitor;
pub mod pnl;
pub mod risk;
pub mod rng;
pub mod strategy;

pub use exchange::{BitstampFeed, CoinbaseFeed, KrakenFeed};
pub use executor::Executor;
pub use monitor::{Monitor, Summary};
pub use risk::{Risk, RiskLimits};
pub use strategy::{Strategy, StrategyConfig, StrategyReport};

/// How to set up the desk.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskConfig {
    /// Seed of the synthetic markets.
    pub seed: u64,
    /// The strategy's parameters.
    pub strategy: StrategyConfig,
    /// Risk's limits.
    pub limits: RiskLimits,
    /// Whether the monitor prints its summaries to stdout.
    pub print_summary: bool,
}

impl Default for DeskConfig {
    fn default() -> Self {
        DeskConfig {
            seed: 42,
            strategy: StrategyConfig::default(),
            limits: RiskLimits::default(),
            print_summary: true,
        }
    }
}

/// Handles on what the strategy and the monitor see, readable while the desk runs.
#[derive(Debug, Clone)]
pub struct Reports {
    /// The strategy's quote and order counts.
    pub strategy: Arc<Mutex<StrategyReport>>,
    /// The monitor's latest summary.
    pub monitor: Arc<Mutex<Summary>>,
}

/// A handler for every node of the desk, for [`topology::launch`], and handles on its reports.
pub fn desk(config: &DeskConfig) -> (topology::Handlers, Reports) {
    let strategy = Strategy::new(config.strategy);
    let monitor = if config.print_summary {
        Monitor::new()
    } else {
        Monitor::silent()
    };
    let reports = Reports {
        strategy: strategy.report(),
        monitor: monitor.summary(),
    };
    let handlers = topology::Handlers {
        bitstamp: Box::new(BitstampFeed::new(config.seed)),
        coinbase: Box::new(CoinbaseFeed::new(config.seed)),
        executor: Box::new(Executor::default()),
        kraken: Box::new(KrakenFeed::new(config.seed)),
        monitor: Box::new(monitor),
        risk: Box::new(Risk::new(config.limits)),
        strategy: Box::new(strategy),
    };
    (handlers, reports)
}
