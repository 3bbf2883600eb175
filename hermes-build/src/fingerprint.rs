//! Type fingerprints computed from the YAML alone, for tools that have no compiled types
//! (`hermes pub`, `hermes tap`).
//!
//! Every native envelope carries the 64-bit fingerprint of its message type, and a typed
//! receiver refuses envelopes whose fingerprint is not its own. Generated types get theirs from
//! `#[derive(HermesMessage)]`, which hashes a canonical form of the type
//! (`package.Name{field:type;...}`, see [`crate::canonical_form`]). This module hashes the same
//! canonical form with the same function as `hermes_runtime::fingerprint`, so a tool that
//! stamps [`message_fingerprint`] on bytes it encoded itself is accepted by generated receivers,
//! and can tell which declared message an envelope carries.

use crate::Loaded;

/// 64-bit FNV-1a offset basis.
const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// 64-bit FNV-1a prime.
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// The fingerprint of a canonical type description: 64-bit FNV-1a of its UTF-8 bytes,
/// byte-for-byte the function `hermes_runtime::fingerprint` is (this crate does not depend on
/// the runtime, so it has its own copy; a test pins both to the same values).
///
/// # Examples
///
/// ```
/// use hermes_build::fingerprint::fingerprint;
/// assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
/// assert_ne!(fingerprint("t.A{x:f64}"), fingerprint("t.A{x:f32}"));
/// ```
pub const fn fingerprint(canonical: &str) -> u64 {
    let bytes = canonical.as_bytes();
    let mut hash = OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(PRIME);
        i += 1;
    }
    hash
}

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
/// assert_eq!(message_fingerprint(&loaded, "Tick"), Some(fingerprint("demo.Tick{n:u64}")));
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

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn fingerprint_of_empty_string_is_the_fnv_offset_basis() {
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn fingerprint_matches_published_fnv1a_vectors() {
        // FNV-1a 64 test vectors from the reference implementation's test suite.
        assert_eq!(fingerprint("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprint_of_a_canonical_form_is_pinned() {
        // Pinned so a change of hash or of byte order is noticed; hermes-cli's tests check
        // that `hermes_runtime::fingerprint` gives the same values.
        assert_eq!(
            fingerprint("trading.Quote{price:f64;symbol:String}"),
            0xbdfb_48c8_a1f8_a25b
        );
    }
}
