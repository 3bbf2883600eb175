//! Fixtures: every `valid/<case>/topology.yaml` loads without findings, and every
//! `invalid/<code>.yaml` reports `hermes::<code>`, rendered as in its reviewed snapshot.

use std::path::{Path, PathBuf};

use hermes_build::{LoadError, Report};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new("tests/fixtures").join(kind);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    paths.sort();
    paths
}

/// The report of a fixture, whether it loads (warnings only) or not.
fn report_of(path: &Path) -> Report {
    match hermes_build::load(path) {
        Ok(loaded) => loaded.report,
        Err(LoadError::Invalid(report)) => report,
        Err(error) => panic!("{}: {error}", path.display()),
    }
}

/// The report of a topology with no nodes whose one messages file is `messages`.
fn report_of_messages(messages: &str) -> Report {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("messages.yaml"), messages).expect("messages");
    let topology = "name: demo\nmessages: [messages.yaml]\n";
    std::fs::write(dir.path().join("topology.yaml"), topology).expect("topology");
    report_of(&dir.path().join("topology.yaml"))
}

#[test]
fn valid_fixtures_load_without_findings() {
    let cases = fixtures("valid");
    assert!(!cases.is_empty());
    for case in cases {
        let path = case.join("topology.yaml");
        match hermes_build::load(&path) {
            Ok(loaded) => assert!(
                loaded.report.is_empty(),
                "{}:\n{}",
                path.display(),
                loaded.report.render_human()
            ),
            Err(LoadError::Invalid(report)) => {
                panic!("{}:\n{}", path.display(), report.render_human())
            }
            Err(error) => panic!("{}: {error}", path.display()),
        }
    }
}

#[test]
fn each_invalid_fixture_reports_its_code() {
    let cases: Vec<PathBuf> = fixtures("invalid")
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    assert!(cases.len() >= 28, "one fixture per rule");
    for path in cases {
        let code = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .expect("fixture name");
        let report = report_of(&path);
        let rendered = report.render_human();
        assert!(
            report
                .diagnostics()
                .iter()
                .any(|diagnostic| diagnostic.code.as_str() == format!("hermes::{code}")),
            "{} should report hermes::{code}, got:\n{rendered}",
            path.display()
        );
        insta::assert_snapshot!(code, rendered);
    }
}

#[test]
fn every_code_has_an_invalid_fixture() {
    for code in hermes_build::Code::ALL {
        let name = code.as_str().trim_start_matches("hermes::");
        let path = Path::new("tests/fixtures/invalid").join(format!("{name}.yaml"));
        assert!(path.exists(), "no fixture for {code}: {}", path.display());
    }
}

#[test]
fn json_rendering_lists_every_finding() {
    let report = report_of(Path::new("tests/fixtures/invalid/duplicate_name.yaml"));
    insta::assert_snapshot!("duplicate_name_json", report.render_json());
}

#[test]
fn a_cycle_is_a_warning_unless_denied() {
    let denied = std::fs::read_to_string("tests/fixtures/invalid/cycle.yaml").expect("fixture");
    let allowed = denied.replace("deny: [cycles]\n", "");
    assert_ne!(allowed, denied, "the fixture denies cycles");
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir(dir.path().join("common")).expect("common directory");
    std::fs::copy(
        "tests/fixtures/invalid/common/messages.yaml",
        dir.path().join("common/messages.yaml"),
    )
    .expect("copy messages");
    let path = dir.path().join("cycle.yaml");
    std::fs::write(&path, allowed).expect("write topology");
    let loaded = match hermes_build::load(&path) {
        Ok(loaded) => loaded,
        Err(error) => panic!("a cycle alone must not fail the load: {error}"),
    };
    let codes: Vec<&str> = loaded
        .report
        .diagnostics()
        .iter()
        .map(|diagnostic| diagnostic.code.as_str())
        .collect();
    assert_eq!(codes, ["hermes::cycle"], "{}", loaded.report.render_human());
}

#[test]
fn an_enum_mapping_rejects_unknown_keys_and_lists_the_valid_ones() {
    let report = report_of_messages(
        "package: demo\nenums:\n  Side: { variants: [buy, sell], colour: red }\n",
    );
    let diagnostic = report
        .diagnostics()
        .iter()
        .find(|diagnostic| diagnostic.code.as_str() == "hermes::unknown_key")
        .unwrap_or_else(|| panic!("no unknown_key in:\n{}", report.render_human()));
    assert!(
        diagnostic.message.contains("colour"),
        "{}",
        diagnostic.message
    );
    let help = diagnostic.help.as_deref().unwrap_or_default();
    assert!(
        help.contains("`variants`") && help.contains("`reserved`"),
        "{help}"
    );
}

#[test]
fn a_zero_version_is_an_invalid_value_at_its_line() {
    let report = report_of_messages(
        "package: demo\nmessages:\n  Tick:\n    version: 0\n    fields:\n      - { name: n, type: u64 }\n",
    );
    let rendered = report.render_human();
    let codes: Vec<&str> = report
        .diagnostics()
        .iter()
        .map(|diagnostic| diagnostic.code.as_str())
        .collect();
    assert_eq!(codes, ["hermes::invalid_value"], "{rendered}");
    assert!(
        rendered.contains("version 0 of `Tick` is not allowed, expected 1 or more"),
        "{rendered}"
    );
    assert!(rendered.contains("messages.yaml:4:14"), "{rendered}");
}
