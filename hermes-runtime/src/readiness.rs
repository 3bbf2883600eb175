//! Whether a process is ready: what `/readyz` reports.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A process's readiness flag, read by the metrics server's `/readyz`; cheap to clone, and
/// every clone is the same flag. It starts not ready.
///
/// # Examples
///
/// ```
/// use hermes_runtime::Readiness;
///
/// let readiness = Readiness::new();
/// let probe = readiness.clone();
/// assert!(!probe.is_ready());
/// readiness.set_ready();
/// assert!(probe.is_ready());
/// readiness.set_not_ready();
/// assert!(!probe.is_ready());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    ready: Arc<AtomicBool>,
}

impl Readiness {
    /// A flag that is not ready.
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// Marks the process ready: `/readyz` answers 200.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// Marks the process not ready: `/readyz` answers 503.
    pub fn set_not_ready(&self) {
        self.ready.store(false, Ordering::Release);
    }

    /// Whether [`set_ready`](Readiness::set_ready) was called (and not undone).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
