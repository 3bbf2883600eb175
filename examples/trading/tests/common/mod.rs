//! What both desk tests share: receivers that audit every topic from the proxy's backend, and
//! waiting for a child process with a deadline.

use std::process::{Child, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hermes_runtime::{Context, Error, Message, Receiver, ReceiverStats};
use trading::topology::topics;
use trading::{Fill, Order, Quote, RiskDecision, Trade};

/// Receivers of every topic of the desk, each on its own thread until [`Audit::finish`].
pub struct Audit {
    stop: Arc<AtomicBool>,
    threads: Vec<(&'static str, JoinHandle<ReceiverStats>)>,
}

impl Audit {
    /// Subscribes to quotes, trades, orders, decisions and fills at `backend`.
    pub fn start(context: &Context, backend: &str) -> Audit {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = vec![
            (
                "quotes",
                receive::<Quote>(context, backend, topics::QUOTES, &stop),
            ),
            (
                "trades",
                receive::<Trade>(context, backend, topics::TRADES, &stop),
            ),
            (
                "orders",
                receive::<Order>(context, backend, topics::ORDERS, &stop),
            ),
            (
                "decisions",
                receive::<RiskDecision>(context, backend, topics::DECISIONS, &stop),
            ),
            (
                "fills",
                receive::<Fill>(context, backend, topics::FILLS, &stop),
            ),
        ];
        Audit { stop, threads }
    }

    /// Stops the receivers and asserts that each received something, and that nothing was
    /// undecodable, of the wrong type, or lost.
    pub fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        for (topic, thread) in self.threads {
            let stats = thread.join().expect("audit thread");
            assert_eq!(stats.decode_errors, 0, "{topic}: {stats:?}");
            assert_eq!(stats.type_mismatches, 0, "{topic}: {stats:?}");
            assert_eq!(stats.lost, 0, "{topic}: {stats:?}");
            assert!(stats.received > 0, "{topic}: {stats:?}");
        }
    }
}

/// Receives `topic` from `backend` on a thread until `stop`, then returns its counts.
fn receive<M: Message>(
    context: &Context,
    backend: &str,
    topic: &str,
    stop: &Arc<AtomicBool>,
) -> JoinHandle<ReceiverStats> {
    let mut receiver = Receiver::<M>::builder(context)
        .topic(topic)
        .connect(backend)
        .expect("audit receiver connects");
    let stop = Arc::clone(stop);
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match receiver.recv_timeout(Duration::from_millis(50)) {
                Ok(_) | Err(Error::Timeout) => {}
                Err(error) => panic!("audit receiver failed: {error}"),
            }
        }
        receiver.stats()
    })
}

/// `child`'s exit status, or `None` if it is still running at `deadline`.
pub fn exit_status_by(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
