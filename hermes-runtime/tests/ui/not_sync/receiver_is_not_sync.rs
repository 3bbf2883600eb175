// A receiver borrowed by two scoped threads at once is refused.
use hermes_runtime::{Context, Receiver};

fn main() {
    let receiver = Receiver::<serde_json::Value>::builder(&Context::new()).build().unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| receiver.stats());
        scope.spawn(|| receiver.stats());
    });
}
