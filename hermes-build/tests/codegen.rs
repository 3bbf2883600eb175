//! Code generation: reviewed snapshots of the output for every valid fixture, determinism,
//! write-if-changed, and build-script errors that point at the YAML.

use std::path::{Path, PathBuf};

use hermes_build::{Config, Settings};

fn valid_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("tests/fixtures/valid")
        .expect("valid fixtures")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    cases.sort();
    cases
}

fn generate(path: &Path) -> Vec<(PathBuf, String)> {
    let loaded = hermes_build::load(path).unwrap_or_else(|error| panic!("{error}"));
    hermes_build::generate(&loaded, &Settings::default()).expect("generates")
}

#[test]
fn generated_code_matches_reviewed_snapshots() {
    for case in valid_cases() {
        let case_name = case
            .file_name()
            .and_then(|name| name.to_str())
            .expect("name");
        for (file, contents) in generate(&case.join("topology.yaml")) {
            let snapshot = format!("{case_name}__{}", file.display());
            insta::assert_snapshot!(snapshot, contents);
        }
    }
}

/// A small topology whose top-level declarations can be written in any order.
fn shuffled_topology(order: &[usize]) -> (String, String) {
    let nodes = [
        "  zeta:\n    publishes:\n      - { topic: z/out, message: Tick, via: beta }\n",
        "  alpha:\n    subscribes:\n      - { topic: z, message: Tick, via: beta }\n      - { topic: m/out, message: Mark, connect: tcp://127.0.0.1:7301 }\n",
        "  mid:\n    publishes:\n      - { topic: m/out, message: Mark, bind: tcp://127.0.0.1:7301 }\n    subscribes:\n      - { topic: y, message: Tick, via: alpha_proxy }\n",
        "  yank:\n    publishes:\n      - { topic: y/out, message: Tick, via: alpha_proxy }\n",
    ];
    let proxies = [
        "  beta:\n    frontend: tcp://127.0.0.1:7311\n    backend: tcp://127.0.0.1:7312\n",
        "  alpha_proxy:\n    frontend: tcp://127.0.0.1:7313\n    backend: tcp://127.0.0.1:7314\n",
    ];
    let messages = [
        "  Tick:\n    fields:\n      - { name: n, type: u64 }\n      - { name: level, type: Level }\n",
        "  Mark:\n    fields:\n      - { name: at, type: timestamp }\n      - { name: levels, type: \"list<Level>\" }\n",
        "  Level:\n    fields:\n      - { name: mood, type: Mood }\n",
    ];
    let enums = ["  Mood: [calm, wild]\n", "  Color: [red]\n"];
    let pick = |items: &[&str], offset: usize| -> String {
        let mut indices: Vec<usize> = (0..items.len()).collect();
        indices.rotate_left(order[offset] % items.len());
        if order[offset + 1] % 2 == 1 {
            indices.reverse();
        }
        indices.iter().map(|&index| items[index]).collect()
    };
    let topology = format!(
        "name: shuffled\nmessages: [messages.yaml]\nproxies:\n{}nodes:\n{}",
        pick(&proxies, 0),
        pick(&nodes, 2)
    );
    let messages = format!(
        "package: demo.v1\nenums:\n{}messages:\n{}",
        pick(&enums, 4),
        pick(&messages, 6)
    );
    (topology, messages)
}

#[test]
fn output_does_not_depend_on_declaration_order() {
    let mut outputs = Vec::new();
    for order in [
        [0; 8],
        [1, 1, 1, 0, 1, 1, 2, 1],
        [0, 1, 3, 1, 0, 0, 1, 0],
        [1, 0, 2, 0, 1, 1, 2, 0],
    ] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (topology, messages) = shuffled_topology(&order);
        std::fs::write(dir.path().join("messages.yaml"), messages).expect("write");
        std::fs::write(dir.path().join("topology.yaml"), &topology).expect("write");
        outputs.push((topology, generate(&dir.path().join("topology.yaml"))));
    }
    let (first_input, first) = &outputs[0];
    for (input, output) in &outputs[1..] {
        assert_ne!(input, first_input, "the inputs differ");
        assert!(
            output == first,
            "output changed with the order of:\n{input}"
        );
    }
}

#[test]
fn generating_twice_gives_identical_bytes() {
    let path = Path::new("tests/fixtures/valid/trading/topology.yaml");
    assert_eq!(generate(path), generate(path));
}

#[test]
fn compile_writes_only_what_changed() {
    let out = tempfile::tempdir().expect("temporary directory");
    let mut config = Config::new();
    config.out_dir(out.path()).emit_rerun_if_changed(false);
    let path = "tests/fixtures/valid/trading/topology.yaml";
    let first = config.compile(path).expect("compiles");
    assert_eq!(first.written, first.files);
    assert_eq!(first.inputs.len(), 2, "the topology and its messages file");
    let modified = |file: &Path| {
        std::fs::metadata(file)
            .and_then(|meta| meta.modified())
            .ok()
    };
    let before: Vec<_> = first.files.iter().map(|file| modified(file)).collect();
    let second = config.compile(path).expect("compiles again");
    assert!(
        second.written.is_empty(),
        "nothing changed: {:?}",
        second.written
    );
    let after: Vec<_> = second.files.iter().map(|file| modified(file)).collect();
    assert_eq!(before, after);
    config.format(false);
    let third = config.compile(path).expect("compiles unformatted");
    assert_eq!(third.written.len(), 1, "only the Rust file changes");
}

