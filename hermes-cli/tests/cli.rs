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
    let output = stdout_of(
        hermes().args([
            "check",
            &format!("{FIXTURES}/invalid/unknown_proxy.yaml"),
            "--format",
            "json",
        ]),
        1,
    );
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

const TRADING: &str = "../hermes-build/tests/fixtures/valid/trading/topology.yaml";
const NODE_NAMES: [&str; 5] = ["bitstamp", "kraken", "strategy", "router", "audit"];

fn graph_output(format: &str) -> String {
    let output = stdout_of(hermes().args(["graph", TRADING, "--format", format]), 0);
    String::from_utf8(output).expect("UTF-8")
}

#[test]
fn graph_svg_parses_as_xml_and_names_every_node_and_proxy() {
    let svg = graph_output("svg");
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let text: String = document
        .descendants()
        .filter(|node| node.is_text())
        .filter_map(|node| node.text())
        .collect();
    for name in NODE_NAMES.iter().chain(&["market"]) {
        assert!(text.contains(name), "no `{name}` in the SVG's text");
    }
    assert!(text.contains("quotes/bitstamp: Quote"));
}

#[test]
fn graph_svg_is_reproducible() {
    assert_eq!(graph_output("svg"), graph_output("svg"));
}

#[test]
fn graph_dot_parses_and_labels_edges_with_topic_and_message() {
    let dot = graph_output("dot");
    let mut parser = layout::gv::DotParser::new(&dot);
    let ast = parser.process().expect("DOT that a DOT parser accepts");
    let mut builder = layout::gv::GraphBuilder::new();
    builder.visit_graph(&ast);
    for name in NODE_NAMES {
        assert!(
            dot.contains(&format!("n_{name} [label=\"{name}\"")),
            "{dot}"
        );
    }
    assert!(dot.contains("n_bitstamp -> p_market [label=\"quotes/bitstamp: Quote\"]"));
}

/// Checks every line against the Mermaid flowchart statements the renderer writes.
#[test]
fn graph_mermaid_is_a_well_formed_flowchart() {
    let mermaid = graph_output("mermaid");
    let mut lines = mermaid.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let id = r"[A-Za-z_][A-Za-z0-9_]*";
    let label = r#""[^"]*""#;
    let statement = [
        r"^%% .*$".to_string(),
        format!(r"^{id}(\[{label}\]|\{{\{{{label}\}}\}}|\(\[{label}\]\))$"),
        format!(r"^{id} (-- {label} -->|-\. {label} \.->) {id}$"),
        r"^classDef [a-z]+ .+$".to_string(),
        format!(r"^class {id}(,{id})* [a-z]+$"),
        r"^linkStyle \d+(,\d+)* .+$".to_string(),
    ];
    let patterns: Vec<regex::Regex> = statement
        .iter()
        .map(|pattern| regex::Regex::new(pattern).expect("pattern"))
        .collect();
    for line in lines {
        let line = line.trim_start();
        assert!(
            patterns.iter().any(|pattern| pattern.is_match(line)),
            "not a flowchart statement: {line}"
        );
    }
    for name in NODE_NAMES {
        assert!(mermaid.contains(&format!("n_{name}[\"{name}\"]")));
    }
    assert!(mermaid.contains("p_market{{\"market\"}}"));
    assert!(mermaid.contains("n_bitstamp -- \"quotes/bitstamp: Quote\" --> p_market"));
}

/// A topology with every kind of warning `hermes graph` draws: a publication nobody subscribes
/// to (a dashed red edge) and a node without ports (a red outline).
fn topology_with_warnings() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        dir.path().join("messages.yaml"),
        "package: t\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("topology.yaml"),
        "name: t\nmessages: [messages.yaml]\nproxies:\n  hub: { frontend: \"tcp://127.0.0.1:6000\", backend: \"tcp://127.0.0.1:6001\" }\nnodes:\n  clock:\n    publishes: [{ topic: ticks, message: Tick, via: hub }]\n  idle: {}\n",
    )
    .expect("write");
    dir
}

#[test]
fn graph_highlights_warnings() {
    let dir = topology_with_warnings();
    let output = stdout_of(
        hermes()
            .args(["graph", "--format", "mermaid"])
            .arg(dir.path()),
        0,
    );
    let mermaid = String::from_utf8(output).expect("UTF-8");
    assert!(
        mermaid.contains("n_clock -. \"ticks: Tick\" .-> p_hub"),
        "{mermaid}"
    );
    assert!(mermaid.contains("class n_idle warning"), "{mermaid}");
    assert!(mermaid.contains("%% warning: clock -> hub (ticks: Tick): nobody subscribes"));
}

