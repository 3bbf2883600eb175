//! `hermes export compose|k8s|systemd`: reviewed snapshots of the trading desk's export, the
//! files judged by the engines' own validators, hosts, refusals and secrets.
//!
//! The validators run offline once installed: `kubernetes-validate` (with the Kubernetes
//! schemas it ships) and `check-jsonschema` (with its vendored compose spec) come from PyPI into
//! a venv under cargo's target directory, bounded in time and shared with the other tests' venv
//! helper; installing them fails the test, it never skips it. `systemd-analyze verify` runs
//! where systemd is installed and the test says so when it is not.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The same bounded, locked venv install as the Python interop tests.
#[path = "../../hermes-build/tests/support/venv.rs"]
mod venv;

const KUBERNETES_VALIDATE: &str = "kubernetes-validate==1.37.0";
const CHECK_JSONSCHEMA: &str = "check-jsonschema==0.39.0";
/// A Kubernetes version whose schemas kubernetes-validate 1.37.0 ships.
const KUBERNETES_VERSION: &str = "1.33.0";
/// The bound on each validator run.
const VALIDATE_DEADLINE: Duration = Duration::from_secs(120);

fn trading() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/trading/topology.yaml")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/export")
        .join(name)
}

fn hermes(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("hermes"))
        .args(args)
        .output()
        .expect("hermes runs")
}

/// `hermes export TARGET TOPOLOGY -o <temp> EXTRA…`, which must succeed; returns the directory.
fn export(target: &str, topology: &Path, extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temporary directory");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "export".as_ref(),
        target.as_ref(),
        topology.as_os_str(),
        "-o".as_ref(),
        out.path().as_os_str(),
    ];
    args.extend(extra.iter().map(|arg| std::ffi::OsStr::new(*arg)));
    let output = hermes(&args);
    assert!(
        output.status.success(),
        "hermes export {target} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Every file under `dir`, relative and sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

/// The files of an export as one text: each under a `==> path <==` line, as `head` shows
/// several files; copies of the topology's own files (`config/`) by name only.
fn listing(dir: &Path) -> String {
    let mut text = String::new();
    for path in files(dir) {
        text.push_str(&format!("==> {} <==\n", path.display()));
        if !path.starts_with("config") {
            text.push_str(&std::fs::read_to_string(dir.join(&path)).expect("text"));
        }
    }
    text
}

#[test]
fn the_trading_desk_exports_to_compose_as_reviewed() {
    let out = export("compose", &trading(), &[]);
    insta::assert_snapshot!("trading_compose", listing(out.path()));
}

#[test]
fn the_trading_desk_exports_to_kubernetes_as_reviewed() {
    let out = export("k8s", &trading(), &[]);
    insta::assert_snapshot!("trading_k8s", listing(out.path()));
}

#[test]
fn the_trading_desk_exports_to_systemd_as_reviewed() {
    let out = export("systemd", &trading(), &[]);
    insta::assert_snapshot!("trading_systemd", listing(out.path()));
}

#[test]
fn exporting_twice_writes_the_same_bytes() {
    let first = export("k8s", &trading(), &[]);
    let second = export("k8s", &trading(), &[]);
    assert_eq!(listing(first.path()), listing(second.path()));
}

/// The venv's `bin` directory with both validators, made once per test process.
fn validators() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = BIN.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let venv = venv::venv(
            &tmp,
            "export-validators-venv",
            &[KUBERNETES_VALIDATE, CHECK_JSONSCHEMA],
            |venv| {
                let mut check = Command::new(venv.join("bin").join("kubernetes-validate"));
                check.arg("--version");
                check
            },
        )?;
        Ok(venv.join("bin"))
    });
    match made {
        Ok(bin) => bin,
        Err(why) => panic!(
            "cannot install the validators: {why}\n\
             help: these tests need python3 with its `venv` module and access to PyPI"
        ),
    }
}

/// Runs `command` to completion within [`VALIDATE_DEADLINE`]; panics with its output unless
/// it succeeds.
fn must_pass(mut command: Command, what: &str) {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let shown = format!("{command:?}");
    let status = venv::run_until(
        &mut command,
        Instant::now() + VALIDATE_DEADLINE,
        log.path(),
        log.path(),
    )
    .unwrap_or_else(|why| panic!("{what}: {why}"));
    let output = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(
        status.success(),
        "{what}: {shown} failed ({status}):\n{output}"
    );
    eprintln!("{what}: {shown} passed");
}

