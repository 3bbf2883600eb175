//! Fixtures: every `valid/<case>/topology.yaml` loads without findings, and every
//! `invalid/<code>.yaml` (or `invalid/<code>/topology.yaml`, for a case with a lock file)
//! reports `hermes::<code>`, rendered as in its reviewed snapshot.

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
/// The report on `topology`, written beside a `messages.yaml` with one message, `Tick`.
fn report_of_topology(topology: &str) -> Report {
    let dir = tempfile::tempdir().expect("temporary directory");
    let messages =
        "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n";
    std::fs::write(dir.path().join("messages.yaml"), messages).expect("messages");
    std::fs::write(dir.path().join("topology.yaml"), topology).expect("topology");
    report_of(&dir.path().join("topology.yaml"))
}

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
    let cases = invalid_fixtures();
    assert!(cases.len() >= 31, "one fixture per rule");
    for (code, path) in cases {
        let code = code.as_str();
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

/// Each invalid fixture, by the code it reports: `invalid/<code>.yaml`, or
/// `invalid/<code>/topology.yaml` for a case that needs files of its own (a `hermes.lock`).
fn invalid_fixtures() -> Vec<(String, PathBuf)> {
    fixtures("invalid")
        .into_iter()
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_owned();
            if path.extension().is_some_and(|ext| ext == "yaml") {
                Some((name, path))
            } else {
                let topology = path.join("topology.yaml");
                topology.is_file().then_some((name, topology))
            }
        })
        .collect()
}

