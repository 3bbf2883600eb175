//! A publisher's socket with its batch: shared with the process's flusher thread, which sends
//! a batch its owner left waiting past the batching delay.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use hermes_core::Batching;

use crate::envelope::batch::BatchWriter;
use crate::envelope::{Frames, Header};
use crate::error::{Error, Result};

/// A socket whose envelopes may be batched, and the batch being filled.
pub(crate) struct Batcher {
    socket: zmq::Socket,
    writer: BatchWriter,
    /// The topic frame of the batch being filled.
    topic: Vec<u8>,
    /// The fingerprint of the batch being filled.
    fingerprint: u64,
    /// When the batch's first envelope was sent, ns since the Unix epoch.
    started_ns: u64,
    /// When the socket last sent, ns since the Unix epoch.
    last_transmit_ns: u64,
    max_delay_ns: u64,
    max_bytes: usize,
    /// Whether the flusher holds an entry for this batcher.
    scheduled: bool,
    /// This batcher, as the flusher holds it.
    this: Weak<Mutex<Batcher>>,
}

/// What [`Batcher::add`] did with an envelope.
pub(crate) enum Added {
    /// The envelope went into the batch.
    Batched,
    /// Nothing is waiting and nothing was sent for a while: the caller sends the envelope at
    /// once, alone.
    Alone,
}

impl Batcher {
    pub(crate) fn new(socket: zmq::Socket, batching: Batching) -> Arc<Mutex<Batcher>> {
        Arc::new_cyclic(|this| {
            Mutex::new(Batcher {
                socket,
                writer: BatchWriter::default(),
                topic: Vec::new(),
                fingerprint: 0,
                started_ns: 0,
                last_transmit_ns: 0,
                max_delay_ns: u64::from(batching.max_delay_us) * 1000,
                max_bytes: batching.max_bytes as usize,
                scheduled: false,
                this: this.clone(),
            })
        })
    }

    /// Locks `shared`; a batcher whose last user panicked is still consistent (every change
    /// to it completes or rolls back), so the poison is ignored.
    pub(crate) fn lock(shared: &Mutex<Batcher>) -> MutexGuard<'_, Batcher> {
        shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn socket(&self) -> &zmq::Socket {
        &self.socket
    }

    /// Adds the envelope of `header` on `topic`, its payload written by `payload`, to the
    /// batch, unless it should go out alone (see [`Added`]). Sends the batch when it is full
    /// or its first envelope has waited `max_delay`.
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
        let pending = self.writer.count() > 0;
        if pending && (self.topic != topic.as_bytes() || self.fingerprint != header.fingerprint) {
            self.flush()?;
        }
        let now = header.timestamp_ns;
        if self.writer.count() == 0 {
            if now.saturating_sub(self.last_transmit_ns) >= self.max_delay_ns {
                self.last_transmit_ns = now;
                return Ok(Added::Alone);
            }
            self.writer.start(header, origin);
            self.topic.clear();
            self.topic.extend_from_slice(topic.as_bytes());
            self.fingerprint = header.fingerprint;
            self.started_ns = now;
        }
        let pushed = self.writer.push_with(now, payload);
        if self.writer.count() == 0 {
            // The first envelope failed to encode: there is no batch.
            return pushed.map(|()| Added::Batched);
        }
        pushed?;
        if self.writer.len() >= self.max_bytes
            || now.saturating_sub(self.started_ns) >= self.max_delay_ns
        {
            self.flush()?;
        } else if !self.scheduled {
            self.scheduled = true;
            let wait = Duration::from_nanos(self.max_delay_ns);
            flusher().schedule(Instant::now() + wait, self.this.clone());
        }
        Ok(Added::Batched)
    }

    /// Sends the frames of one envelope.
    pub(crate) fn send_frames(&mut self, frames: &mut Frames) -> Result<()> {
        if self.writer.count() > 0 {
            self.flush()?;
        }
        super::send_frames(&self.socket, frames)
    }

    /// Sends the batch being filled, if any.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the context is terminating; [`Error::Zmq`] otherwise.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.writer.count() == 0 {
            return Ok(());
        }
        let body = self.writer.take(self.max_bytes + self.max_bytes / 4);
        self.last_transmit_ns = crate::envelope::now_ns();
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

    /// The flusher's visit: sends the batch if it has waited long enough, or asks to come
    /// back when it will have.
    fn visit(&mut self) -> Option<Instant> {
        if self.writer.count() == 0 {
            self.scheduled = false;
            return None;
        }
        let now = crate::envelope::now_ns();
        let due = self.started_ns.saturating_add(self.max_delay_ns);
        if now >= due {
            if let Err(err) = self.flush() {
                tracing::warn!("flushing a batch: {err}");
            }
            self.scheduled = false;
            return None;
        }
        Some(Instant::now() + Duration::from_nanos(due - now))
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

/// How soon the flusher looks again at a batcher whose owner held its lock.
const RETRY_BUSY: Duration = Duration::from_micros(20);

/// The process's flusher: one thread that sends batches their publishers left waiting.
struct Flusher {
    queue: Mutex<Vec<(Instant, Weak<Mutex<Batcher>>)>>,
    wake: std::sync::Condvar,
}

fn flusher() -> &'static Flusher {
    static FLUSHER: OnceLock<&'static Flusher> = OnceLock::new();
    FLUSHER.get_or_init(|| {
        let flusher: &'static Flusher = Box::leak(Box::new(Flusher {
            queue: Mutex::new(Vec::new()),
            wake: std::sync::Condvar::new(),
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
    fn schedule(&self, at: Instant, batcher: Weak<Mutex<Batcher>>) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let earliest = queue.iter().all(|(due, _)| at < *due);
        queue.push((at, batcher));
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
            queue.retain(|(at, batcher)| {
                if *at <= now {
                    due.push(batcher.clone());
                    false
                } else {
                    true
                }
            });
            if !due.is_empty() {
                drop(queue);
                let mut again = Vec::new();
                for batcher in due {
                    // A publisher dropped since flushed its batch itself.
                    let Some(shared) = batcher.upgrade() else {
                        continue;
                    };
                    let next = match shared.try_lock() {
                        Ok(mut locked) => locked.visit(),
                        Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                            poisoned.into_inner().visit()
                        }
                        // Its owner is sending, and sends a batch that has waited long
                        // enough itself; look again shortly in case that was its last send.
                        // Waiting for the lock would make the owner wake this thread.
                        Err(std::sync::TryLockError::WouldBlock) => {
                            Some(Instant::now() + RETRY_BUSY)
                        }
                    };
                    if let Some(at) = next {
                        again.push((at, batcher));
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