/// `kubernetes-validate --strict` on `manifests`, at the Kubernetes version the tests pin.
fn must_pass_kubernetes_validate(manifests: &[PathBuf]) {
    let mut validate = Command::new(validators().join("kubernetes-validate"));
    validate
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(manifests);
    must_pass(validate, "kubernetes-validate");
}

/// `check-jsonschema` with its vendored compose spec on `compose_file`.
fn must_pass_compose_spec(compose_file: &Path) {
    let mut check = Command::new(validators().join("check-jsonschema"));
    check
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(compose_file);
    must_pass(check, "check-jsonschema");
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .map(|path| dir.join(path))
        .collect()
}

#[test]
fn kubernetes_manifests_pass_kubernetes_validate() {
    let out = export("k8s", &trading(), &[]);
    let manifests = yaml_files(out.path());
    assert!(manifests.len() >= 9, "{manifests:?}");
    must_pass_kubernetes_validate(&manifests);
}

#[test]
fn the_compose_file_passes_the_compose_spec() {
    let out = export("compose", &trading(), &[]);
    must_pass_compose_spec(&out.path().join("compose.yaml"));
}

#[test]
fn compose_with_metrics_gets_healthchecks_and_scrape_labels() {
    let out = export("compose", &fixture("two_hosts"), &[]);
    let compose = std::fs::read_to_string(out.path().join("compose.yaml")).expect("written");
    // Each container serves on the port it asks for: no shared machine to spread over.
    assert_eq!(
        compose.matches("HERMES_METRICS: \"0.0.0.0:9100\"").count(),
        3,
        "{compose}"
    );
    assert_eq!(
        compose.matches("prometheus.io/port: \"9100\"").count(),
        3,
        "{compose}"
    );
    // The default image is debian with bash; `logger` runs the same image, so all three.
    assert_eq!(compose.matches("healthcheck:").count(), 3, "{compose}");
    assert!(compose.contains("restart: \"no\""), "{compose}");
    must_pass_compose_spec(&out.path().join("compose.yaml"));
}

/// A prefix whose `bin` holds an executable stub for every program the units start, since
/// `systemd-analyze verify` checks that `ExecStart=` programs exist.
fn stub_prefix(names: &[&str]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt as _;
    let prefix = tempfile::tempdir().expect("temporary directory");
    let bin = prefix.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    for name in names {
        let path = bin.join(name);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").expect("stub");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    prefix
}

/// `systemd-analyze verify` on every unit in `dir`, or `false` when there is no systemd.
fn systemd_verify(dir: &Path) -> bool {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping `systemd-analyze verify`: systemd-analyze is not installed here");
        return false;
    }
    let units: Vec<PathBuf> = files(dir)
        .into_iter()
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "service" || ext == "target")
        })
        .map(|path| dir.join(path))
        .collect();
    assert!(!units.is_empty());
    let mut verify = Command::new("systemd-analyze");
    verify.args(["verify", "--man=no"]).args(&units);
    must_pass(verify, "systemd-analyze verify");
    true
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    let names = [
        "hermes", "bitstamp", "kraken", "coinbase", "strategy", "risk", "executor", "monitor",
    ];
    let prefix = stub_prefix(&names);
    let prefix = prefix.path().to_str().expect("utf-8 path");
    let out = export("systemd", &trading(), &["--prefix", prefix]);
    let unit = std::fs::read_to_string(out.path().join("hermes-trading-risk.service"))
        .expect("a unit per node");
    assert!(
        unit.contains(&format!("ExecStart={prefix}/bin/risk\n")),
        "{unit}"
    );
    systemd_verify(out.path());
}

#[test]
fn a_two_host_topology_puts_each_hosts_units_under_its_name() {
    let prefix = stub_prefix(&["hermes", "feed"]);
    let prefix_text = prefix.path().to_str().expect("utf-8 path");
    let out = export("systemd", &fixture("two_hosts"), &["--prefix", prefix_text]);
    let found: Vec<String> = files(out.path())
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    assert_eq!(
        found,
        [
            "core/hermes-spread-logger.service",
            "core/hermes-spread.target",
            "edge/hermes-spread-feed.service",
            "edge/hermes-spread-hub.service",
            "edge/hermes-spread.target",
            "prometheus.yml",
        ]
    );
    let read = |path: &str| std::fs::read_to_string(out.path().join(path)).expect("written");
    // On `edge` the proxy starts first and takes 9100, the feed the next port; `logger`
    // is alone on `core`.
    let prometheus = read("prometheus.yml");
    for target in ["10.0.0.1:9100", "10.0.0.1:9101", "10.0.0.2:9100"] {
        assert!(
            prometheus.contains(target),
            "{target} missing:\n{prometheus}"
        );
    }
    let feed = read("edge/hermes-spread-feed.service");
    assert!(feed.contains("Restart=always\n"), "{feed}");
    assert!(
        feed.contains("After=network-online.target hermes-spread-hub.service\n"),
        "{feed}"
    );
    assert!(
        feed.contains("Environment=HERMES_METRICS=0.0.0.0:9101\n"),
        "{feed}"
    );
    let logger = read("core/hermes-spread-logger.service");
    assert!(logger.contains("Restart=no\n"), "{logger}");
    assert!(
        logger.contains("ExecStart=/usr/bin/env python3 logger.py --verbose\n"),
        "{logger}"
    );
    // The proxy is on another machine: no ordering on a unit that does not exist here.
    assert!(!logger.contains("hermes-spread-hub"), "{logger}");
    systemd_verify(&out.path().join("edge"));
}