#[test]
fn graph_writes_the_format_of_the_output_extension() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("trading.svg");
    hermes()
        .args(["graph", TRADING, "-o"])
        .arg(&path)
        .assert()
        .code(0);
    let svg = std::fs::read_to_string(&path).expect("written");
    assert!(svg.contains("<svg"));
}

#[test]
fn graph_of_a_missing_topology_exits_2_and_of_an_invalid_one_exits_1() {
    hermes()
        .args(["graph", "no/such/topology.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
    hermes()
        .args([
            "graph",
            &format!("{FIXTURES}/invalid/unmatched_subscription.yaml"),
        ])
        .assert()
        .code(1);
}

#[test]
fn pub_refuses_a_type_error_naming_the_field() {
    hermes()
        .args(["pub", TRADING, "quotes/bitstamp", r#"{"price": "high"}"#])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "field `price`: expected f64, found a string",
        ));
    hermes()
        .args(["pub", TRADING, "orders", r#"{"tags": {"a": 1}}"#])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "field `tags[\"a\"]`: expected string, found an integer",
        ));
}

#[test]
fn pub_refuses_bad_json_unknown_topics_and_nonsense_endpoints() {
    hermes()
        .args(["pub", TRADING, "orders", "{oops"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not valid JSON"));
    hermes()
        .args(["pub", TRADING, "nothing/here", "{}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "publishes nothing on `nothing/here`",
        ));
    hermes()
        .args(["pub", TRADING, "orders", "{}", "--endpoint", "nonsense"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot connect to `nonsense`"));
}

#[test]
fn tap_and_stats_refuse_nonsense_endpoints_and_unknown_proxies() {
    hermes()
        .args(["tap", TRADING, "--endpoint", "udp://x"])
        .assert()
        .code(2);
    hermes()
        .args(["stats", TRADING, "--proxy", "nope", "--json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no proxy `nope`"));
}

#[test]
fn proxy_refuses_an_endpoint_it_cannot_bind() {
    hermes()
        .args(["proxy", "--frontend", "nonsense"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot start the proxy"));
}

/// What `command` prints on stdout, asserting it exits with `code`.
fn stdout_of(command: &mut Command, code: i32) -> Vec<u8> {
    command.assert().code(code).get_output().stdout.clone()
}

/// The subcommands `hermes --help` lists (but `help` itself).
fn subcommands() -> Vec<String> {
    let output = stdout_of(hermes().arg("--help"), 0);
    let help = String::from_utf8(output).expect("UTF-8");
    let commands: Vec<String> = help
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(commands.len() >= 9, "{help}");
    commands
}

#[test]
fn every_command_has_help_with_examples_of_itself() {
    for command in subcommands() {
        for flag in ["--help", "-h"] {
            let output = stdout_of(hermes().args([command.as_str(), flag]), 0);
            let help = String::from_utf8(output).expect("UTF-8");
            let examples: Vec<&str> = help
                .lines()
                .skip_while(|line| *line != "Examples:")
                .skip(1)
                .take_while(|line| !line.is_empty())
                .collect();
            assert!(
                !examples.is_empty()
                    && examples
                        .iter()
                        .all(|line| line.starts_with(&format!("  hermes {command}"))),
                "`hermes {command} {flag}` has no examples of `hermes {command}`:\n{help}"
            );
        }
    }
}

#[test]
fn an_unreadable_topology_exits_2_naming_the_file_for_every_command() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "name: t\n").expect("write");
    // A path through a regular file cannot be read even by root, for whom chmod 000 is no bar.
    let path = file.join("topology.yaml");
    let path = path.to_str().expect("UTF-8 path");
    let out = dir.path().join("out");
    let out = out.to_str().expect("UTF-8 path");
    for args in [
        &["check", path][..],
        &["graph", path],
        &["gen", path, "--out", out],
        &["up", path],
        &["tap", path],
        &["stats", path, "--json"],
        &["pub", path, "ticks", "{}"],
        &["diff", path, path],
    ] {
        hermes()
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "error: cannot read `{path}`: Not a directory"
            )));
    }
    assert!(!std::path::Path::new(out).exists(), "gen wrote nothing");
}

#[test]
fn build_and_runtime_fingerprints_agree() {
    for text in [
        "",
        "a",
        "trading.Quote{price:f64;symbol:String}",
        "ünïcode{x:y}",
    ] {
        assert_eq!(
            hermes_build::fingerprint::fingerprint(text),
            hermes_runtime::fingerprint(text)
        );
    }
}

#[test]
fn committed_readme_images_are_current() {
    for (topology, image) in [
        (
            "hermes-build/tests/fixtures/valid/trading",
            "docs/images/trading.svg",
        ),
        ("examples/trading", "docs/images/trading-desk.svg"),
    ] {
        let committed = std::fs::read_to_string(format!("../{image}")).expect("committed");
        let output = stdout_of(
            hermes().args(["graph", &format!("../{topology}"), "--format", "svg"]),
            0,
        );
        assert!(
            committed.as_bytes() == output.as_slice(),
            "{image} is stale; regenerate it with \
             `cargo run -p hermes-cli -- graph {topology} -o {image}`"
        );
    }
}

#[test]
fn check_takes_a_directory_for_its_topology_yaml() {
    hermes()
        .args(["check", "../examples/trading"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("ok (no findings)"));
}

const EVOLUTION: &str = "../hermes-build/tests/fixtures/evolution";

/// `hermes diff` of an evolution case's `old/` and `new/`.
fn diff_case(case: &str) -> Command {
    let mut command = hermes();
    command.args([
        "diff",
        &format!("{EVOLUTION}/{case}/old"),
        &format!("{EVOLUTION}/{case}/new"),
    ]);
    command
}

/// A topology over an evolution case's messages (of version `side`), with a node `feed`
/// publishing `Order` in `codec`, and, when `audit`, a node `audit` subscribing to it.
fn evolution_topology(dir: &std::path::Path, case: &str, side: &str, codec: &str, audit: bool) {
    std::fs::create_dir_all(dir).expect("create directory");
    std::fs::copy(
        format!("{EVOLUTION}/{case}/{side}/messages.yaml"),
        dir.join("messages.yaml"),
    )
    .expect("copy messages");
    let mut topology = format!(
        "name: evo\nmessages: [messages.yaml]\nnodes:\n  feed:\n    publishes:\n      \
         - {{ topic: orders, message: Order, bind: \"tcp://127.0.0.1:5555\", codec: {codec} }}\n"
    );
    if audit {
        topology.push_str(&format!(
            "  audit:\n    subscribes:\n      \
             - {{ topic: orders, message: Order, connect: \"tcp://127.0.0.1:5555\", codec: {codec} }}\n"
        ));
    }
    std::fs::write(dir.join("topology.yaml"), topology).expect("write topology");
}

#[test]
fn diff_of_an_appended_field_exits_0() {
    diff_case("append_field")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 breaking"));
}

#[test]
fn diff_of_a_field_type_change_exits_1_at_the_field_line() {
    diff_case("f64_to_string")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "new/messages.yaml:5:26: breaking[hermes::field_wire_compatible_type]: \
             field 1 'x' changed from double to string",
        ))
        .stdout(predicate::str::contains("^^^^^^"));
}

#[test]
fn diff_of_a_field_deleted_without_reserving_exits_1_at_its_old_line() {
    diff_case("delete_field")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("old/messages.yaml:7:"))
        .stdout(predicate::str::contains(
            "breaking[hermes::field_no_delete_unless_number_reserved]",
        ));
}

#[test]
fn diff_of_a_renamed_field_breaks_on_a_json_port_only() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (codec, code) in [("json", 1), ("protobuf", 0)] {
        let (old, new) = (
            dir.path().join(codec).join("old"),
            dir.path().join(codec).join("new"),
        );
        evolution_topology(&old, "rename_field", "old", codec, false);
        evolution_topology(&new, "rename_field", "new", codec, false);
        let assert = hermes().arg("diff").arg(&old).arg(&new).assert().code(code);
        let rule = if code == 1 {
            "breaking[hermes::field_same_name]"
        } else {
            "compatible[hermes::field_same_name]"
        };
        assert
            .stdout(predicate::str::contains(rule))
            .stdout(predicate::str::contains("new/messages.yaml:6:"));
    }
}

