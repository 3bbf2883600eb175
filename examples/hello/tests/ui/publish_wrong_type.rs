// `orders` carries `Order`: publishing a `Quote` on it does not compile.
use hermes_example_hello::hello::{Quote, nodes::trader};

fn publish(outputs: &mut trader::Outputs, quote: &Quote) {
    outputs.orders(quote).unwrap();
}

fn main() {}
