// `trader` does not subscribe to `orders`: its handler has no such method to implement.
use hermes_example_hello::hello::{Order, nodes::trader};
use hermes_runtime::{Envelope, HandlerResult, Hooks};

struct Trader;

impl Hooks<trader::Outputs> for Trader {}

impl trader::Handler for Trader {
    fn on_quotes(
        &mut self,
        _: Envelope<hermes_example_hello::Quote>,
        _: &mut trader::Outputs,
    ) -> HandlerResult {
        Ok(())
    }

    fn on_orders(&mut self, _: Envelope<Order>, _: &mut trader::Outputs) -> HandlerResult {
        Ok(())
    }
}

fn main() {}
