//! A publisher's socket with its batch: shared with the process's flusher thread, which sends
//! a batch its owner left waiting past the batching delay.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use hermes_core::Batching;

use crate::envelope::batch::BatchWriter;
use crate::envelope::{Frames, Header, now_ns};
use crate::error::{Error, Result};

/// A batching publisher's socket and batch, and what the flusher reads without taking the lock.
pub(crate) struct Shared {
    batcher: Mutex<Batcher>,
    /// When the batch being filled started, ns since the Unix epoch; 0 when there is none.
    pending_since_ns: AtomicU64,
    /// Whether the flusher holds an entry for this publisher.
    scheduled: AtomicBool,
    max_delay_ns: u64,
    /// This publisher's entry in the flusher's queue.
    this: Weak<Shared>,
}

/// The socket and the batch being filled.
struct Batcher {
    socket: zmq::Socket,
    writer: BatchWriter,
    /// The topic frame of the batch being filled.
    topic: Vec<u8>,
    /// The fingerprint of the batch being filled.
    fingerprint: u64,
    /// When the socket last sent, ns since the Unix epoch.
    last_transmit_ns: u64,
    /// Envelopes in a row sent less than the batching delay after the one before.
    close_in_a_row: u32,
    max_bytes: usize,
}

/// Envelopes in a row that must come close together before the next starts a batch: a pair
/// sent together now and then (a paced sender catching up after a late wake-up) is not load,
/// and holding its second envelope back would only add latency.
const CLOSE_BEFORE_BATCHING: u32 = 2;

/// What [`Locked::add`] did with an envelope.
pub(crate) enum Added {
    /// The envelope went into the batch.
    Batched,
    /// Nothing is waiting and nothing was sent for a while: the caller sends the envelope at
    /// once, alone.
    Alone,
}

/// A [`Shared`] locked by its owner or the flusher.
pub(crate) struct Locked<'a> {
    shared: &'a Shared,
    batcher: MutexGuard<'a, Batcher>,
}

impl Shared {
    pub(crate) fn new(socket: zmq::Socket, batching: Batching) -> Arc<Shared> {
        Arc::new_cyclic(|this| Shared {
            batcher: Mutex::new(Batcher {
                socket,
                writer: BatchWriter::default(),
                topic: Vec::new(),
                fingerprint: 0,
                last_transmit_ns: 0,
                close_in_a_row: 0,
                max_bytes: batching.max_bytes as usize,
            }),
            pending_since_ns: AtomicU64::new(0),
            scheduled: AtomicBool::new(false),
            max_delay_ns: u64::from(batching.max_delay_us) * 1000,
            this: this.clone(),
        })
    }

    /// Locks the socket and batch; a batcher whose last user panicked is still consistent
    /// (every change to it completes or rolls back), so the poison is ignored.
    pub(crate) fn lock(&self) -> Locked<'_> {
        Locked {
            shared: self,
            batcher: self
                .batcher
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// The flusher's visit, without the lock unless a batch is due: when to come back, if ever.
    fn visit(&self) -> Option<Instant> {
        let since = self.pending_since_ns.load(Ordering::SeqCst);
        if since == 0 {
            self.scheduled.store(false, Ordering::SeqCst);
            // A batch started since the load found `scheduled` still set and left it to us.
            if self.pending_since_ns.load(Ordering::SeqCst) != 0
                && !self.scheduled.swap(true, Ordering::SeqCst)
            {
                return Some(Instant::now());
            }
            return None;
        }
        let now = now_ns();
        let due = since.saturating_add(self.max_delay_ns);
        if now < due {
            return Some(Instant::now() + Duration::from_nanos(due - now));
        }
        let mut locked = self.lock();
        if self.pending_since_ns.load(Ordering::SeqCst) == since
            && let Err(err) = locked.flush()
        {
            tracing::warn!("flushing a batch: {err}");
        }
        drop(locked);
        // Whatever started meanwhile is looked at afresh.
        Some(Instant::now())
    }
}

impl Locked<'_> {
    pub(crate) fn socket(&self) -> &zmq::Socket {
        &self.batcher.socket
    }

