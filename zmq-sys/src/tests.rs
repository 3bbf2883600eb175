use std::collections::BTreeMap;
use std::ffi::{CStr, CString};

/// Every `pub const NAME: T = VALUE;` line of `text`.
fn declared(text: &str) -> BTreeMap<String, i64> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("pub const ")?;
            let (name, rest) = rest.split_once(':')?;
            let value = rest.split_once('=')?.1.trim().trim_end_matches(';');
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn constants_match_the_header() {
    let path = env!("HERMES_ZMQ_HEADER");
    let header = std::fs::read_to_string(path).expect("zeromq-src copies zmq.h under OUT_DIR");
    let ours = declared(include_str!("constants.rs"));
    assert!(ours.len() > 150, "{} constants", ours.len());
    for (name, value) in &ours {
        let define = header
            .lines()
            .map(str::trim)
            .filter_map(|line| line.strip_prefix("#define "))
            .find_map(|line| {
                let (defined, rest) = line.split_once(char::is_whitespace)?;
                (defined == name).then(|| rest.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("{name} is not defined in {path}"));
        // An alias names another constant; a number is decimal or hexadecimal.
        let expected = match define.strip_prefix("0x") {
            Some(hex) => i64::from_str_radix(hex, 16).expect("hexadecimal"),
            None => define
                .parse()
                .unwrap_or_else(|_| ours.get(&define).copied().expect("an alias of ours")),
        };
        assert_eq!(*value, expected, "{name}");
    }
}

#[test]
fn curve_is_built_in() {
    for capability in ["curve", "ipc"] {
        let name = CString::new(capability).expect("no NUL");
        // SAFETY: `zmq_has` reads a NUL-terminated string and keeps no pointer to it.
        let has = unsafe { crate::zmq_has(name.as_ptr()) };
        assert_eq!(has, 1, "libzmq lacks {capability}");
    }
}

#[test]
fn the_library_is_libzmq_4_3() {
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    // SAFETY: `zmq_version` writes three ints through valid pointers.
    unsafe { crate::zmq_version(&mut major, &mut minor, &mut patch) };
    assert_eq!((major, minor), (4, 3), "patch {patch}");
}

#[test]
fn a_curve_key_pair_is_40_z85_characters_each() {
    let (mut public, mut secret) = ([0 as std::os::raw::c_char; 41], [0; 41]);
    // SAFETY: both buffers hold the 41 bytes (40 characters and NUL) libzmq writes.
    let rc = unsafe { crate::zmq_curve_keypair(public.as_mut_ptr(), secret.as_mut_ptr()) };
    assert_eq!(rc, 0);
    for key in [&public, &secret] {
        // SAFETY: libzmq NUL-terminated the key inside the buffer.
        let key = unsafe { CStr::from_ptr(key.as_ptr()) };
        assert_eq!(key.to_bytes().len(), 40);
    }
}
