//! Type fingerprints: the 64-bit hash every native envelope carries, so a receiver can refuse
//! a type it does not know instead of misreading it.

/// 64-bit FNV-1a offset basis.
const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// 64-bit FNV-1a prime.
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// The fingerprint a receiver of every type (a JSON `Value`, a tool) sends and accepts.
pub const ANY_FINGERPRINT: u64 = 0;

/// The fingerprint of a canonical type description: 64-bit FNV-1a of its UTF-8 bytes.
///
/// `#[derive(HermesMessage)]` without `version` hashes the canonical form
/// `name{field:type;...}` of the Rust type; with `version` (as on every generated type) it
/// hashes the type's [`lineage`] instead, as hermes-build does from the YAML, so generated
/// types, the derive and tools that know a type only from its YAML agree. The function is `const`, so a fingerprint
/// is a compile-time constant.
///
/// # Examples
///
/// ```
/// use hermes_core::fingerprint;
///
/// const QUOTE: u64 = fingerprint("trading.Quote{price:f64;symbol:String}");
/// assert_eq!(QUOTE, 0xbdfb_48c8_a1f8_a25b);
/// assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
/// assert_ne!(fingerprint("t.A{x:f64}"), fingerprint("t.A{x:f32}"));
/// ```
pub const fn fingerprint(canonical: &str) -> u64 {
    hash_bytes(OFFSET, canonical.as_bytes())
}

/// The lineage of a message: its full name and major version, as `name@v<version>`.
///
/// This is the one definition of the lineage string. A generated type (and a derived one that
/// sets `version`) carries [`lineage_fingerprint`] of it, not a hash of its fields, so
/// compatible changes (an appended field) keep the fingerprint and a breaking change, which
/// must raise the version, changes it.
///
/// # Examples
///
/// ```
/// assert_eq!(hermes_core::lineage("trading.Quote", 2), "trading.Quote@v2");
/// ```
pub fn lineage(name: &str, version: u32) -> String {
    format!("{name}@v{version}")
}

/// [`fingerprint`] of [`lineage`]`(name, version)`, computed without allocating, so that it is
/// `const` and `#[derive(HermesMessage)]` can make it a compile-time constant.
///
/// # Examples
///
/// ```
/// use hermes_core::{fingerprint, lineage, lineage_fingerprint};
///
/// const QUOTE: u64 = lineage_fingerprint("trading.Quote", 1);
/// assert_eq!(QUOTE, fingerprint(&lineage("trading.Quote", 1)));
/// assert_ne!(QUOTE, lineage_fingerprint("trading.Quote", 2));
/// ```
pub const fn lineage_fingerprint(name: &str, version: u32) -> u64 {
    let mut hash = hash_bytes(OFFSET, name.as_bytes());
    hash = hash_bytes(hash, b"@v");
    // The decimal digits of `version`, most significant first, as `format!` writes them.
    let mut digits = [0u8; 10];
    let mut len = 0;
    let mut rest = version;
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    while len > 0 {
        len -= 1;
        hash = step(hash, digits[len]);
    }
    hash
}

const fn hash_bytes(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash = step(hash, bytes[i]);
        i += 1;
    }
    hash
}

const fn step(hash: u64, byte: u8) -> u64 {
    (hash ^ byte as u64).wrapping_mul(PRIME)
}

#[cfg(test)]
mod tests {
    use super::{fingerprint, lineage, lineage_fingerprint};

    #[test]
    fn lineage_fingerprint_hashes_the_lineage_string() {
        for (name, version) in [("t.A", 1), ("trading.Quote", 10), ("x", u32::MAX), ("", 0)] {
            assert_eq!(
                lineage_fingerprint(name, version),
                fingerprint(&lineage(name, version)),
                "{name} v{version}"
            );
        }
    }

    #[test]
    fn lineage_fingerprint_changes_with_name_and_version() {
        assert_ne!(lineage_fingerprint("t.A", 1), lineage_fingerprint("t.A", 2));
        assert_ne!(lineage_fingerprint("t.A", 1), lineage_fingerprint("t.B", 1));
        assert_ne!(lineage_fingerprint("t.A", 1), fingerprint("t.A{}"));
    }

    #[test]
    fn fingerprint_matches_published_fnv1a_vectors() {
        // FNV-1a 64 test vectors from the reference implementation's test suite.
        assert_eq!(fingerprint("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint("foobar"), 0x8594_4171_f739_67e8);
    }
}
