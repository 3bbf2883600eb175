//! Security: CURVE keys, encrypted links, and access from the topology.
//!
//! - [`KeyPair`], [`PublicKey`], [`SecretKey`] and the [`KeyStore`] of key files they live in.

mod keys;

pub use keys::{KeyError, KeyPair, KeyRole, KeyStore, PublicKey, SecretKey};

#[cfg(test)]
mod tests;
