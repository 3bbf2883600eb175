//! Topology YAML: the loader must return a model or diagnostics, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = hermes_build::load_from_str("fuzz.yaml", text.to_owned());
    }
});
