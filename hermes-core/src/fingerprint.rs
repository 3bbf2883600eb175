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
/// `#[derive(HermesMessage)]` hashes the canonical form `name{field:type;...}` of the Rust type;
/// hermes-build hashes the same form built from the YAML, so generated types, the derive and
/// tools that know a type only from its YAML agree. The function is `const`, so a fingerprint
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

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn fingerprint_matches_published_fnv1a_vectors() {
        // FNV-1a 64 test vectors from the reference implementation's test suite.
        assert_eq!(fingerprint("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint("foobar"), 0x8594_4171_f739_67e8);
    }
}
