//! The slow-subscriber warning is rate-limited. A test binary of its own: it installs the
//! process's global tracing subscriber, which tests running in parallel would share.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::stale_then_fresh;
use hermes_runtime::SlowSubscriberAction;

/// Ten stale envelopes read in a burst make one warning, not ten: a lagging subscriber cannot
/// flood its log.
#[test]
fn warn_logs_at_most_once_a_second() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let log = Arc::clone(&log);
        move || SharedLog(Arc::clone(&log))
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let (receiver, outcomes) = stale_then_fresh(SlowSubscriberAction::Warn);
    assert_eq!(outcomes.len(), 11);
    assert_eq!(receiver.stats().lagging, 10);
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert_eq!(text.matches("slow subscriber").count(), 1, "{text}");
}

/// A log that the test reads back.
struct SharedLog(Arc<Mutex<Vec<u8>>>);

impl Write for SharedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
