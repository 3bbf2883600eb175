//! Builds the vendored libzmq (zeromq-src) against the libsodium that libsodium-sys-stable
//! built, which turns CURVE on.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // Set by libsodium-sys-stable's build script (`links = "sodium"`) for its dependents.
    let (Some(include), Some(lib)) = (
        env::var_os("DEP_SODIUM_INCLUDE"),
        env::var_os("DEP_SODIUM_LIB"),
    ) else {
        panic!(
            "libsodium-sys-stable did not report where libsodium is (DEP_SODIUM_INCLUDE and \
             DEP_SODIUM_LIB are unset); CURVE needs it"
        );
    };
    // libzmq's C++ warnings are not ours to fix; cargo would show every one of them on each
    // fresh build, since this is a path dependency.
    let flags = env::var("CXXFLAGS").unwrap_or_default();
    // SAFETY: the build script is single-threaded; nothing reads the environment concurrently.
    unsafe { env::set_var("CXXFLAGS", format!("{flags} -w")) };
    let libsodium = zeromq_src::LibLocation::new(PathBuf::from(lib), PathBuf::from(include));
    zeromq_src::Build::new()
        .with_libsodium(Some(libsodium))
        .build();
    // zeromq-src copies the headers under OUT_DIR; the test that compares `src/constants.rs`
    // with the header it was written from reads it there.
    if let Some(out) = env::var_os("OUT_DIR") {
        let header = PathBuf::from(out).join("source/include/zmq.h");
        println!("cargo::rustc-env=HERMES_ZMQ_HEADER={}", header.display());
    }
}
