//! `hermes` behaviour: exit codes and output formats.

use assert_cmd::Command;
use predicates::prelude::*;

const FIXTURES: &str = "../hermes-build/tests/fixtures";

fn hermes() -> Command {
    Command::cargo_bin("hermes").expect("the hermes binary is built")
}

#[test]
fn check_valid_topology_exits_0() {
    hermes()
        .args(["check", &format!("{FIXTURES}/valid/trading/topology.yaml")])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("ok (no findings)"));
}

#[test]
fn check_prints_warnings_and_exits_0() {
    hermes()
        .args(["check", &format!("{FIXTURES}/invalid/empty_node.yaml")])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("warning[hermes::empty_node]"))
        .stderr(predicate::str::contains("ok (1 warning)"));
}

#[test]
fn check_deny_warnings_exits_1() {
    hermes()
        .args([
            "check",
            &format!("{FIXTURES}/invalid/empty_node.yaml"),
            "--deny",
            "warnings",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error[hermes::empty_node]"));
}

#[test]
fn check_invalid_topology_exits_1_with_rustc_style_findings() {
    hermes()
        .args([
            "check",
            &format!("{FIXTURES}/invalid/unmatched_subscription.yaml"),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unmatched_subscription.yaml:14:18: error[hermes::unmatched_subscription]",
        ))
        .stderr(predicate::str::contains("^^^^^"))
        .stderr(predicate::str::contains("= help: did you mean `quotes`?"));
}

#[test]
fn check_json_format_prints_one_document_on_stdout() {
    let output = hermes()
        .args([
            "check",
            &format!("{FIXTURES}/invalid/unknown_proxy.yaml"),
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let document: serde_json::Value = serde_json::from_slice(&output).expect("valid JSON");
    assert_eq!(document["errors"], 1);
    assert_eq!(document["diagnostics"][0]["code"], "hermes::unknown_proxy");
    assert_eq!(document["diagnostics"][0]["line"], 10);
    assert_eq!(document["diagnostics"][0]["column"], 47);
}

#[test]
fn check_missing_file_exits_2() {
    hermes()
        .args(["check", "no/such/topology.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read `no/such/topology.yaml`",
        ));
}

#[test]
fn usage_error_exits_2() {
    hermes().assert().code(2);
    hermes()
        .args(["check", "x.yaml", "--format", "xml"])
        .assert()
        .code(2);
}

#[test]
fn schema_writes_both_files_and_check_passes() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("schemas");
    hermes()
        .args(["schema", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    assert!(out.join("topology.schema.json").exists());
    assert!(out.join("messages.schema.json").exists());
    hermes()
        .args(["schema", "--check", "--out"])
        .arg(&out)
        .assert()
        .code(0);
}

#[test]
fn schema_check_exits_1_when_stale() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("topology.schema.json"), "{}").expect("write");
    hermes()
        .args(["schema", "--check", "--out"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("out of date"));
}

#[test]
fn committed_schemas_are_current() {
    hermes()
        .args(["schema", "--check", "--out", "../schemas"])
        .assert()
        .code(0);
}