#[test]
fn diff_of_an_appended_enum_variant_exits_0_and_of_a_removed_one_1() {
    diff_case("append_enum_variant").assert().code(0);
    diff_case("delete_enum_variant")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("old/messages.yaml:3:"))
        .stdout(predicate::str::contains(
            "breaking[hermes::enum_value_no_delete_unless_number_reserved]",
        ));
}

#[test]
fn diff_of_a_deleted_reservation_points_at_it_in_the_old_version() {
    diff_case("delete_enum_reserved")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "old/messages.yaml:5:27: breaking[hermes::reserved_enum_no_delete]: reserved number 5",
        ))
        .stdout(predicate::str::contains(
            "old/messages.yaml:5:39: breaking[hermes::reserved_enum_no_delete]: reserved name 'SIDE_CROSS'",
        ));
}

#[test]
fn diff_of_an_added_node_exits_0_with_the_node_in_the_plan() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    evolution_topology(&old, "rename_field", "old", "protobuf", false);
    evolution_topology(&new, "rename_field", "old", "protobuf", true);
    hermes()
        .arg("diff")
        .arg(&old)
        .arg(&new)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("+ node audit"))
        .stdout(predicate::str::contains(
            "+ port audit subscribes orders: Order (protobuf) connect tcp://127.0.0.1:5555",
        ));
}

