//! The `evolution` topology built from version 1 of its messages (`messages.yaml`): the build
//! deployed first. `evolution-new` builds the same topology from a compatible evolution of
//! these messages, and its tests run the two builds against each other.

hermes_runtime::include_topology!("evolution");

pub use evolution::{Order, Side, Venue};