#[test]
fn an_ipc_link_between_processes_is_refused_for_kubernetes() {
    let out = tempfile::tempdir().expect("temporary directory");
    let topology = fixture("ipc_across");
    let output = hermes(&[
        "export".as_ref(),
        "k8s".as_ref(),
        topology.as_os_str(),
        "-o".as_ref(),
        out.path().as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`ipc:///tmp/hermes-export-ticks`")
            && stderr.contains("node `logger` subscribing `ticks`")
            && stderr.contains("cannot cross pods")
            && stderr.contains("help: use tcp"),
        "{stderr}"
    );
    assert!(files(out.path()).is_empty(), "nothing is written on error");
}

/// The secured fixture copied into a temporary directory, with `hermes keygen`'s keys.
fn secured_with_keys() -> tempfile::TempDir {
    with_keys(&fixture("secured"))
}

/// The topology and messages files of `fixture` copied into a temporary directory, with
/// `hermes keygen`'s keys.
fn with_keys(fixture: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for name in ["topology.yaml", "messages.yaml"] {
        std::fs::copy(fixture.join(name), dir.path().join(name)).expect("copy");
    }
    let output = hermes(&["keygen".as_ref(), dir.path().as_os_str()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

#[test]
fn a_secured_topology_gets_a_secret_per_process_in_a_private_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let topology = secured_with_keys();
    let out = export("k8s", topology.path(), &[]);
    let path = out.path().join("secrets.yaml");
    let mode = std::fs::metadata(&path)
        .expect("secrets.yaml")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let secrets = std::fs::read_to_string(&path).expect("readable");
    // Each process's Secret holds its own secret key and no other.
    let documents: Vec<&str> = secrets.split("\n---\n").collect();
    assert_eq!(documents.len(), 3, "{secrets}");
    for (name, own) in [
        ("vault-hub-keys", "proxies.hub.key_secret"),
        ("vault-feed-keys", "nodes.feed.key_secret"),
        ("vault-logger-keys", "nodes.logger.key_secret"),
    ] {
        let document = documents
            .iter()
            .find(|document| document.contains(&format!("name: {name}\n")))
            .unwrap_or_else(|| panic!("no Secret `{name}`:\n{secrets}"));
        assert_eq!(document.matches("key_secret: |").count(), 1, "{document}");
        assert!(document.contains(&format!("{own}: |")), "{document}");
        assert!(document.contains("nodes.logger.key: |"), "{document}");
    }
    // The secured proxy runs as the crate's own binary, with the keys mounted.
    let hub = std::fs::read_to_string(out.path().join("hub.yaml")).expect("hub.yaml");
    assert!(
        hub.contains("- name: HERMES_KEYS\n              value: /etc/hermes-keys\n"),
        "{hub}"
    );
    assert!(hub.contains("secretName: vault-hub-keys"), "{hub}");
    assert!(!hub.contains("- proxy\n"), "{hub}");
    must_pass_kubernetes_validate(&yaml_files(out.path()));
}

#[test]
fn a_secured_compose_file_mounts_each_service_its_own_secret_key_by_absolute_path() {
    let topology = secured_with_keys();
    let out = export("compose", topology.path(), &[]);
    let compose = std::fs::read_to_string(out.path().join("compose.yaml")).expect("written");
    let keys = topology.path().join("keys/nodes/feed.key_secret");
    assert!(
        compose.contains(&format!("file: {}\n", keys.display())),
        "{compose}"
    );
    assert!(
        compose.contains("target: /etc/hermes-keys/nodes/feed.key_secret"),
        "{compose}"
    );
    assert_eq!(compose.matches("HERMES_KEYS: /etc/hermes-keys").count(), 3);
    must_pass_compose_spec(&out.path().join("compose.yaml"));
}

#[test]
fn a_secured_topology_without_keys_is_refused() {
    let out = tempfile::tempdir().expect("temporary directory");
    let topology = fixture("secured");
    let output = hermes(&[
        "export".as_ref(),
        "k8s".as_ref(),
        topology.as_os_str(),
        "-o".as_ref(),
        out.path().as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is missing") && stderr.contains("help: run `hermes keygen"),
        "{stderr}"
    );
}

/// hermes-build's two-host desk: `image:` and `resources:` in `defaults:` and on `router`, and
/// a node, `strategy`, that binds `tcp://*:7000` for `router` to connect to.
fn two_host_desk() -> tempfile::TempDir {
    with_keys(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../hermes-build/tests/fixtures/valid/two_hosts"),
    )
}

/// The document of `kind` named `name` among `text`'s `---`-separated documents.
fn document<'a>(text: &'a str, kind: &str, name: &str) -> &'a str {
    text.split("\n---\n")
        .find(|document| {
            document.contains(&format!("\nkind: {kind}\n"))
                && document.contains(&format!("\n  name: {name}\n"))
        })
        .unwrap_or_else(|| panic!("no {kind} `{name}` in:\n{text}"))
}

#[test]
fn a_binding_node_gets_recreate_and_a_service_that_its_peers_connect_to_by_name() {
    let topology = two_host_desk();
    let out = export("k8s", topology.path(), &[]);
    let read = |path: &str| std::fs::read_to_string(out.path().join(path)).expect("written");
    let strategy = read("strategy.yaml");
    let deployment = document(&strategy, "Deployment", "strategy");
    assert!(
        deployment.contains("\n  strategy:\n    type: Recreate\n"),
        "{deployment}"
    );
    assert!(
        deployment
            .contains("- name: HERMES_STRATEGY_ORDERS\n              value: \"tcp://*:7000\"\n"),
        "{deployment}"
    );
    assert!(
        deployment.contains("- containerPort: 7000\n"),
        "{deployment}"
    );
    let service = document(&strategy, "Service", "strategy-orders");
    assert!(
        service.contains(
            "    - name: zmtp\n      port: 7000\n      protocol: TCP\n      targetPort: 7000\n"
        ),
        "{service}"
    );
    assert!(
        service.contains("  selector:\n    app.kubernetes.io/name: strategy\n"),
        "{service}"
    );
    // `router` connects to the Service by its DNS name and, binding nothing, rolls.
    let router = read("router.yaml");
    assert!(
        router.contains(
            "- name: HERMES_STRATEGY_ORDERS\n              value: tcp://strategy-orders:7000\n"
        ),
        "{router}"
    );
    assert!(router.contains("\n    type: RollingUpdate\n"), "{router}");
    assert!(!router.contains("kind: Service"), "{router}");
    must_pass_kubernetes_validate(&yaml_files(out.path()));
}

#[test]
fn images_and_resource_requests_come_from_the_yaml_key_by_key() {
    let topology = two_host_desk();
    let out = export("k8s", topology.path(), &[]);
    let read = |path: &str| std::fs::read_to_string(out.path().join(path)).expect("written");
    let requests = |cpu: &str, memory: &str| {
        format!(
            "resources:\n            requests:\n              cpu: \"{cpu}\"\n              memory: \"{memory}\"\n"
        )
    };
    // `router` names its own image and memory; its cpu is `defaults.resources`'.
    let router = read("router.yaml");
    assert!(
        router.contains("image: registry.example/router:2.1\n"),
        "{router}"
    );
    assert!(router.contains(&requests("100m", "256Mi")), "{router}");
    // The others take `defaults:` whole.
    for process in ["market", "feed", "strategy"] {
        let text = read(&format!("{process}.yaml"));
        assert!(
            text.contains("image: registry.example/desk:1.0\n"),
            "{text}"
        );
        assert!(text.contains(&requests("100m", "64Mi")), "{text}");
    }
    must_pass_kubernetes_validate(&yaml_files(out.path()));
}

#[test]
fn the_two_host_desk_exports_to_a_valid_compose_file() {
    let topology = two_host_desk();
    let out = export("compose", topology.path(), &[]);
    let compose = std::fs::read_to_string(out.path().join("compose.yaml")).expect("written");
    assert!(
        compose.contains("HERMES_STRATEGY_ORDERS: tcp://strategy:7000\n"),
        "{compose}"
    );
    assert!(
        compose.contains("image: registry.example/router:2.1\n"),
        "{compose}"
    );
    must_pass_compose_spec(&out.path().join("compose.yaml"));
}