#[test]
fn diff_json_format_prints_one_report() {
    let output = stdout_of(diff_case("f64_to_string").args(["--format", "json"]), 1);
    let report: serde_json::Value = serde_json::from_slice(&output).expect("valid JSON");
    assert_eq!(report["breaking"], 1);
    assert_eq!(report["compatible"], 0);
    assert_eq!(report["plan"], serde_json::json!([]));
    let finding = &report["schema"][0];
    assert_eq!(finding["rule"], "field_wire_compatible_type");
    assert_eq!(finding["rules"], "WIRE");
    assert_eq!(finding["breaking"], true);
    assert_eq!(finding["parent"], "Order");
    assert_eq!(finding["line"], 5);
    assert!(
        finding["file"]
            .as_str()
            .is_some_and(|file| file.ends_with("new/messages.yaml")),
        "{finding}"
    );
}

#[test]
fn diff_stops_at_the_first_version_that_cannot_be_read() {
    let output = hermes()
        .args(["diff", "missing/old.yaml", "missing/new.yaml"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(output).expect("UTF-8");
    assert!(
        stderr.contains("error: cannot read `missing/old.yaml`"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
}

#[test]
fn diff_needs_two_topologies_or_a_revision() {
    hermes()
        .args(["diff", "topology.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: expected two topologies, OLD and NEW, found 1",
        ));
}

/// `git args` in `dir`, which must succeed.
fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?} failed");
}

#[test]
fn diff_against_a_revision_compares_with_the_committed_version() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let repo = dir.path();
    let case = format!("{EVOLUTION}/delete_field");
    for file in ["topology.yaml", "messages.yaml"] {
        std::fs::copy(format!("{case}/old/{file}"), repo.join(file)).expect("copy");
    }
    git(repo, &["init", "--quiet"]);
    git(repo, &["add", "."]);
    git(
        repo,
        &[
            "-c",
            "user.name=hermes",
            "-c",
            "user.email=hermes@example.com",
            "commit",
            "--quiet",
            "-m",
            "old",
        ],
    );
    std::fs::copy(
        format!("{case}/new/messages.yaml"),
        repo.join("messages.yaml"),
    )
    .expect("copy");
    hermes()
        .args(["diff", "--against", "HEAD"])
        .arg(repo)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("HEAD:messages.yaml:7:"))
        .stdout(predicate::str::contains(
            "breaking[hermes::field_no_delete_unless_number_reserved]",
        ));
    hermes()
        .args(["diff", "--against", "no-such-revision"])
        .arg(repo)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: unknown revision `no-such-revision`",
        ));
}

#[test]
fn diff_against_a_revision_reports_its_errors_at_the_revision_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let repo = dir.path();
    std::fs::write(
        repo.join("topology.yaml"),
        "name: t\nmessages: [gone.yaml]\n",
    )
    .expect("write");
    git(repo, &["init", "--quiet"]);
    git(repo, &["add", "."]);
    git(
        repo,
        &[
            "-c",
            "user.name=hermes",
            "-c",
            "user.email=hermes@example.com",
            "commit",
            "--quiet",
            "-m",
            "names a missing messages file",
        ],
    );
    hermes()
        .args(["diff", "--against", "HEAD"])
        .arg(repo)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "HEAD:topology.yaml:2:12: error[hermes::missing_file]",
        ))
        .stderr(predicate::str::contains(
            "error: the topology at `HEAD` is invalid (1 error)",
        ));
}

#[test]
fn diff_against_outside_a_git_repository_exits_2() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("topology.yaml"), "name: t\n").expect("write");
    hermes()
        .args(["diff", "--against", "HEAD"])
        .arg(dir.path())
        .env(
            "GIT_CEILING_DIRECTORIES",
            dir.path().parent().expect("parent"),
        )
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not in a git repository"));
}

