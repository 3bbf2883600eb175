//! How a publisher packs envelopes into one ZeroMQ message under load.

/// Adaptive batching of a publisher's native envelopes.
///
/// Under load, consecutive envelopes of one topic go out as one ZeroMQ message (a *batch*:
/// still one topic frame, so proxies and subscription filters work unchanged), which saves
/// libzmq's per-message cost. At low rates nothing changes: an envelope goes out at once,
/// alone, unless it and the two before it each came less than `max_delay_us` after the one
/// before. A batch goes out as
/// soon as it holds `max_bytes`, and never waits longer than `max_delay_us` after its first
/// envelope was sent.
///
/// Off by default, since a receiver built before batching counts a batch as a decode error;
/// `python-json` publishers never batch (hermes-zmq 1.3 reads one envelope per message).
///
/// ```
/// use hermes_core::Batching;
///
/// let batching = Batching::DEFAULT;
/// assert_eq!((batching.max_delay_us, batching.max_bytes), (50, 64 * 1024));
/// assert!(batching.validate().is_ok());
/// assert!(Batching { max_bytes: 10, ..Batching::DEFAULT }.validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Batching {
    /// The longest an envelope waits in a batch, in microseconds.
    pub max_delay_us: u32,
    /// A batch goes out once its frame holds this many bytes.
    pub max_bytes: u32,
}

impl Batching {
    /// The smallest `max_bytes`: below it a batch holds too little to save anything.
    pub const MIN_BYTES: u32 = 256;

    /// The largest `max_bytes` (16 MiB, a receiver's default largest message).
    pub const MAX_BYTES: u32 = 16 * 1024 * 1024;

    /// The longest `max_delay_us` (1 s).
    pub const MAX_DELAY_US: u32 = 1_000_000;

    /// 50 µs and 64 KiB: a publisher sending 10,000 envelopes a second or fewer sends each at
    /// once, and one flooding its socket sends a message per 64 KiB (Zenoh's batch size too).
    /// A queue at its high-water mark holds that many batches, so memory there grows with
    /// `max_bytes`.
    pub const DEFAULT: Batching = Batching {
        max_delay_us: 50,
        max_bytes: 64 * 1024,
    };

    /// Checks that both bounds are within their limits.
    ///
    /// # Errors
    ///
    /// A message naming the bound that is out of range and its limits.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=Self::MAX_DELAY_US).contains(&self.max_delay_us) {
            return Err(format!(
                "`max_delay_us` expected 1 to {}, found {}",
                Self::MAX_DELAY_US,
                self.max_delay_us
            ));
        }
        if !(Self::MIN_BYTES..=Self::MAX_BYTES).contains(&self.max_bytes) {
            return Err(format!(
                "`max_bytes` expected {} to {}, found {}",
                Self::MIN_BYTES,
                Self::MAX_BYTES,
                self.max_bytes
            ));
        }
        Ok(())
    }
}

impl Default for Batching {
    fn default() -> Self {
        Batching::DEFAULT
    }
}
