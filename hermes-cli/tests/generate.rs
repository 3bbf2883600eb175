//! `hermes gen` writes exactly what `build.rs` generates.

use std::process::Command;

const TOPOLOGY: &str = "../examples/hello/topology.yaml";

fn hermes() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("hermes"))
}

#[test]
fn gen_writes_the_same_files_as_the_build_script_and_leaves_them_alone_after() {
    let out = tempfile::tempdir().unwrap();
    let first = hermes()
        .args(["gen", TOPOLOGY, "--proto", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    let loaded = hermes_build::load(TOPOLOGY).unwrap();
    let expected = hermes_build::generate(&loaded, &hermes_build::Settings::default()).unwrap();
    assert!(
        expected
            .iter()
            .any(|(name, _)| name.extension().is_some_and(|e| e == "proto"))
    );
    for (name, contents) in &expected {
        let written = std::fs::read_to_string(out.path().join(name)).unwrap();
        assert_eq!(&written, contents, "{}", name.display());
    }

    let second = hermes()
        .args(["gen", TOPOLOGY, "--proto", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(
        stdout.matches("unchanged ").count(),
        expected.len(),
        "{stdout}"
    );
}

#[test]
fn gen_without_proto_writes_only_rust() {
    let out = tempfile::tempdir().unwrap();
    let status = hermes()
        .args(["gen", TOPOLOGY, "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["hello.rs"]);
}

#[test]
fn gen_of_a_missing_topology_exits_2() {
    let out = tempfile::tempdir().unwrap();
    let output = hermes()
        .args(["gen", "no/such/topology.yaml", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no/such/topology.yaml"));
}

const DESK: &str = "../hermes-build/tests/fixtures/valid/desk/topology.yaml";

/// Runs `command`, killing it after 30 s; its output.
fn bounded(command: &mut Command) -> std::process::Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{command:?} did not finish in 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn gen_python_writes_a_module_that_compiles() {
    let out = tempfile::tempdir().unwrap();
    let output = bounded(hermes().args(["gen", DESK, "--python"]).arg(out.path()));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["desk.py"], "--python alone writes no Rust");
    let loaded = hermes_build::load(DESK).unwrap();
    let (_, expected) = hermes_build::generate_python(&loaded);
    let written = std::fs::read_to_string(out.path().join("desk.py")).unwrap();
    assert_eq!(written, expected);
    let compiled = bounded(
        Command::new("python3")
            .args(["-m", "py_compile"])
            .arg(out.path().join("desk.py")),
    );
    assert!(
        compiled.status.success(),
        "python3 -m py_compile: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );
}

/// The interop tests compile the generated `desk` code from `tests/generated/`: it must be
/// what the generator writes today. Regenerate with
/// `cargo run -p hermes-cli -- gen hermes-build/tests/fixtures/valid/desk/topology.yaml --out hermes-cli/tests/generated --python hermes-cli/tests/generated`.
#[test]
fn committed_desk_code_is_what_gen_writes() {
    let loaded = hermes_build::load(DESK).unwrap();
    let files = hermes_build::generate(&loaded, &hermes_build::Settings::default()).unwrap();
    let (_, rust) = files
        .iter()
        .find(|(name, _)| name.extension().is_some_and(|e| e == "rs"))
        .unwrap();
    let committed = std::fs::read_to_string("tests/generated/desk.rs").unwrap();
    assert!(
        committed == *rust,
        "tests/generated/desk.rs is stale: regenerate it"
    );
    let (_, python) = hermes_build::generate_python(&loaded);
    let committed = std::fs::read_to_string("tests/generated/desk.py").unwrap();
    assert!(
        committed == python,
        "tests/generated/desk.py is stale: regenerate it"
    );
}
