// Moving sockets into the thread that uses them is the intended pattern.
use hermes_runtime::{Publisher, Receiver};

fn assert_send<T: Send>() {}

fn main() {
    assert_send::<Publisher<serde_json::Value>>();
    assert_send::<Receiver<serde_json::Value>>();
}
