//! Frames off the wire: the envelope decoder of both framings, then typed and untyped payload decoding.
//! The input is split into frames at 0xFF 0x00 pairs, so the fuzzer controls the frame count.
#![no_main]

use hermes_runtime::{Payload, RawEnvelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut frames: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(2).position(|pair| pair == [0xff, 0x00]) {
        frames.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    frames.push(rest);
    if let Ok(raw) = RawEnvelope::from_frames(&frames) {
        let _ = raw.decode::<serde_json::Value>();
        let _ = raw.decode::<Payload>();
    }
});
