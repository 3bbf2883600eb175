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
