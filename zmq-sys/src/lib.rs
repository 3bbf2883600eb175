//! The C API of libzmq 4.3, declared for the `zmq` crate, with libzmq built against libsodium
//! so that CURVE is present.
//!
//! crates.io's zmq-sys 0.12 builds libzmq without libsodium, so `zmq::has("curve")` is false
//! and CURVE sockets fail to start (rust-zmq issue 357). Hermes' security needs CURVE, so the
//! workspace replaces zmq-sys with this crate through `[patch.crates-io]`: its build script
//! builds libsodium (libsodium-sys-stable, from the source it ships) and then the same vendored
//! libzmq (zeromq-src) with `ZMQ_HAVE_CURVE`.
//!
//! This crate only declares: the constants of `zmq.h` (`src/constants.rs`, written from the header
//! and tested against it), its two structs, its error numbers ([`errno`]) and its functions.
//! It is the one crate of the workspace where `unsafe` is allowed, and the only `unsafe` in it
//! is the `extern` block. Nothing here is for direct use: use the `zmq` crate, or Hermes.
//!
//! ```
//! let curve = std::ffi::CString::new("curve").unwrap();
//! // SAFETY: `zmq_has` reads a NUL-terminated string and keeps no pointer to it.
//! assert_eq!(unsafe { zmq_sys::zmq_has(curve.as_ptr()) }, 1);
//! ```

#![allow(non_camel_case_types, reason = "the C names, as zmq.h spells them")]

use std::os::raw::{c_char, c_int, c_long, c_short, c_ulong, c_void};

// Linked for libzmq's CURVE: nothing is called from Rust.
use libsodium_sys as _;

mod constants;
pub mod errno;

pub use constants::*;

#[cfg(not(unix))]
compile_error!(
    "Hermes' zmq-sys is for Unix targets: Hermes uses ipc:// endpoints and Unix signals"
);

/// What `zmq_pollitem_t` calls `zmq_fd_t`: a file descriptor.
pub type RawFd = std::os::unix::io::RawFd;

/// A message: 64 opaque bytes, aligned as a pointer, that libzmq initialises and owns.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct zmq_msg_t {
    _opaque: [u64; 8],
}

impl Default for zmq_msg_t {
    /// All zeroes, as C code declares one before `zmq_msg_init`.
    fn default() -> Self {
        zmq_msg_t { _opaque: [0; 8] }
    }
}

/// One socket or file descriptor to [`zmq_poll`].
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct zmq_pollitem_t {
    /// The ØMQ socket, or null to poll `fd`.
    pub socket: *mut c_void,
    /// The file descriptor, when `socket` is null.
    pub fd: RawFd,
    /// `ZMQ_POLLIN`, `ZMQ_POLLOUT`, `ZMQ_POLLERR`, `ZMQ_POLLPRI`: what to wait for.
    pub events: c_short,
    /// What happened.
    pub revents: c_short,
}

/// Frees the data of a message made by [`zmq_msg_init_data`].
pub type zmq_free_fn = Option<unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void)>;

/// A timer's callback ([`zmq_timers_add`]).
pub type zmq_timer_fn = Option<unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void)>;

/// A thread's body ([`zmq_threadstart`]).
pub type zmq_thread_fn = Option<unsafe extern "C" fn(arg: *mut c_void)>;

/// `struct iovec` for [`zmq_sendiov`] and [`zmq_recviov`].
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct iovec {
    /// The buffer.
    pub iov_base: *mut c_void,
    /// Its length.
    pub iov_len: usize,
}

