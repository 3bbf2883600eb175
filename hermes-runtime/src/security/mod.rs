//! Security: CURVE keys, encrypted links, and access from the topology.
//!
//! - [`KeyPair`], [`PublicKey`], [`SecretKey`] and the [`KeyStore`] of key files they live in.
//! - [`Curve`] on a [`Publisher`](crate::Publisher) or [`Receiver`](crate::Receiver), and
//!   [`ProxySecurity`] on a [`Proxy`](crate::Proxy): CURVE servers admit exactly the [`Peer`]s
//!   of their [`Access`] (a ZAP handler per [`Context`](crate::Context)), and check each
//!   envelope's topic and each subscription against what the sending peer declared.
//! - [`SecurityStats`]: what was refused, counted; a secured proxy publishes them as a
//!   [`SecurityReport`].

mod access;
mod keys;
pub(crate) mod monitor;
mod report;
mod socket;
mod zap;

pub use access::{Access, Curve, Peer, ProxySecurity, SecurityStats};
pub use keys::{KeyError, KeyPair, KeyRole, KeyStore, PublicKey, SecretKey};
pub use report::SecurityReport;

pub(crate) use access::{Counters, Guard, LogLimiter};
pub(crate) use socket::{Secured, configure};
pub(crate) use zap::{ZapSlot, is_running as zap_running};

#[cfg(test)]
mod tests;
