//! The shared ZeroMQ context.

use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::security::ZapSlot;

/// A ZeroMQ context: the I/O threads and socket registry that sockets of one process share.
///
/// Cloning is cheap (a reference count); every clone is the same context. A process normally uses
/// one, [`Context::shared`]; tests make their own with [`Context::new`] so that `inproc://`
/// endpoints of parallel tests cannot collide.
///
/// # Examples
///
/// ```
/// use hermes_runtime::Context;
///
/// let context = Context::with_io_threads(2)?;
/// assert_eq!(context.io_threads(), 2);
/// let same = context.clone();
/// assert_eq!(same.io_threads(), 2);
/// # Ok::<(), hermes_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    inner: zmq::Context,
    /// The ZAP authenticator of this context's CURVE server sockets, while there are any.
    zap: Arc<ZapSlot>,
    /// The metrics sockets made on this context count into, once enabled.
    metrics: Arc<OnceLock<Metrics>>,
}

impl Context {
    /// A new context with libzmq's default of one I/O thread.
    pub fn new() -> Context {
        Context {
            inner: zmq::Context::new(),
            zap: Arc::default(),
            metrics: Arc::default(),
        }
    }

    /// A new context with `threads` I/O threads (one per gigabit per second of traffic is
    /// libzmq's rule of thumb).
    ///
    /// # Errors
    ///
    /// [`Error::Zmq`] when libzmq refuses the number.
    pub fn with_io_threads(threads: i32) -> Result<Context> {
        let context = Context::new();
        context
            .inner
            .set_io_threads(threads)
            .map_err(Error::zmq("set io threads"))?;
        Ok(context)
    }

    /// The process-wide context, created on first use.
    pub fn shared() -> Context {
        static SHARED: OnceLock<Context> = OnceLock::new();
        SHARED.get_or_init(Context::new).clone()
    }

    /// The number of I/O threads.
    pub fn io_threads(&self) -> i32 {
        self.inner.get_io_threads().unwrap_or(1)
    }

    /// Turns on Prometheus metrics for this context (every clone of it): publishers,
    /// receivers and proxies made on it from now on count into the returned registry, which is
    /// the same on every call. See [`metrics`](crate::metrics) for what is counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_runtime::Context;
    ///
    /// let context = Context::new();
    /// assert!(context.metrics().is_none());
    /// let metrics = context.enable_metrics();
    /// assert!(context.clone().metrics().is_some());
    /// # drop(metrics);
    /// ```
    pub fn enable_metrics(&self) -> Metrics {
        self.metrics.get_or_init(Metrics::new).clone()
    }

    /// This context's metrics, if [`enable_metrics`](Context::enable_metrics) was called.
    pub fn metrics(&self) -> Option<Metrics> {
        self.metrics.get().cloned()
    }

    /// The underlying `zmq` context, for our own tests and benchmark, which make raw sockets
    /// to compare against or to send what Hermes never would (`__private::zmq_context`).
    pub(crate) fn as_zmq(&self) -> &zmq::Context {
        &self.inner
    }

    pub(crate) fn zap_slot(&self) -> &Arc<ZapSlot> {
        &self.zap
    }

    /// Whether this context's ZAP authenticator thread is running: while any CURVE server
    /// socket made on it is open.
    pub(crate) fn authenticator_running(&self) -> bool {
        crate::security::zap_running(&self.zap)
    }

    pub(crate) fn socket(&self, kind: zmq::SocketType) -> Result<zmq::Socket> {
        self.inner.socket(kind).map_err(Error::zmq("create socket"))
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::new()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("io_threads", &self.io_threads())
            .finish()
    }
}

/// A high-water mark as libzmq takes it: 0 is no limit, and anything past `i32::MAX` is as good
/// as none.
pub(crate) fn zmq_hwm(hwm: u32) -> i32 {
    i32::try_from(hwm).unwrap_or(i32::MAX)
}