    /// Adds the envelope of `header` on `topic`, its payload written by `payload`, to the
    /// batch, unless it should go out alone (see [`Added`]). Sends the batch when it is full
    /// or its first envelope has waited the batching delay.
    ///
    /// # Errors
    ///
    /// What `payload` returns, with the batch as it was; [`Error::Zmq`] when a send fails.
    pub(crate) fn add(
        &mut self,
        topic: &str,
        header: &Header,
        origin: &str,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<Added> {
        let max_delay_ns = self.shared.max_delay_ns;
        let batcher = &mut *self.batcher;
        if batcher.writer.count() > 0
            && (batcher.topic != topic.as_bytes() || batcher.fingerprint != header.fingerprint)
        {
            self.flush()?;
        }
        let batcher = &mut *self.batcher;
        let now = header.timestamp_ns;
        let starting = batcher.writer.count() == 0;
        if starting {
            if now.saturating_sub(batcher.last_transmit_ns) >= max_delay_ns {
                batcher.close_in_a_row = 0;
            } else {
                batcher.close_in_a_row = batcher.close_in_a_row.saturating_add(1);
            }
            if batcher.close_in_a_row < CLOSE_BEFORE_BATCHING {
                batcher.last_transmit_ns = now;
                return Ok(Added::Alone);
            }
            batcher.writer.start(header, origin);
            batcher.topic.clear();
            batcher.topic.extend_from_slice(topic.as_bytes());
            batcher.fingerprint = header.fingerprint;
        }
        let pushed = batcher.writer.push_with(now, payload);
        if batcher.writer.count() == 0 {
            // The first envelope failed to encode: there is no batch.
            return pushed.map(|()| Added::Batched);
        }
        pushed?;
        let since = if starting {
            // Never 0, which means "no batch".
            let since = now.max(1);
            self.shared.pending_since_ns.store(since, Ordering::SeqCst);
            since
        } else {
            self.shared.pending_since_ns.load(Ordering::Relaxed)
        };
        if self.batcher.writer.len() >= self.batcher.max_bytes
            || now.saturating_sub(since) >= max_delay_ns
        {
            self.flush()?;
        } else if starting && !self.shared.scheduled.swap(true, Ordering::SeqCst) {
            flusher().schedule(
                Instant::now() + Duration::from_nanos(max_delay_ns),
                self.shared,
            );
        }
        Ok(Added::Batched)
    }

    /// Sends the frames of one envelope, after the batch being filled.
    pub(crate) fn send_frames(&mut self, frames: &mut Frames) -> Result<()> {
        self.flush()?;
        super::send_frames(&self.batcher.socket, frames)
    }

    /// Sends the batch being filled, if any.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the context is terminating; [`Error::Zmq`] otherwise.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.shared.pending_since_ns.store(0, Ordering::SeqCst);
        self.batcher.flush()
    }
}

impl Batcher {
    fn flush(&mut self) -> Result<()> {
        if self.writer.count() == 0 {
            return Ok(());
        }
        let body = self.writer.take(self.max_bytes + self.max_bytes / 4);
        self.last_transmit_ns = now_ns();
        self.socket
            .send(self.topic.as_slice(), zmq::SNDMORE)
            .and_then(|()| {
                if super::hand_over(body.len()) {
                    self.socket.send(body, 0)
                } else {
                    self.socket.send(body.as_slice(), 0)
                }
            })
            .map_err(super::send_error)
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        if let Err(err) = self.flush()
            && !matches!(err, Error::Disconnected)
        {
            tracing::warn!("flushing a batch at close: {err}");
        }
    }
}

/// The process's flusher: one thread that sends batches their publishers left waiting.
struct Flusher {
    queue: Mutex<Vec<(Instant, Weak<Shared>)>>,
    wake: Condvar,
}

fn flusher() -> &'static Flusher {
    static FLUSHER: OnceLock<&'static Flusher> = OnceLock::new();
    FLUSHER.get_or_init(|| {
        let flusher: &'static Flusher = Box::leak(Box::new(Flusher {
            queue: Mutex::new(Vec::new()),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("hermes-flusher".to_owned())
            .spawn(move || flusher.run())
            .map_err(|err| tracing::error!("cannot start the batch flusher: {err}"))
            .ok();
        flusher
    })
}

impl Flusher {
    fn schedule(&self, at: Instant, shared: &Shared) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let earliest = queue.iter().all(|(due, _)| at < *due);
        queue.push((at, shared.this.clone()));
        drop(queue);
        if earliest {
            self.wake.notify_one();
        }
    }

    fn run(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            queue.retain(|(at, shared)| {
                if *at <= now {
                    due.push(shared.clone());
                    false
                } else {
                    true
                }
            });
            if !due.is_empty() {
                drop(queue);
                let mut again = Vec::new();
                for weak in due {
                    // A publisher dropped since flushed its batch itself.
                    if let Some(shared) = weak.upgrade()
                        && let Some(at) = shared.visit()
                    {
                        again.push((at, weak));
                    }
                }
                queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                queue.extend(again);
                continue;
            }
            queue = match queue.iter().map(|(at, _)| *at).min() {
                Some(at) => {
                    let wait = at.saturating_duration_since(now);
                    self.wake
                        .wait_timeout(queue, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self.wake.wait(queue).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }
}