/// The colour keywords of SVG 1.1 (CSS2's, without CSS3's `transparent` or CSS4's
/// `rebeccapurple`): <https://www.w3.org/TR/SVG11/types.html#ColorKeywords>.
const SVG11_COLOR_KEYWORDS: [&str; 147] = [
    "aliceblue",
    "antiquewhite",
    "aqua",
    "aquamarine",
    "azure",
    "beige",
    "bisque",
    "black",
    "blanchedalmond",
    "blue",
    "blueviolet",
    "brown",
    "burlywood",
    "cadetblue",
    "chartreuse",
    "chocolate",
    "coral",
    "cornflowerblue",
    "cornsilk",
    "crimson",
    "cyan",
    "darkblue",
    "darkcyan",
    "darkgoldenrod",
    "darkgray",
    "darkgreen",
    "darkgrey",
    "darkkhaki",
    "darkmagenta",
    "darkolivegreen",
    "darkorange",
    "darkorchid",
    "darkred",
    "darksalmon",
    "darkseagreen",
    "darkslateblue",
    "darkslategray",
    "darkslategrey",
    "darkturquoise",
    "darkviolet",
    "deeppink",
    "deepskyblue",
    "dimgray",
    "dimgrey",
    "dodgerblue",
    "firebrick",
    "floralwhite",
    "forestgreen",
    "fuchsia",
    "gainsboro",
    "ghostwhite",
    "gold",
    "goldenrod",
    "gray",
    "green",
    "greenyellow",
    "grey",
    "honeydew",
    "hotpink",
    "indianred",
    "indigo",
    "ivory",
    "khaki",
    "lavender",
    "lavenderblush",
    "lawngreen",
    "lemonchiffon",
    "lightblue",
    "lightcoral",
    "lightcyan",
    "lightgoldenrodyellow",
    "lightgray",
    "lightgreen",
    "lightgrey",
    "lightpink",
    "lightsalmon",
    "lightseagreen",
    "lightskyblue",
    "lightslategray",
    "lightslategrey",
    "lightsteelblue",
    "lightyellow",
    "lime",
    "limegreen",
    "linen",
    "magenta",
    "maroon",
    "mediumaquamarine",
    "mediumblue",
    "mediumorchid",
    "mediumpurple",
    "mediumseagreen",
    "mediumslateblue",
    "mediumspringgreen",
    "mediumturquoise",
    "mediumvioletred",
    "midnightblue",
    "mintcream",
    "mistyrose",
    "moccasin",
    "navajowhite",
    "navy",
    "oldlace",
    "olive",
    "olivedrab",
    "orange",
    "orangered",
    "orchid",
    "palegoldenrod",
    "palegreen",
    "paleturquoise",
    "palevioletred",
    "papayawhip",
    "peachpuff",
    "peru",
    "pink",
    "plum",
    "powderblue",
    "purple",
    "red",
    "rosybrown",
    "royalblue",
    "saddlebrown",
    "salmon",
    "sandybrown",
    "seagreen",
    "seashell",
    "sienna",
    "silver",
    "skyblue",
    "slateblue",
    "slategray",
    "slategrey",
    "snow",
    "springgreen",
    "steelblue",
    "tan",
    "teal",
    "thistle",
    "tomato",
    "turquoise",
    "violet",
    "wheat",
    "white",
    "whitesmoke",
    "yellow",
    "yellowgreen",
];

const SVG11_PAINT_HELP: &str = "help: SVG 1.1 paint is `none`, `currentColor`, `#rgb`, \
    `#rrggbb`, `rgb(...)`, a colour name or `url(#id)`; transparency is `fill=\"none\"` or \
    `fill-opacity`/`stroke-opacity`";