#[test]
fn an_invalid_topology_fails_with_the_yaml_position_and_line() {
    let out = tempfile::tempdir().expect("temporary directory");
    let error = Config::new()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .compile("tests/fixtures/invalid/unmatched_subscription.yaml")
        .expect_err("the topology is invalid");
    // What a build script that returns the error from `main` (or unwraps it) prints.
    let shown = format!("{error:?}");
    assert!(
        shown.contains("unmatched_subscription.yaml:14:18: error[hermes::unmatched_subscription]"),
        "{shown}"
    );
    assert!(
        shown.contains("14 |       - { topic: quote, message: Quote, via: market }"),
        "{shown}"
    );
    assert!(shown.contains("^^^^^"), "{shown}");
    assert_eq!(
        std::fs::read_dir(out.path()).expect("list").count(),
        0,
        "nothing written"
    );
}

#[test]
fn invalid_settings_are_errors_not_panics() {
    let loaded = hermes_build::load("tests/fixtures/valid/trading/topology.yaml").expect("loads");
    let mut settings = Settings::default();
    settings.runtime_path = "not a path".into();
    assert!(hermes_build::generate(&loaded, &settings).is_err());
    let mut settings = Settings::default();
    settings.type_attribute(".", "#[derive(");
    let error = hermes_build::generate(&loaded, &settings).expect_err("unbalanced attribute");
    assert!(
        error.to_string().contains("invalid type attribute"),
        "{error}"
    );
}

#[test]
fn type_attributes_reach_the_selected_types() {
    let loaded = hermes_build::load("tests/fixtures/valid/trading/topology.yaml").expect("loads");
    let mut settings = Settings::default();
    settings
        .type_attribute("trading.Quote", "#[derive(Default)]")
        .type_attribute("Side", "#[non_exhaustive]");
    let files = hermes_build::generate(&loaded, &settings).expect("generates");
    let rust = &files
        .iter()
        .find(|(name, _)| name.ends_with("trading.rs"))
        .expect("rust")
        .1;
    assert_eq!(rust.matches("#[derive(Default)]").count(), 1);
    assert_eq!(rust.matches("#[non_exhaustive]").count(), 1);
}

/// The fingerprint of the generated type of `Tick` in a messages file whose `Tick` is
/// `message`, and the `#[hermes(...)]` attribute the generated type carries.
fn tick_lineage(message: &str) -> (u64, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        dir.path().join("messages.yaml"),
        format!("package: demo\nmessages:\n  Tick:\n{message}"),
    )
    .expect("messages");
    let path = dir.path().join("topology.yaml");
    std::fs::write(&path, "name: demo\nmessages: [messages.yaml]\n").expect("topology");
    let loaded = hermes_build::load(&path).unwrap_or_else(|error| panic!("{error}"));
    let fingerprint =
        hermes_build::fingerprint::message_fingerprint(&loaded, "Tick").expect("Tick is declared");
    let code: String = hermes_build::generate(&loaded, &Settings::default())
        .expect("generates")
        .into_iter()
        .map(|(_, contents)| contents)
        .collect();
    let attribute = code
        .lines()
        .find(|line| line.contains("#[hermes(name = \"demo.Tick\""))
        .expect("the generated type names its lineage")
        .trim()
        .to_owned();
    (fingerprint, attribute)
}

#[test]
fn an_appended_field_keeps_the_generated_fingerprint() {
    let before = tick_lineage("    fields:\n      - { name: n, type: u64 }\n");
    let after = tick_lineage(
        "    fields:\n      - { name: n, type: u64 }\n      - { name: label, type: string }\n",
    );
    assert_eq!(before, after);
    assert_eq!(
        before.1,
        "#[hermes(name = \"demo.Tick\", version = 1, crate = \"::hermes_runtime\")]"
    );
    assert_eq!(
        before.0,
        hermes_build::fingerprint::fingerprint("demo.Tick@v1")
    );
}

#[test]
fn a_raised_version_changes_the_generated_fingerprint() {
    let v1 = tick_lineage("    fields:\n      - { name: n, type: u64 }\n");
    let v2 = tick_lineage("    version: 2\n    fields:\n      - { name: n, type: u64 }\n");
    assert_ne!(v1.0, v2.0);
    assert_eq!(v2.0, hermes_build::fingerprint::fingerprint("demo.Tick@v2"));
    assert_eq!(
        v2.1,
        "#[hermes(name = \"demo.Tick\", version = 2, crate = \"::hermes_runtime\")]"
    );
}

#[test]
fn security_reaches_topology_without_any_secret() {
    let path = Path::new("tests/fixtures/valid/trading/topology.yaml");
    let text = std::fs::read_to_string(path).expect("fixture");
    let pin = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    let secured = format!(
        "{text}security:\n  keys: keys\n  operators: [alice, ci]\n  pins:\n    proxies:\n      market: \"{pin}\"\n"
    );
    let loaded = hermes_build::load_from_str(path, secured).expect("loads");
    let files = hermes_build::generate(&loaded, &Settings::default()).expect("generates");
    let code: String = files
        .iter()
        .map(|(_, contents)| contents.as_str())
        .collect();
    let at = code
        .find(".with_security(")
        .expect("TOPOLOGY carries the security section");
    let security: String = code[at..].chars().take(400).collect();
    assert!(
        security.contains("\"tests/fixtures/valid/trading/keys\""),
        "{security}"
    );
    assert!(security.contains("&[\"alice\", \"ci\"]"), "{security}");
    assert!(
        security.contains(&format!("(\"proxies\", \"market\", \"{pin}\")")),
        "{security}"
    );
    assert!(!code.contains("secret"), "generated code mentions a secret");
}
