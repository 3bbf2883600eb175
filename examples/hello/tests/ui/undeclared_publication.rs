// `trader` does not publish `quotes/feed`: there is no method for it.
use hermes_example_hello::hello::{Quote, nodes::trader};

fn publish(outputs: &mut trader::Outputs, quote: &Quote) {
    outputs.quotes_feed(quote).unwrap();
}

fn main() {}
