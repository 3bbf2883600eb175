// A publisher shared between threads would let two threads use one ZeroMQ socket at once.
use hermes_runtime::{Context, Publisher};

fn main() {
    let publisher = Publisher::<serde_json::Value>::builder(&Context::new()).build().unwrap();
    let shared = std::sync::Arc::new(publisher);
    std::thread::spawn(move || drop(shared));
}