#[test]
fn every_code_has_an_invalid_fixture() {
    let cases = invalid_fixtures();
    for code in hermes_build::Code::ALL {
        let name = code.as_str().trim_start_matches("hermes::");
        assert!(
            cases.iter().any(|(case, _)| case == name),
            "no fixture for {code}: add tests/fixtures/invalid/{name}.yaml (or {name}/topology.yaml)"
        );
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

/// The codes of a report's findings, in order.
fn codes_of(report: &Report) -> Vec<&str> {
    report
        .diagnostics()
        .iter()
        .map(|diagnostic| diagnostic.code.as_str())
        .collect()
}

#[test]
fn a_zero_version_is_an_invalid_value_at_its_line() {
    let report = report_of_messages(
        "package: demo\nmessages:\n  Tick:\n    version: 0\n    fields:\n      - { name: n, type: u64 }\n",
    );
    let rendered = report.render_human();
    assert_eq!(codes_of(&report), ["hermes::invalid_value"], "{rendered}");
    assert!(
        rendered.contains("version 0 of `Tick` is not allowed, expected 1 or more"),
        "{rendered}"
    );
    assert!(rendered.contains("messages.yaml:4:14"), "{rendered}");
}

#[test]
fn batching_bounds_out_of_range_are_invalid_values_at_their_lines() {
    let report = report_of_topology(
        "name: demo\nmessages: [messages.yaml]\ndefaults:\n  batch: { max_delay_us: 0 }\nnodes:\n  \
         feed:\n    batch: { max_bytes: 100 }\n    publishes:\n      - { topic: ticks, message: Tick, bind: \"tcp://127.0.0.1:7000\" }\n  \
         sink:\n    subscribes:\n      - { topic: ticks, message: Tick, connect: \"tcp://127.0.0.1:7000\" }\n",
    );
    let rendered = report.render_human();
    assert_eq!(
        codes_of(&report),
        ["hermes::invalid_value", "hermes::invalid_value"],
        "{rendered}"
    );
    assert!(
        rendered.contains("`batch.max_delay_us` of `defaults` is 0, expected 1 to 1000000"),
        "{rendered}"
    );
    assert!(rendered.contains("topology.yaml:4:26"), "{rendered}");
    assert!(
        rendered.contains("`batch.max_bytes` of node `feed` is 100, expected 256 to 16777216"),
        "{rendered}"
    );
    assert!(rendered.contains("topology.yaml:7:25"), "{rendered}");
}

#[test]
fn resources_that_are_not_kubernetes_quantities_are_invalid_values_at_their_lines() {
    let report = report_of_topology(
        "name: demo\nmessages: [messages.yaml]\ndefaults:\n  resources: { cpu: 100m, memory: 64MB }\nnodes:\n  \
         feed:\n    resources: { cpu: lots }\n    publishes:\n      - { topic: ticks, message: Tick, bind: \"tcp://127.0.0.1:7000\" }\n  \
         sink:\n    resources: { cpu: \"0.5\", memory: 1Gi }\n    subscribes:\n      - { topic: ticks, message: Tick, connect: \"tcp://127.0.0.1:7000\" }\n",
    );
    let rendered = report.render_human();
    assert_eq!(
        codes_of(&report),
        ["hermes::invalid_value", "hermes::invalid_value"],
        "{rendered}"
    );
    assert!(
        rendered.contains(
            "`resources.memory` of `defaults` is `64MB`, expected a Kubernetes quantity such as \
             `64Mi` or `1Gi`"
        ),
        "{rendered}"
    );
    assert!(rendered.contains("topology.yaml:4:35"), "{rendered}");
    assert!(
        rendered.contains(
            "`resources.cpu` of node `feed` is `lots`, expected a Kubernetes quantity such as \
             `100m` or `0.5`"
        ),
        "{rendered}"
    );
    assert!(rendered.contains("topology.yaml:7:23"), "{rendered}");
    assert!(rendered.contains("help: write a number with"), "{rendered}");
}

/// The codes of a messages-only topology whose messages were `locked` when `hermes.lock` was
/// written and are `now` when loaded.
fn codes_against_lock(locked: &str, now: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let topology = dir.path().join("topology.yaml");
    std::fs::write(&topology, "name: demo\nmessages: [messages.yaml]\n").expect("topology");
    std::fs::write(dir.path().join("messages.yaml"), locked).expect("messages");
    let loaded = hermes_build::load(&topology).expect("the locked version loads");
    let lock = hermes_build::evolution::Lock::of(&loaded).to_text();
    std::fs::write(dir.path().join("hermes.lock"), lock).expect("lock");
    std::fs::write(dir.path().join("messages.yaml"), now).expect("messages");
    let report = report_of(&topology);
    report
        .diagnostics()
        .iter()
        .map(|diagnostic| diagnostic.code.as_str().to_owned())
        .collect()
}

const SIDES: &str = "package: demo\nenums:\n  Side: [buy, sell, cross]\nmessages:\n  Order:\n    fields:\n      - { name: side, type: Side }\n  Fill:\n    fields:\n      - { name: side, type: Side }\n";

#[test]
fn an_enum_break_needs_a_version_raise_of_every_message_that_carries_it() {
    let deleted = SIDES.replace("[buy, sell, cross]", "[buy, sell]");
    let codes = codes_against_lock(SIDES, &deleted);
    assert!(
        codes.iter().all(|code| code == "hermes::breaking_change"),
        "{codes:?}"
    );
    assert!(!codes.is_empty());
    let one = deleted.replace("  Order:\n", "  Order:\n    version: 2\n");
    let codes = codes_against_lock(SIDES, &one);
    assert!(
        codes.contains(&"hermes::breaking_change".to_owned()),
        "{codes:?}"
    );
    let both = one.replace("  Fill:\n", "  Fill:\n    version: 2\n");
    assert_eq!(codes_against_lock(SIDES, &both), ["hermes::stale_lock"]);
}

#[test]
fn a_lowered_version_is_a_breaking_change() {
    let raised = SIDES.replace("  Order:\n", "  Order:\n    version: 3\n");
    let lowered = SIDES.replace("  Order:\n", "  Order:\n    version: 2\n");
    assert_eq!(
        codes_against_lock(&raised, &lowered),
        ["hermes::breaking_change"]
    );
}

#[test]
fn an_unchanged_schema_has_no_findings_against_its_lock() {
    assert!(codes_against_lock(SIDES, SIDES).is_empty());
}

#[test]
fn pinned_keys_must_be_z85_public_keys_of_declared_names() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir(dir.path().join("common")).expect("common directory");
    std::fs::copy(
        "tests/fixtures/invalid/common/messages.yaml",
        dir.path().join("common/messages.yaml"),
    )
    .expect("copy messages");
    let topology = "name: trading\nmessages: [common/messages.yaml]\nsecurity:\n  keys: keys\n  pins:\n    nodes:\n      feed: \"short\"\n      fed: \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\nnodes:\n  feed:\n    publishes:\n      - { topic: quotes, message: Quote, bind: \"tcp://127.0.0.1:7000\" }\n";
    let path = dir.path().join("topology.yaml");
    std::fs::write(&path, topology).expect("write topology");
    let report = report_of(&path);
    let rendered = report.render_human();
    assert!(
        rendered.contains("the key pinned for node `feed` is not a Z85 public key: expected 40 characters, found 5"),
        "{rendered}"
    );
    assert!(
        rendered.contains("a key is pinned for node `fed`, which is not declared"),
        "{rendered}"
    );
    assert!(rendered.contains("did you mean `feed`?"), "{rendered}");
}
