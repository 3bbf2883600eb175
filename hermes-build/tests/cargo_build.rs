//! `hermes_build::compile` from a real build script under a real `cargo build`: an invalid
//! topology fails the build with the YAML's position and line in cargo's output, a warning is
//! shown as cargo's warning and fails the build under `deny_warnings(true)`, and a second
//! build without changes neither re-runs the build script nor rewrites the generated file.
//! Against `hermes.lock`, a breaking change fails the build, and the build never writes the
//! lock or any other source file.

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

/// Every file under `dir` with its contents, but cargo's own (`Cargo.lock`, which cargo may
/// rewrite, and this test's `cargo.log`).
fn source_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                pending.push(path);
            } else if name != "Cargo.lock" && name != "cargo.log" {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_breaking_change_against_the_lock_fails_the_build_and_the_build_writes_no_source() {
    let dir = tempfile::tempdir().unwrap();
    probe_crate(dir.path());
    // Another package and topology name than the first test's: cargo keeps one build
    // directory per package name for crates outside any workspace, and that test looks for
    // its generated `probe.rs`.
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    let manifest = manifest.replacen("name = \"probe\"", "name = \"locked-probe\"", 1);
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    let topology = FIXED.replacen("name: probe", "name: locked", 1);
    std::fs::write(dir.path().join("topology.yaml"), topology).unwrap();
    let locked = |dir: &Path| {
        let loaded = hermes_build::load(dir.join("topology.yaml")).expect("loads");
        let lock = hermes_build::evolution::Lock::of(&loaded).to_text();
        std::fs::write(dir.join("hermes.lock"), lock).unwrap();
    };
    locked(dir.path());
    let (status, stderr) = cargo_build(dir.path());
    assert!(status.success(), "{stderr}");

    let retyped = MESSAGES.replace("type: u64", "type: string");
    std::fs::write(dir.path().join("messages.yaml"), &retyped).unwrap();
    let before = source_tree(dir.path());
    let (status, stderr) = cargo_build(dir.path());
    assert!(!status.success(), "a breaking change built: {stderr}");
    assert!(
        stderr.contains(
            "messages.yaml:5:26: error[hermes::breaking_change]: field 1 'n' changed from \
             uint64 to string; hermes.lock has uint64"
        ),
        "{stderr}"
    );
    assert_eq!(
        source_tree(dir.path()),
        before,
        "the build wrote into the source tree"
    );

    // A version raise makes the break deliberate; the lock is then merely stale.
    let raised = retyped.replace("  Tick:\n", "  Tick:\n    version: 2\n");
    std::fs::write(dir.path().join("messages.yaml"), raised).unwrap();
    let (status, stderr) = cargo_build(dir.path());
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("warning[hermes::stale_lock]"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("hermes.lock")).unwrap(),
        before
            .iter()
            .find(|(path, _)| path.ends_with("hermes.lock"))
            .map(|(_, text)| text.clone())
            .unwrap(),
        "the build rewrote the lock"
    );

    // Writing the lock reruns the build script, which then has nothing to say.
    locked(dir.path());
    let (status, stderr) = cargo_build(dir.path());
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("build-script-build`"), "{stderr}");
    assert!(!stderr.contains("stale_lock"), "{stderr}");
}