#[allow(
    missing_docs,
    reason = "the functions of zmq.h, documented in libzmq's manual"
)]
unsafe extern "C" {
    pub fn zmq_errno() -> c_int;
    pub fn zmq_strerror(errnum: c_int) -> *const c_char;
    pub fn zmq_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int);

    pub fn zmq_ctx_new() -> *mut c_void;
    pub fn zmq_ctx_term(context: *mut c_void) -> c_int;
    pub fn zmq_ctx_shutdown(context: *mut c_void) -> c_int;
    pub fn zmq_ctx_set(context: *mut c_void, option: c_int, optval: c_int) -> c_int;
    pub fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int;
    pub fn zmq_init(io_threads: c_int) -> *mut c_void;
    pub fn zmq_term(context: *mut c_void) -> c_int;
    pub fn zmq_ctx_destroy(context: *mut c_void) -> c_int;

    pub fn zmq_msg_init(msg: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_init_size(msg: *mut zmq_msg_t, size: usize) -> c_int;
    pub fn zmq_msg_init_data(
        msg: *mut zmq_msg_t,
        data: *mut c_void,
        size: usize,
        ffn: zmq_free_fn,
        hint: *mut c_void,
    ) -> c_int;
    pub fn zmq_msg_send(msg: *mut zmq_msg_t, socket: *mut c_void, flags: c_int) -> c_int;
    pub fn zmq_msg_recv(msg: *mut zmq_msg_t, socket: *mut c_void, flags: c_int) -> c_int;
    pub fn zmq_msg_close(msg: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_move(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_copy(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_data(msg: *mut zmq_msg_t) -> *mut c_void;
    pub fn zmq_msg_size(msg: *const zmq_msg_t) -> usize;
    pub fn zmq_msg_more(msg: *const zmq_msg_t) -> c_int;
    pub fn zmq_msg_get(msg: *const zmq_msg_t, property: c_int) -> c_int;
    pub fn zmq_msg_set(msg: *mut zmq_msg_t, property: c_int, optval: c_int) -> c_int;
    pub fn zmq_msg_gets(msg: *const zmq_msg_t, property: *const c_char) -> *const c_char;

    pub fn zmq_socket(context: *mut c_void, kind: c_int) -> *mut c_void;
    pub fn zmq_close(socket: *mut c_void) -> c_int;
    pub fn zmq_setsockopt(
        socket: *mut c_void,
        option: c_int,
        optval: *const c_void,
        optvallen: usize,
    ) -> c_int;
    pub fn zmq_getsockopt(
        socket: *mut c_void,
        option: c_int,
        optval: *mut c_void,
        optvallen: *mut usize,
    ) -> c_int;
    pub fn zmq_bind(socket: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_connect(socket: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_unbind(socket: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_disconnect(socket: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_send(socket: *mut c_void, buf: *const c_void, len: usize, flags: c_int) -> c_int;
    pub fn zmq_send_const(
        socket: *mut c_void,
        buf: *const c_void,
        len: usize,
        flags: c_int,
    ) -> c_int;
    pub fn zmq_recv(socket: *mut c_void, buf: *mut c_void, len: usize, flags: c_int) -> c_int;
    pub fn zmq_socket_monitor(socket: *mut c_void, addr: *const c_char, events: c_int) -> c_int;

    pub fn zmq_poll(items: *mut zmq_pollitem_t, nitems: c_int, timeout: c_long) -> c_int;
    pub fn zmq_proxy(frontend: *mut c_void, backend: *mut c_void, capture: *mut c_void) -> c_int;
    pub fn zmq_proxy_steerable(
        frontend: *mut c_void,
        backend: *mut c_void,
        capture: *mut c_void,
        control: *mut c_void,
    ) -> c_int;
    pub fn zmq_has(capability: *const c_char) -> c_int;
    pub fn zmq_device(kind: c_int, frontend: *mut c_void, backend: *mut c_void) -> c_int;
    pub fn zmq_sendmsg(socket: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int;
    pub fn zmq_recvmsg(socket: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int;
    pub fn zmq_sendiov(socket: *mut c_void, iov: *mut iovec, count: usize, flags: c_int) -> c_int;
    pub fn zmq_recviov(
        socket: *mut c_void,
        iov: *mut iovec,
        count: *mut usize,
        flags: c_int,
    ) -> c_int;

    pub fn zmq_z85_encode(dest: *mut c_char, data: *const u8, size: usize) -> *mut c_char;
    pub fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8;
    pub fn zmq_curve_keypair(z85_public_key: *mut c_char, z85_secret_key: *mut c_char) -> c_int;
    pub fn zmq_curve_public(z85_public_key: *mut c_char, z85_secret_key: *const c_char) -> c_int;

    pub fn zmq_atomic_counter_new() -> *mut c_void;
    pub fn zmq_atomic_counter_set(counter: *mut c_void, value: c_int);
    pub fn zmq_atomic_counter_inc(counter: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_dec(counter: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_value(counter: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_destroy(counter: *mut *mut c_void);

    pub fn zmq_timers_new() -> *mut c_void;
    pub fn zmq_timers_destroy(timers: *mut *mut c_void) -> c_int;
    pub fn zmq_timers_add(
        timers: *mut c_void,
        interval: usize,
        handler: zmq_timer_fn,
        arg: *mut c_void,
    ) -> c_int;
    pub fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int;
    pub fn zmq_timers_set_interval(timers: *mut c_void, timer_id: c_int, interval: usize) -> c_int;
    pub fn zmq_timers_reset(timers: *mut c_void, timer_id: c_int) -> c_int;
    pub fn zmq_timers_timeout(timers: *mut c_void) -> c_long;
    pub fn zmq_timers_execute(timers: *mut c_void) -> c_int;

    pub fn zmq_stopwatch_start() -> *mut c_void;
    pub fn zmq_stopwatch_intermediate(watch: *mut c_void) -> c_ulong;
    pub fn zmq_stopwatch_stop(watch: *mut c_void) -> c_ulong;
    pub fn zmq_sleep(seconds: c_int);
    pub fn zmq_threadstart(func: zmq_thread_fn, arg: *mut c_void) -> *mut c_void;
    pub fn zmq_threadclose(thread: *mut c_void);
}

#[cfg(test)]
mod tests;