/// Whether `value` is an SVG 1.1 `<color>`: `#rgb`, `#rrggbb`, `rgb(...)` or a keyword.
fn is_svg11_color(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix('#') {
        return matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    let rgb = regex::Regex::new(
        r"^rgb\(\s*(\d+\s*,\s*\d+\s*,\s*\d+|\d+(\.\d+)?%\s*,\s*\d+(\.\d+)?%\s*,\s*\d+(\.\d+)?%)\s*\)$",
    )
    .expect("pattern");
    rgb.is_match(&lower) || SVG11_COLOR_KEYWORDS.contains(&lower.as_str())
}

/// Why `value` is not SVG 1.1 paint (`none`, `currentColor`, a `<color>`, `url(#id)` with an
/// optional fallback, `inherit`), or `None` when it is.
fn svg11_paint_error(value: &str) -> Option<String> {
    let value = value.trim();
    let paint = match value.strip_prefix("url(") {
        Some(rest) => {
            let Some((reference, fallback)) = rest.split_once(')') else {
                return Some(format!("`{value}`: unclosed `url(`"));
            };
            if !reference.trim().starts_with('#') {
                return Some(format!("`{value}`: expected `url(#id)`"));
            }
            fallback.trim()
        }
        None => value,
    };
    let keyword =
        ["none", "currentcolor", "inherit"].contains(&paint.to_ascii_lowercase().as_str());
    if (paint.is_empty() && value.starts_with("url(")) || keyword || is_svg11_color(paint) {
        return None;
    }
    Some(format!("expected SVG 1.1 paint, found `{value}`"))
}

/// Every `fill` and `stroke` (attribute or `style` declaration) in `svg` that is not SVG 1.1
/// paint, one line each; an error line if `svg` is not XML.
fn svg11_paint_findings(svg: &str) -> Vec<String> {
    let document = match roxmltree::Document::parse(svg) {
        Ok(document) => document,
        Err(error) => return vec![format!("not well-formed XML: {error}")],
    };
    let mut findings = Vec::new();
    for element in document.descendants().filter(roxmltree::Node::is_element) {
        let mut paints: Vec<(&str, &str)> = element
            .attributes()
            .filter(|attribute| attribute.namespace().is_none())
            .filter(|attribute| matches!(attribute.name(), "fill" | "stroke"))
            .map(|attribute| (attribute.name(), attribute.value()))
            .collect();
        if let Some(style) = element.attribute("style") {
            paints.extend(
                style
                    .split(';')
                    .filter_map(|declaration| declaration.split_once(':'))
                    .map(|(property, value)| (property.trim(), value.trim()))
                    .filter(|(property, _)| matches!(*property, "fill" | "stroke")),
            );
        }
        for (property, value) in paints {
            if let Some(error) = svg11_paint_error(value) {
                let position = document.text_pos_at(element.range().start);
                findings.push(format!(
                    "{}:{}: <{} {property}=...>: {error}",
                    position.row,
                    position.col,
                    element.tag_name().name()
                ));
            }
        }
    }
    findings
}

#[test]
fn svg11_paint_check_refuses_css_color_4_and_svg_2_paint() {
    for good in [
        "none",
        "currentColor",
        "#fff",
        "#3367d6",
        "#0000FF",
        "rgb(51, 103, 214)",
        "rgb(20%,40%,80%)",
        "white",
        "url(#gradient)",
        "url(#gradient) none",
    ] {
        assert_eq!(svg11_paint_error(good), None, "`{good}`");
    }
    for bad in [
        "#00000000",
        "#e8f0feff",
        "#0000",
        "rgba(0, 0, 0, 0)",
        "transparent",
        "context-stroke",
        "rebeccapurple",
        "#12345",
        "url(gradient)",
    ] {
        assert!(svg11_paint_error(bad).is_some(), "`{bad}` accepted");
    }
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg"><ellipse fill="#00000000" stroke="#3367d6"/><rect style="fill: transparent"/></svg>"##;
    assert_eq!(svg11_paint_findings(svg).len(), 2, "{svg}");
}

/// Every `.svg` under `dir`, skipping build output and hidden directories.
fn svg_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                svg_files(&path, found);
            }
        } else if path.extension().is_some_and(|ext| ext == "svg") {
            found.push(path);
        }
    }
}

/// Renderers without CSS Color 4 (cairosvg, older librsvg) draw `#00000000` as black, so a
/// picture in the repository uses SVG 1.1 paint only.
#[test]
fn committed_svg_pictures_use_svg11_paint() {
    let mut pictures = Vec::new();
    svg_files(std::path::Path::new(".."), &mut pictures);
    pictures.sort();
    assert!(pictures.len() >= 3, "only {pictures:?}");
    let mut findings = Vec::new();
    for picture in &pictures {
        let svg = std::fs::read_to_string(picture).expect("readable SVG");
        findings.extend(
            svg11_paint_findings(&svg)
                .into_iter()
                .map(|finding| format!("{}:{finding}", picture.display())),
        );
    }
    assert!(
        findings.is_empty(),
        "{}\n{SVG11_PAINT_HELP}; regenerate a picture `hermes graph` drew with the command \
         `committed_readme_images_are_current` names",
        findings.join("\n")
    );
}

#[test]
fn graph_svg_uses_svg11_paint() {
    let warnings = topology_with_warnings();
    for topology in [
        TRADING,
        "../examples/trading",
        warnings.path().to_str().expect("UTF-8 path"),
    ] {
        let output = stdout_of(hermes().args(["graph", topology, "--format", "svg"]), 0);
        let svg = String::from_utf8(output).expect("UTF-8");
        let findings = svg11_paint_findings(&svg);
        assert!(
            findings.is_empty(),
            "{topology}:\n{}\n{SVG11_PAINT_HELP}",
            findings.join("\n")
        );
    }
}

/// A topology whose `Order` (field 3 `size`, a `f64`) a protobuf port carries; `version`
/// is written as `version: N` when given.
fn topology_to_lock(size_type: &str, extra_field: bool, version: Option<u32>) -> String {
    let version = version.map_or_else(String::new, |v| format!("    version: {v}\n"));
    let extra = if extra_field {
        "      - { name: note, type: string }\n"
    } else {
        ""
    };
    format!(
        "package: shop\nmessages:\n  Order:\n{version}    fields:\n      - {{ name: symbol, type: string }}\n      - {{ name: qty, type: u32 }}\n      - {{ name: size, type: {size_type} }}\n{extra}"
    )
}

