//! The error numbers `zmq_errno` returns: the platform's, the `_ALT` numbers `zmq.h` gives
//! the ones a platform lacks, and the four libzmq adds above `ZMQ_HAUSNUMERO`.

use crate::ZMQ_HAUSNUMERO;

// `ZMQ_HAUSNUMERO` is 156384712, far inside `i32`.
#[allow(clippy::cast_possible_wrap, reason = "156384712 fits in i32")]
const HAUSNUMERO: i32 = ZMQ_HAUSNUMERO as i32;

/// Permission denied.
pub const EACCES: i32 = libc::EACCES;
/// Address in use.
pub const EADDRINUSE: i32 = libc::EADDRINUSE;
/// Address not available.
pub const EADDRNOTAVAIL: i32 = libc::EADDRNOTAVAIL;
/// Resource temporarily unavailable (a non-blocking call would block).
pub const EAGAIN: i32 = libc::EAGAIN;
/// Device or resource busy.
pub const EBUSY: i32 = libc::EBUSY;
/// Connection refused.
pub const ECONNREFUSED: i32 = libc::ECONNREFUSED;
/// Connection aborted.
pub const ECONNABORTED: i32 = libc::ECONNABORTED;
/// Connection reset.
pub const ECONNRESET: i32 = libc::ECONNRESET;
/// Bad address.
pub const EFAULT: i32 = libc::EFAULT;
/// Host unreachable.
pub const EHOSTUNREACH: i32 = libc::EHOSTUNREACH;
/// Interrupted by a signal.
pub const EINTR: i32 = libc::EINTR;
/// Operation in progress.
pub const EINPROGRESS: i32 = libc::EINPROGRESS;
/// Invalid argument.
pub const EINVAL: i32 = libc::EINVAL;
/// Too many open files.
pub const EMFILE: i32 = libc::EMFILE;
/// Message too long.
pub const EMSGSIZE: i32 = libc::EMSGSIZE;
/// File name too long.
pub const ENAMETOOLONG: i32 = libc::ENAMETOOLONG;
/// Network down.
pub const ENETDOWN: i32 = libc::ENETDOWN;
/// Network reset.
pub const ENETRESET: i32 = libc::ENETRESET;
/// Network unreachable.
pub const ENETUNREACH: i32 = libc::ENETUNREACH;
/// No buffer space.
pub const ENOBUFS: i32 = libc::ENOBUFS;
/// No such device.
pub const ENODEV: i32 = libc::ENODEV;
/// No such file or directory.
pub const ENOENT: i32 = libc::ENOENT;
/// Out of memory.
pub const ENOMEM: i32 = libc::ENOMEM;
/// Not connected.
pub const ENOTCONN: i32 = libc::ENOTCONN;
/// Not a socket.
pub const ENOTSOCK: i32 = libc::ENOTSOCK;
/// Not supported.
pub const ENOTSUP: i32 = libc::ENOTSUP;
/// Protocol error.
pub const EPROTO: i32 = libc::EPROTO;
/// Protocol not supported.
pub const EPROTONOSUPPORT: i32 = libc::EPROTONOSUPPORT;
/// Address family not supported.
pub const EAFNOSUPPORT: i32 = libc::EAFNOSUPPORT;
/// Timed out.
pub const ETIMEDOUT: i32 = libc::ETIMEDOUT;
// The numbers `zmq.h` gives these errors on platforms whose C library lacks them; libzmq
// may still report them, so the `zmq` crate matches both.
/// `ENOTSUP` where the platform has no such number.
pub const ENOTSUP_ALT: i32 = HAUSNUMERO + 1;
/// `EPROTONOSUPPORT` where the platform has no such number.
pub const EPROTONOSUPPORT_ALT: i32 = HAUSNUMERO + 2;
/// `ENOBUFS` where the platform has no such number.
pub const ENOBUFS_ALT: i32 = HAUSNUMERO + 3;
/// `ENETDOWN` where the platform has no such number.
pub const ENETDOWN_ALT: i32 = HAUSNUMERO + 4;
/// `EADDRINUSE` where the platform has no such number.
pub const EADDRINUSE_ALT: i32 = HAUSNUMERO + 5;
/// `EADDRNOTAVAIL` where the platform has no such number.
pub const EADDRNOTAVAIL_ALT: i32 = HAUSNUMERO + 6;
/// `ECONNREFUSED` where the platform has no such number.
pub const ECONNREFUSED_ALT: i32 = HAUSNUMERO + 7;
/// `EINPROGRESS` where the platform has no such number.
pub const EINPROGRESS_ALT: i32 = HAUSNUMERO + 8;
/// `ENOTSOCK` where the platform has no such number.
pub const ENOTSOCK_ALT: i32 = HAUSNUMERO + 9;
/// `EMSGSIZE` where the platform has no such number.
pub const EMSGSIZE_ALT: i32 = HAUSNUMERO + 10;
/// `EAFNOSUPPORT` where the platform has no such number.
pub const EAFNOSUPPORT_ALT: i32 = HAUSNUMERO + 11;
/// `ENETUNREACH` where the platform has no such number.
pub const ENETUNREACH_ALT: i32 = HAUSNUMERO + 12;
/// `ECONNABORTED` where the platform has no such number.
pub const ECONNABORTED_ALT: i32 = HAUSNUMERO + 13;
/// `ECONNRESET` where the platform has no such number.
pub const ECONNRESET_ALT: i32 = HAUSNUMERO + 14;
/// `ENOTCONN` where the platform has no such number.
pub const ENOTCONN_ALT: i32 = HAUSNUMERO + 15;
/// `ETIMEDOUT` where the platform has no such number.
pub const ETIMEDOUT_ALT: i32 = HAUSNUMERO + 16;
/// `EHOSTUNREACH` where the platform has no such number.
pub const EHOSTUNREACH_ALT: i32 = HAUSNUMERO + 17;
/// `ENETRESET` where the platform has no such number.
pub const ENETRESET_ALT: i32 = HAUSNUMERO + 18;
/// The operation cannot be done in the socket's current state.
pub const EFSM: i32 = HAUSNUMERO + 51;
/// No compatible protocol: the transport does not suit the socket type.
pub const ENOCOMPATPROTO: i32 = HAUSNUMERO + 52;
/// The context was terminated.
pub const ETERM: i32 = HAUSNUMERO + 53;
/// No I/O thread is available.
pub const EMTHREAD: i32 = HAUSNUMERO + 54;
