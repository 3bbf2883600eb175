//! Type fingerprints computed from the YAML alone, for tools that have no compiled types
//! (`hermes pub`, `hermes tap`).
//!
//! Every native envelope carries the 64-bit fingerprint of its message type, and a typed
//! receiver refuses envelopes whose fingerprint is not its own. Generated types get theirs from
//! `#[derive(HermesMessage)]` with `version` set, which hashes the message's lineage
//! (`package.Name@vN`, see [`crate::canonical_form`]): its name and major version, not its
//! fields. This module hashes the same lineage with the same function
//! ([`hermes_core::fingerprint`]), so a tool that stamps [`message_fingerprint`] on bytes it
//! encoded itself is accepted by generated receivers, and can tell which declared message an
//! envelope carries.

use crate::Loaded;

pub use hermes_core::fingerprint;

/// The fingerprint the generated type of message `name` carries: [`fingerprint`] of its
/// [`canonical_form`](crate::canonical_form). `None` when no message `name` is declared.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("messages.yaml"), "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n").unwrap();
/// # std::fs::write(dir.path().join("topology.yaml"), "name: demo\nmessages: [messages.yaml]\n").unwrap();
/// # let path = dir.path().join("topology.yaml");
/// use hermes_build::fingerprint::{fingerprint, message_fingerprint};
///
/// let loaded = hermes_build::load(&path)?;
/// assert_eq!(message_fingerprint(&loaded, "Tick"), Some(fingerprint("demo.Tick@v1")));
/// assert_eq!(message_fingerprint(&loaded, "Tock"), None);
/// # Ok::<(), hermes_build::LoadError>(())
/// ```
pub fn message_fingerprint(loaded: &Loaded, name: &str) -> Option<u64> {
    crate::canonical_form(loaded, name).map(|canonical| fingerprint(&canonical))
}

/// Every declared message with its fingerprint, in declaration order (messages files in
/// `messages:` order), for looking up which type an envelope carries.
pub fn message_fingerprints(loaded: &Loaded) -> Vec<(String, u64)> {
    loaded
        .messages
        .iter()
        .flat_map(|source| source.schema.messages.names())
        .filter_map(|name| Some((name.value.clone(), message_fingerprint(loaded, name)?)))
        .collect()
}