fn write_lockable(dir: &std::path::Path, messages: &str) {
    std::fs::write(dir.join("messages.yaml"), messages).expect("write");
    std::fs::write(
        dir.join("topology.yaml"),
        "name: shop\nmessages: [messages.yaml]\nnodes:\n  till:\n    publishes: [{ topic: orders, message: Order, bind: \"tcp://127.0.0.1:7300\" }]\n  books:\n    subscribes: [{ topic: orders, message: Order, connect: \"tcp://127.0.0.1:7300\" }]\n",
    )
    .expect("write");
}

#[test]
fn lock_writes_the_schema_beside_the_topology() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_lockable(dir.path(), &topology_to_lock("f64", false, None));
    hermes()
        .arg("lock")
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(predicate::str::contains("hermes.lock"));
    let text = std::fs::read_to_string(dir.path().join("hermes.lock")).expect("written");
    let lock: serde_json::Value = serde_json::from_str(&text).expect("the lock is JSON");
    assert_eq!(lock["@generated"], "by hermes lock; commit it");
    let order = &lock["packages"][0]["messages"][0];
    assert_eq!(order["name"], "Order");
    assert_eq!(order["version"], 1);
    assert_eq!(order["rules"], serde_json::json!(["wire"]));
    assert_eq!(order["fields"][2]["name"], "size");
    assert_eq!(order["fields"][2]["kind"]["scalar"], "f64");
}

#[test]
fn lock_is_deterministic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_lockable(dir.path(), &topology_to_lock("f64", true, Some(2)));
    hermes().arg("lock").arg(dir.path()).assert().code(0);
    let first = std::fs::read(dir.path().join("hermes.lock")).expect("written");
    hermes().arg("lock").arg(dir.path()).assert().code(0);
    let second = std::fs::read(dir.path().join("hermes.lock")).expect("written");
    assert_eq!(first, second);
}

#[test]
fn lock_of_a_missing_topology_exits_2() {
    let dir = tempfile::tempdir().expect("temporary directory");
    hermes()
        .arg("lock")
        .arg(dir.path().join("nowhere.yaml"))
        .assert()
        .code(2);
    assert!(!dir.path().join("hermes.lock").exists());
}

/// A locked `Order` (field 3 `size` a `f64`), its messages then replaced by `messages`.
fn locked_then(messages: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_lockable(dir.path(), &topology_to_lock("f64", false, None));
    hermes().arg("lock").arg(dir.path()).assert().code(0);
    std::fs::write(dir.path().join("messages.yaml"), messages).expect("write");
    dir
}

#[test]
fn check_of_a_breaking_change_against_the_lock_exits_1_naming_rule_and_locked_shape() {
    let dir = locked_then(&topology_to_lock("string", false, None));
    hermes()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "messages.yaml:7:29: error[hermes::breaking_change]: field 3 'size' changed from \
             double to string; hermes.lock has double",
        ))
        .stderr(predicate::str::contains(
            "breaks rule `field_wire_compatible_type`",
        ));
}

#[test]
fn check_accepts_a_breaking_change_with_a_version_raise_and_warns_the_lock_is_stale() {
    let dir = locked_then(&topology_to_lock("string", false, Some(2)));
    hermes()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(predicate::str::contains("warning[hermes::stale_lock]"));
}

