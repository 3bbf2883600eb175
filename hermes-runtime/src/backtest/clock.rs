//! The virtual clock: recorded time, as the nodes of a running backtest see it.

use std::cell::Cell;

thread_local! {
    /// The backtest's time on this thread, ns since the Unix epoch; `None` outside a backtest.
    static VIRTUAL_NOW: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The time as a node sees it, in ns since the Unix epoch: the wall clock
/// ([`now_ns`](crate::now_ns)) when it runs live, the recorded time of the current event when
/// a [`Backtest`](super::Backtest) steps it.
///
/// Handlers that read the time with this instead of the wall clock behave the same live and
/// give the same results on every run of a backtest. The runtime itself stamps a backtest's
/// envelopes and measures their lag on the same clock.
///
/// # Examples
///
/// ```
/// // Outside a backtest, it is the wall clock.
/// let before = hermes_runtime::now_ns();
/// assert!(hermes_runtime::clock_ns() >= before);
/// ```
pub fn clock_ns() -> u64 {
    VIRTUAL_NOW
        .with(Cell::get)
        .unwrap_or_else(crate::envelope::now_ns)
}

/// Sets the virtual clock of this thread while it lives; restores what was there on drop.
pub(crate) struct VirtualClock {
    previous: Option<u64>,
}

impl VirtualClock {
    /// Starts the virtual clock at `now_ns`.
    pub(crate) fn start(now_ns: u64) -> VirtualClock {
        VirtualClock {
            previous: VIRTUAL_NOW.with(|now| now.replace(Some(now_ns))),
        }
    }

    /// Moves the clock to `now_ns`.
    pub(crate) fn set(&self, now_ns: u64) {
        VIRTUAL_NOW.with(|now| now.set(Some(now_ns)));
    }
}

impl Drop for VirtualClock {
    fn drop(&mut self) {
        VIRTUAL_NOW.with(|now| now.set(self.previous));
    }
}
