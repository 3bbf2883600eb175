//! `hermes_build::compile` from a real build script under a real `cargo build`: an invalid
//! topology fails the build with the YAML's position and line in cargo's output, a warning is
//! shown as cargo's warning and fails the build under `deny_warnings(true)`, and a second
//! build without changes neither re-runs the build script nor rewrites the generated file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

const MESSAGES: &str = "\
package: probe
messages:
  Tick:
    fields:
      - { name: n, type: u64 }
";

/// Line 8 names a message type nobody declared.
const BROKEN: &str = "\
name: probe
messages: [messages.yaml]
nodes:
  clock:
    publishes:
      - { topic: ticks, message: Tick, bind: \"tcp://127.0.0.1:7900\" }
    subscribes:
      - { topic: tocks, message: Tock, connect: \"tcp://127.0.0.1:7900\" }
";

const FIXED: &str = "\
name: probe
messages: [messages.yaml]
nodes:
  clock:
    publishes:
      - { topic: ticks, message: Tick, bind: \"tcp://127.0.0.1:7900\" }
  watch:
    subscribes:
      - { topic: ticks, message: Tick, connect: \"tcp://127.0.0.1:7900\" }
";

/// `FIXED` plus, on line 7, a publication nobody subscribes to: a warning.
fn warned() -> String {
    let ticks = "      - { topic: ticks, message: Tick, bind: \"tcp://127.0.0.1:7900\" }\n";
    let tacks = "      - { topic: tacks, message: Tick, bind: \"tcp://127.0.0.1:7901\" }\n";
    let warned = FIXED.replacen(ticks, &format!("{ticks}{tacks}"), 1);
    assert_ne!(warned, FIXED, "`FIXED` publishes `ticks`");
    warned
}

/// A crate whose build script compiles `topology.yaml` with this hermes-build, denying
/// warnings when `PROBE_DENY_WARNINGS` is set.
fn probe_crate(dir: &Path) {
    let hermes_build = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = format!(
        "[package]\nname = \"probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[build-dependencies]\nhermes-build = {{ path = {:?} }}\n",
        hermes_build.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock, so that the offline build picks the versions already downloaded.
    let lock = hermes_build.join("../Cargo.lock");
    std::fs::copy(lock, dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), "//! Probe.\n").unwrap();
    std::fs::write(
        dir.join("build.rs"),
        "fn main() -> Result<(), Box<dyn std::error::Error>> {\n    \
         println!(\"cargo::rerun-if-env-changed=PROBE_DENY_WARNINGS\");\n    \
         hermes_build::Config::new()\n        \
         .deny_warnings(std::env::var_os(\"PROBE_DENY_WARNINGS\").is_some())\n        \
         .compile(\"topology.yaml\")?;\n    Ok(())\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("messages.yaml"), MESSAGES).unwrap();
}

/// A target directory kept between runs, so only the first run compiles hermes-build's
/// dependencies.
fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cargo-build-probe")
}

/// What `cargo build` in `dir` did: its status and its stderr (killed after 10 minutes).
fn cargo_build(dir: &Path) -> (ExitStatus, String) {
    cargo_build_with(dir, false)
}

/// `cargo build` in `dir`, with the build script denying warnings if `deny_warnings`.
fn cargo_build_with(dir: &Path, deny_warnings: bool) -> (ExitStatus, String) {
    // Into a file, not a pipe: a verbose build writes more than a pipe holds.
    let log = dir.join("cargo.log");
    let mut child = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--verbose"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("PROBE_DENY_WARNINGS")
        .envs(deny_warnings.then_some(("PROBE_DENY_WARNINGS", "1")))
        .stdout(Stdio::null())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .expect("cargo starts");
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cargo build took more than 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (status, std::fs::read_to_string(&log).unwrap())
}

/// The generated file, and when it was last written.
fn generated(target: &Path) -> (PathBuf, SystemTime) {
    let build = target.join("debug/build");
    let path = std::fs::read_dir(&build)
        .expect("build directory")
        .flatten()
        .map(|entry| entry.path().join("out/probe.rs"))
        .find(|path| path.is_file())
        .expect("probe.rs generated into OUT_DIR");
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    (path, modified)
}

#[test]
fn cargo_build_shows_the_yaml_line_and_a_clean_rebuild_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    probe_crate(dir.path());

    std::fs::write(dir.path().join("topology.yaml"), BROKEN).unwrap();
    let (status, stderr) = cargo_build(dir.path());
    assert!(!status.success(), "the build succeeded: {stderr}");
    assert!(stderr.contains("topology.yaml:8:"), "{stderr}");
    assert!(
        stderr.contains("8 |       - { topic: tocks, message: Tock"),
        "{stderr}"
    );

    std::fs::write(dir.path().join("topology.yaml"), warned()).unwrap();
    let (status, stderr) = cargo_build(dir.path());
    assert!(status.success(), "a warning failed the build: {stderr}");
    assert!(
        stderr.contains("topology.yaml:7:18: warning[hermes::unused_publication]"),
        "the warning is not in cargo's output: {stderr}"
    );
    let (status, stderr) = cargo_build_with(dir.path(), true);
    assert!(
        !status.success(),
        "deny_warnings(true) let a warning pass: {stderr}"
    );
    assert!(
        stderr.contains("topology.yaml:7:18: error[hermes::unused_publication]"),
        "{stderr}"
    );

    std::fs::write(dir.path().join("topology.yaml"), FIXED).unwrap();
    let (status, stderr) = cargo_build(dir.path());
    assert!(status.success(), "{stderr}");
    let (path, written) = generated(&target_dir());

    let (status, stderr) = cargo_build(dir.path());
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("Fresh probe"), "{stderr}");
    assert!(
        !stderr.contains("build-script-build`"),
        "a build script ran again: {stderr}"
    );
    assert_eq!(generated(&target_dir()), (path, written), "rewritten");
}
