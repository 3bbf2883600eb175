//! A topology over two hosts, for `hermes up --host`: the `hub` proxy on host `a`, and on
//! host `b` a `ticker` that publishes through it and a `tally` that counts what comes back.
//! Nothing in the code names an address: the generated wiring derives each connect address
//! from the `hosts:` section and where the other side binds.

use std::time::Duration;

use hermes_runtime::{Envelope, HandlerResult, Hooks};

hermes_runtime::include_topology!("multihost");

use multihost::nodes::{tally, ticker};
pub use multihost::{TOPOLOGY, Tick};

/// The ticker's options.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct TickerArgs {
    /// How many ticks to publish; then it idles until stopped.
    #[arg(long, default_value_t = u64::MAX)]
    pub count: u64,
    /// Ticks a second.
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
}

/// Publishes `count` ticks at `rate` a second, in batches every 10 ms.
#[derive(Debug)]
pub struct Ticker {
    args: TickerArgs,
    sent: u64,
}

impl Ticker {
    /// A ticker as `args` say.
    pub fn new(args: TickerArgs) -> Ticker {
        Ticker { args, sent: 0 }
    }
}

/// The ticker's batching period.
const PERIOD: Duration = Duration::from_millis(10);

impl Hooks<ticker::Outputs> for Ticker {
    fn tick_interval(&self) -> Option<Duration> {
        Some(PERIOD)
    }

    fn on_tick(&mut self, outputs: &mut ticker::Outputs) -> HandlerResult {
        let batch = (self.args.rate / 100).max(1);
        for _ in 0..batch {
            if self.sent >= self.args.count {
                break;
            }
            outputs.ticks(&Tick { n: self.sent })?;
            self.sent += 1;
        }
        Ok(())
    }

    fn on_stop(&mut self, _: &mut ticker::Outputs) -> HandlerResult {
        println!("ticker sent {}", self.sent);
        Ok(())
    }
}

impl ticker::Handler for Ticker {}

/// Counts ticks.
#[derive(Debug, Default)]
pub struct Tally {
    received: u64,
}

impl Hooks<tally::Outputs> for Tally {
    fn on_stop(&mut self, _: &mut tally::Outputs) -> HandlerResult {
        println!("tally received {}", self.received);
        Ok(())
    }
}

impl tally::Handler for Tally {
    fn on_ticks(&mut self, _: Envelope<Tick>, _: &mut tally::Outputs) -> HandlerResult {
        self.received += 1;
        Ok(())
    }
}