#[test]
fn check_locked_makes_a_stale_lock_an_error() {
    let dir = locked_then(&topology_to_lock("f64", true, None));
    hermes()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(predicate::str::contains("warning[hermes::stale_lock]"));
    hermes()
        .args(["check", "--locked"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error[hermes::stale_lock]"));
    hermes().arg("lock").arg(dir.path()).assert().code(0);
    hermes()
        .args(["check", "--locked"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stderr(predicate::str::contains("ok (no findings)"));
}

#[test]
fn check_locked_requires_a_lock() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_lockable(dir.path(), &topology_to_lock("f64", false, None));
    hermes().arg("check").arg(dir.path()).assert().code(0);
    hermes()
        .args(["check", "--locked"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error[hermes::stale_lock]: no `hermes.lock` beside the topology",
        ));
}

#[test]
fn lock_refuses_a_breaking_change_unless_allowed() {
    let dir = locked_then(&topology_to_lock("string", false, None));
    let before = std::fs::read(dir.path().join("hermes.lock")).expect("locked");
    hermes()
        .arg("lock")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("hermes::breaking_change"));
    let after = std::fs::read(dir.path().join("hermes.lock")).expect("kept");
    assert_eq!(before, after, "a refused lock was written");
    hermes()
        .args(["lock", "--allow-breaking"])
        .arg(dir.path())
        .assert()
        .code(0);
    hermes()
        .args(["check", "--locked"])
        .arg(dir.path())
        .assert()
        .code(0);
}

#[test]
fn diff_ignores_the_lock() {
    let dir = locked_then(&topology_to_lock("f64", true, None));
    std::fs::write(dir.path().join("hermes.lock"), "not a lock").expect("write");
    let old = tempfile::tempdir().expect("temporary directory");
    write_lockable(old.path(), &topology_to_lock("f64", false, None));
    hermes()
        .arg("diff")
        .arg(old.path())
        .arg(dir.path())
        .assert()
        .code(0);
}

#[test]
fn diff_of_a_breaking_change_with_a_version_raise_exits_0_and_says_so() {
    let old = tempfile::tempdir().expect("temporary directory");
    write_lockable(old.path(), &topology_to_lock("f64", false, None));
    let new = tempfile::tempdir().expect("temporary directory");
    write_lockable(new.path(), &topology_to_lock("string", false, Some(2)));
    hermes()
        .arg("diff")
        .arg(old.path())
        .arg(new.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "breaking[hermes::field_wire_compatible_type]: field 3 'size' changed from double \
             to string (WIRE, deliberate: the version was raised)",
        ))
        .stdout(predicate::str::contains(
            "1 breaking (1 with a version raise)",
        ));
}

#[test]
fn diff_judges_python_json_arrays_by_position() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (case, codec, code, rule) in [
        (
            "delete_field_reserved",
            "python-json",
            1,
            "breaking[hermes::field_same_position]",
        ),
        ("delete_field_reserved", "protobuf", 0, "0 breaking"),
        (
            "rename_field",
            "python-json",
            0,
            "compatible[hermes::field_same_name]",
        ),
        ("append_field", "python-json", 0, "0 breaking"),
    ] {
        let (old, new) = (
            dir.path().join(case).join(codec).join("old"),
            dir.path().join(case).join(codec).join("new"),
        );
        evolution_topology(&old, case, "old", codec, false);
        evolution_topology(&new, case, "new", codec, false);
        hermes()
            .arg("diff")
            .arg(&old)
            .arg(&new)
            .assert()
            .code(code)
            .stdout(predicate::str::contains(rule));
    }
}

#[test]
fn keygen_writes_a_pair_per_node_proxy_and_operator_with_private_secrets() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    let keys = dir.path().join("keys");
    hermes()
        .args(["keygen", TRADING, "-o"])
        .arg(&keys)
        .args(["--operator", "alice"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("written"))
        .stderr(predicate::str::contains("secret-key").not());
    for (role, name) in [
        ("nodes", "strategy"),
        ("nodes", "audit"),
        ("proxies", "market"),
        ("operators", "operator"),
        ("operators", "alice"),
    ] {
        let public = keys.join(role).join(format!("{name}.key"));
        let secret = keys.join(role).join(format!("{name}.key_secret"));
        let text = std::fs::read_to_string(&public).expect("public key written");
        assert!(text.contains("public-key = \""), "{text}");
        assert!(!text.contains("secret-key"), "{text}");
        let mode = std::fs::metadata(&secret)
            .expect("secret written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", secret.display());
    }
    let ignore = std::fs::read_to_string(keys.join(".gitignore")).expect(".gitignore");
    assert!(ignore.contains("*.key_secret"));

    // Again: every key is kept; with --force, replaced.
    let before = std::fs::read(keys.join("nodes/strategy.key")).expect("key");
    hermes()
        .args(["keygen", TRADING, "-o"])
        .arg(&keys)
        .assert()
        .code(0);
    assert_eq!(
        std::fs::read(keys.join("nodes/strategy.key")).expect("key"),
        before
    );
    hermes()
        .args(["keygen", TRADING, "--force", "-o"])
        .arg(&keys)
        .assert()
        .code(0);
    assert_ne!(
        std::fs::read(keys.join("nodes/strategy.key")).expect("key"),
        before
    );
}

#[test]
fn diff_of_a_port_whose_message_was_renamed_breaks_its_lineage() {
    let old = tempfile::tempdir().expect("temporary directory");
    write_lockable(old.path(), &topology_to_lock("f64", false, None));
    let new = tempfile::tempdir().expect("temporary directory");
    write_lockable(
        new.path(),
        &topology_to_lock("f64", false, None).replace("  Order:", "  Purchase:"),
    );
    let topology = std::fs::read_to_string(new.path().join("topology.yaml")).expect("topology");
    std::fs::write(
        new.path().join("topology.yaml"),
        topology.replace("message: Order", "message: Purchase"),
    )
    .expect("write");
    hermes()
        .arg("diff")
        .arg(old.path())
        .arg(new.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "breaking[hermes::message_same_lineage]: port `till publishes orders` now carries \
             shop.Purchase instead of shop.Order",
        ));
}
