//! Safe setters for the libzmq socket options the `zmq` crate 0.10 does not wrap.
//!
//! Every other Hermes crate forbids `unsafe`; this one holds the few direct calls into
//! libzmq (through the workspace's `zmq-sys`) that the `zmq` crate has no method for, each
//! behind a safe function. When the `zmq` crate gains them, delete this crate.
//!
//! ```
//! let context = zmq::Context::new();
//! let mut socket = context.socket(zmq::XPUB)?;
//! zmq_ext::set_xpub_manual(&mut socket, true)?;
//! # Ok::<(), zmq::Error>(())
//! ```

use std::os::raw::{c_int, c_void};

/// Sets `ZMQ_XPUB_MANUAL` on an XPUB socket: with it on, a subscription a peer sends is
/// reported to the application (as `1` followed by the prefix) but applied only when the
/// application then calls `set_subscribe` with it (and `set_unsubscribe` likewise), for the
/// peer whose message it read last.
///
/// # Errors
///
/// `EINVAL` on a socket that is not an XPUB; `ETERM` when its context is terminating.
pub fn set_xpub_manual(socket: &mut zmq::Socket, on: bool) -> zmq::Result<()> {
    let value: c_int = c_int::from(on);
    let raw = socket.as_mut_ptr();
    // SAFETY: `raw` is the live socket `socket` owns, borrowed mutably for the call so no other
    // thread uses it; libzmq reads `size_of::<c_int>()` bytes from `&value`, which outlives the
    // call, and keeps no pointer to it.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            raw,
            zmq_sys::ZMQ_XPUB_MANUAL as c_int,
            (&raw const value).cast::<c_void>(),
            std::mem::size_of::<c_int>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        // SAFETY: `zmq_errno` only reads the calling thread's errno.
        Err(zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_xpub_sockets_take_the_manual_option() {
        let context = zmq::Context::new();
        let mut xpub = context.socket(zmq::XPUB).unwrap();
        super::set_xpub_manual(&mut xpub, true).unwrap();
        let mut sub = context.socket(zmq::SUB).unwrap();
        assert_eq!(
            super::set_xpub_manual(&mut sub, true),
            Err(zmq::Error::EINVAL)
        );
    }
}
