//! The `evolution` topology built from a compatible evolution of `evolution-old`'s messages:
//! an appended field, an appended enum variant, a field appended to a nested message, and a
//! field deleted with its number and name reserved. `tests/old_and_new.rs` runs this build
//! and the old one against each other over TCP.

hermes_runtime::include_topology!("evolution");

pub use evolution::{Order, Side, Venue};
