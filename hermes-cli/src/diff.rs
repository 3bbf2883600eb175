//! `hermes diff OLD NEW`: what changes between two versions of a topology — the plan of
//! proxies, nodes, ports and message types added, removed or changed — and every schema
//! change, classified compatible or breaking by buf's `WIRE` and `WIRE_JSON` rules.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hermes_build::diagnostic::{Heading, Label, render_human_finding};
use hermes_build::evolution;
use hermes_build::model::{Direction, Node, Port, Span};
use hermes_build::{FileId, LoadError, LoadOptions, Loaded, LockCheck, Report, Sources};
use hermes_core::proto::compat::{Finding, Rule, RuleSet, compare};
use serde_json::json;

use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes diff`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Schema changes are judged by buf's breaking-change rules: `WIRE` for a message that only \
protobuf ports carry (or no port), `WIRE_JSON` for one that a `json` port (or a `python-json` \
publication in the `object` layout) carries in either version, and Hermes' `PYTHON_POSITIONAL` \
for one that travels in `python-json`'s array layouts, where a field is its position: only \
appending fields is compatible there. The types a message's fields name are judged as the \
message is. Deleting a field without reserving its number (and, for JSON, its name) breaks; \
renaming one breaks JSON only; appending fields or enum variants is compatible.

A breaking change to a message whose `version:` NEW raised is deliberate: old and new \
receivers refuse each other's envelopes instead of misreading them. It is listed, but does \
not fail.

Exit status: 0 when nothing breaks (or only deliberately), 1 when a schema change breaks \
without a version raise (or a version is invalid), 2 on bad usage or an unreadable file or \
revision.

Examples:
  hermes diff old/topology.yaml new/topology.yaml
  hermes diff v1/ v2/ --format json | jq '.schema[] | select(.breaking)'
  hermes diff --against HEAD                     # ./topology.yaml against its last commit
  hermes diff examples/trading --against main    # a directory's topology.yaml against `main`")]
pub struct Args {
    /// OLD and NEW: topology files, or directories holding `topology.yaml`. With `--against`,
    /// only NEW (default `./topology.yaml`).
    #[arg(value_name = "TOPOLOGY", num_args = 0..=2)]
    paths: Vec<PathBuf>,
    /// Compare NEW with its version (and its messages files') at this git revision.
    #[arg(long, value_name = "REV")]
    against: Option<String>,
    /// How to print the plan and the findings: text, or one JSON document.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Human-readable: the plan, then rustc-like findings.
    Human,
    /// One JSON document on stdout.
    Json,
}

/// How long one `git` command may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the comparison and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let (old, new, _checkout) = match (&args.against, args.paths.as_slice()) {
        (None, [old, new]) => match load(old, None).and_then(|old| Ok((old, load(new, None)?))) {
            Ok((old, new)) => (old, new, None),
            Err(code) => return code,
        },
        (None, _) => {
            eprintln!(
                "error: expected two topologies, OLD and NEW, found {}",
                args.paths.len()
            );
            eprintln!(
                "help: `hermes diff old/topology.yaml new/topology.yaml`, or compare with a git revision: `hermes diff --against HEAD`"
            );
            return USAGE_OR_IO;
        }
        (Some(_), [_, _]) => {
            eprintln!("error: with `--against`, expected one topology (NEW), found 2");
            return USAGE_OR_IO;
        }
        (Some(revision), paths) => {
            let new_path = paths.first().map_or_else(
                || PathBuf::from(crate::topology::DEFAULT_PATH),
                PathBuf::clone,
            );
            let checkout = match Checkout::of(&new_path, revision) {
                Ok(checkout) => checkout,
                Err(message) => {
                    eprintln!("error: {message}");
                    return USAGE_OR_IO;
                }
            };
            let display = (checkout.root.clone(), revision.clone());
            let old = match load(&checkout.topology, Some(display)) {
                Ok(old) => old,
                Err(code) => return code,
            };
            match load(&new_path, None) {
                Ok(new) => (old, new, Some(checkout)),
                Err(code) => return code,
            }
        }
    };
    let plan = plan(&old, &new);
    let findings = schema_findings(&old, &new);
    match args.format {
        Format::Human => print_human(&old, &new, &plan, &findings),
        Format::Json => print_json(&old, &new, &plan, &findings),
    }
    if findings.iter().any(Located::fails) {
        FINDINGS
    } else {
        SUCCESS
    }
}

/// One version of the topology, with its files as they are to be displayed.
struct Version {
    loaded: Loaded,
    /// The loaded sources, with paths as the user knows them (`REV:path` for a revision).
    sources: Sources,
}

impl Version {
    fn path(&self, file: FileId) -> String {
        self.sources.path(file).display().to_string()
    }

    fn topology_path(&self) -> String {
        self.path(self.loaded.topology_file)
    }
}

/// Loads a version; `revision` is the temporary directory it was checked out into and the
/// revision's name, to display its paths as `REV:path`.
fn load(path: &Path, revision: Option<(PathBuf, String)>) -> Result<Version, u8> {
    let Some((root, name)) = revision else {
        let loaded = crate::topology::load(path)?;
        let sources = loaded.sources().clone();
        return Ok(Version { loaded, sources });
    };
    let options = LoadOptions::default().lock(LockCheck::Ignore);
    match hermes_build::load_with_options(path, &options) {
        Ok(loaded) => {
            let sources = at_revision(loaded.sources(), &root, &name);
            Ok(Version { loaded, sources })
        }
        Err(LoadError::Invalid(report)) => {
            let sources = at_revision(report.sources(), &root, &name);
            let report = Report::new(Arc::new(sources), report.diagnostics().to_vec());
            eprintln!("{}", report.render_human());
            eprintln!(
                "error: the topology at `{name}` is invalid ({})",
                report.summary()
            );
            Err(FINDINGS)
        }
        Err(error @ LoadError::Io { .. }) => {
            eprintln!("error: {error}");
            Err(USAGE_OR_IO)
        }
    }
}

/// `sources` with the paths under `root` (a checkout of `revision`) shown as `REV:path`.
fn at_revision(sources: &Sources, root: &Path, revision: &str) -> Sources {
    let mut shown = Sources::default();
    // Added in the same order, so every `FileId` still names the same file.
    for (_, file) in sources.iter() {
        let path = file.path.strip_prefix(root).map_or_else(
            |_| file.path.clone(),
            |inside| PathBuf::from(format!("{revision}:{}", git_path(inside))),
        );
        shown.add(path, file.text.clone());
    }
    shown
}

// ---------------------------------------------------------------------------------------------
// The plan of the topology change.

/// One line of the plan: `+` added, `-` removed, `~` changed.
struct Change {
    sign: char,
    /// `proxy`, `node`, `port`, `message` or `enum`.
    kind: &'static str,
    /// What changed, after the sign: `node audit`, `port strategy publishes orders`.
    text: String,
    /// Where: NEW's file and line, OLD's for a removal.
    file: String,
    line: u32,
}

impl Change {
    fn new(sign: char, kind: &'static str, text: String, at: (&Version, FileId, Span)) -> Self {
        let (version, file, span) = at;
        Change {
            sign,
            kind,
            text,
            file: version.path(file),
            line: span.line,
        }
    }

    fn change(&self) -> &'static str {
        match self.sign {
            '+' => "added",
            '-' => "removed",
            _ => "changed",
        }
    }
}

fn plan(old: &Version, new: &Version) -> Vec<Change> {
    let mut changes = Vec::new();
    proxies(old, new, &mut changes);
    nodes(old, new, &mut changes);
    types(old, new, &mut changes);
    changes
}

fn proxies(old: &Version, new: &Version, changes: &mut Vec<Change>) {
    let (old_file, new_file) = (old.loaded.topology_file, new.loaded.topology_file);
    let old_proxies = &old.loaded.topology.proxies;
    for (name, proxy) in new.loaded.topology.proxies.iter() {
        let Some(before) = old_proxies.get(name) else {
            let text = format!("proxy {name} {} -> {}", proxy.frontend, proxy.backend);
            changes.push(Change::new('+', "proxy", text, (new, new_file, name.span)));
            continue;
        };
        let sides = [
            ("frontend", Some(&before.frontend), Some(&proxy.frontend)),
            ("backend", Some(&before.backend), Some(&proxy.backend)),
            ("capture", before.capture.as_ref(), proxy.capture.as_ref()),
            ("host", before.host.as_ref(), proxy.host.as_ref()),
        ];
        for (side, was, is) in sides {
            if was.map(|v| &v.value) == is.map(|v| &v.value) {
                continue;
            }
            let shown = |value: Option<&hermes_build::model::Spanned<String>>| {
                value.map_or_else(|| "(none)".to_owned(), |value| value.value.clone())
            };
            let text = format!("proxy {name} {side} {} -> {}", shown(was), shown(is));
            let span = is.map_or(name.span, |value| value.span);
            changes.push(Change::new('~', "proxy", text, (new, new_file, span)));
        }
    }
    let new_proxies = &new.loaded.topology.proxies;
    for name in old_proxies.names() {
        if new_proxies.get(name).is_none() {
            let text = format!("proxy {name}");
            changes.push(Change::new('-', "proxy", text, (old, old_file, name.span)));
        }
    }
}

fn nodes(old: &Version, new: &Version, changes: &mut Vec<Change>) {
    let (old_file, new_file) = (old.loaded.topology_file, new.loaded.topology_file);
    let old_nodes = &old.loaded.topology.nodes;
    for (name, node) in new.loaded.topology.nodes.iter() {
        match old_nodes.get(name) {
            None => {
                let text = format!("node {name}");
                changes.push(Change::new('+', "node", text, (new, new_file, name.span)));
                for (direction, _, port) in node.ports() {
                    let text = port_text(name, direction, port, new);
                    changes.push(Change::new(
                        '+',
                        "port",
                        text,
                        (new, new_file, port.topic.span),
                    ));
                }
            }
            Some(before) => ports(name, (before, old), (node, new), changes),
        }
    }
    let new_nodes = &new.loaded.topology.nodes;
    for (name, node) in old_nodes.iter() {
        if new_nodes.get(name).is_none() {
            let text = format!("node {name}");
            changes.push(Change::new('-', "node", text, (old, old_file, name.span)));
            for (direction, _, port) in node.ports() {
                let text = format!("port {name} {} {}", verb(direction), port.topic);
                changes.push(Change::new(
                    '-',
                    "port",
                    text,
                    (old, old_file, port.topic.span),
                ));
            }
        }
    }
}

/// The ports of a node in both versions, matched by direction and topic.
fn ports(name: &str, old: (&Node, &Version), new: (&Node, &Version), changes: &mut Vec<Change>) {
    let (old_node, old) = old;
    let (new_node, new) = new;
    let (old_file, new_file) = (old.loaded.topology_file, new.loaded.topology_file);
    fn find<'a>(node: &'a Node, direction: Direction, topic: &str) -> Option<&'a Port> {
        node.ports()
            .find(|(d, _, port)| *d == direction && port.topic.value == topic)
            .map(|(_, _, port)| port)
    }
    for (direction, _, port) in new_node.ports() {
        let head = format!("port {name} {} {}", verb(direction), port.topic);
        let Some(before) = find(old_node, direction, &port.topic) else {
            let text = port_text(name, direction, port, new);
            changes.push(Change::new(
                '+',
                "port",
                text,
                (new, new_file, port.topic.span),
            ));
            continue;
        };
        let codec =
            |port: &Port, version: &Version| version.loaded.topology.port_settings(port).codec;
        let aspects = [
            (
                "message",
                before.message.value.clone(),
                port.message.value.clone(),
                port.message.span,
            ),
            (
                "codec",
                codec(before, old).name().to_owned(),
                codec(port, new).name().to_owned(),
                port.codec
                    .as_ref()
                    .map_or(port.topic.span, |codec| codec.span),
            ),
            (
                "endpoint",
                endpoint(before),
                endpoint(port),
                port.topic.span,
            ),
        ];
        for (aspect, was, is, span) in aspects {
            if was != is {
                let text = format!("{head} {aspect} {was} -> {is}");
                changes.push(Change::new('~', "port", text, (new, new_file, span)));
            }
        }
    }
    for (direction, _, port) in old_node.ports() {
        if find(new_node, direction, &port.topic).is_none() {
            let text = format!("port {name} {} {}", verb(direction), port.topic);
            changes.push(Change::new(
                '-',
                "port",
                text,
                (old, old_file, port.topic.span),
            ));
        }
    }
}

fn verb(direction: Direction) -> &'static str {
    match direction {
        Direction::Publish => "publishes",
        Direction::Subscribe => "subscribes",
    }
}

/// `port NODE publishes TOPIC: MESSAGE (codec) via PROXY`, for a port that is added.
fn port_text(node: &str, direction: Direction, port: &Port, version: &Version) -> String {
    let codec = version.loaded.topology.port_settings(port).codec;
    format!(
        "port {node} {} {}: {} ({}) {}",
        verb(direction),
        port.topic,
        port.message,
        codec.name(),
        endpoint(port)
    )
}

/// How a port connects: `via PROXY`, `bind ENDPOINT` or `connect ENDPOINT`.
fn endpoint(port: &Port) -> String {
    [
        ("via", &port.via),
        ("bind", &port.bind),
        ("connect", &port.connect),
    ]
    .into_iter()
    .filter_map(|(how, value)| value.as_ref().map(|value| format!("{how} {value}")))
    .collect::<Vec<_>>()
    .join(" ")
}

/// Messages and enums added or removed, by package and name.
fn types(old: &Version, new: &Version, changes: &mut Vec<Change>) {
    let declared = |version: &Version| {
        let mut names = BTreeMap::new();
        for source in &version.loaded.messages {
            let package = source.schema.package.value.clone();
            for name in source.schema.messages.names() {
                let key = ("message", package.clone(), name.value.clone());
                names.insert(key, (source.file, name.span));
            }
            for name in source.schema.enums.names() {
                let key = ("enum", package.clone(), name.value.clone());
                names.insert(key, (source.file, name.span));
            }
        }
        names
    };
    let (before, after) = (declared(old), declared(new));
    for (key, &(file, span)) in &after {
        let (kind, package, name) = key;
        if !before.contains_key(key) {
            let text = format!("{kind} {package}.{name}");
            changes.push(Change::new('+', kind, text, (new, file, span)));
        }
    }
    for (key, &(file, span)) in &before {
        let (kind, package, name) = key;
        if !after.contains_key(key) {
            let text = format!("{kind} {package}.{name}");
            changes.push(Change::new('-', kind, text, (old, file, span)));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema changes.

/// A compatibility finding, the rule set that judged it, and where it is in the YAML.
struct Located {
    finding: Finding,
    /// The rule set that judged it; `None` for a port's lineage, which no rule set judges.
    rules: Option<RuleSet>,
    /// Whether `label` points into NEW (else OLD, for something deleted).
    in_new: bool,
    label: Label,
    /// Whether a breaking change is deliberate: NEW raised the message's `version:`.
    versioned: bool,
}

impl Located {
    /// Breaking, and not made deliberate by a version raise: what makes the exit status 1.
    fn fails(&self) -> bool {
        self.finding.breaking && !self.versioned
    }
}

/// Every schema finding of the rule sets that judge each type in either version
/// ([`evolution::rule_sets`]).
fn schema_findings(old: &Version, new: &Version) -> Vec<Located> {
    let (old_files, new_files) = (
        hermes_build::proto::files(&old.loaded),
        hermes_build::proto::files(&new.loaded),
    );
    let mut sets = evolution::rule_sets(&old.loaded, &old_files);
    for (key, rules) in evolution::rule_sets(&new.loaded, &new_files) {
        sets.entry(key).or_default().extend(rules);
    }
    let mut findings = lineage_findings(old, new);
    for rules in RuleSet::ALL {
        for finding in compare(&old_files, &new_files, rules) {
            let key = (
                finding.location.package.clone(),
                finding.location.parent.clone(),
            );
            if !evolution::judged_by(&sets, &key, rules) {
                continue;
            }
            let (in_new, label) = locate(&finding, old, new);
            let versioned = finding.breaking
                && evolution::version_raised(
                    &new.loaded,
                    &|package, name| old_version(&old.loaded, package, name),
                    &finding,
                );
            findings.push(Located {
                finding,
                rules: Some(rules),
                in_new,
                label,
                versioned,
            });
        }
    }
    // NEW's places in file order, then OLD's (the deletions).
    findings.sort_by_key(|located| {
        let span = located.label.span;
        (
            !located.in_new,
            located.label.file,
            span.line,
            span.column,
            located.finding.rule,
        )
    });
    findings
}

/// `message_same_lineage` for every port (node, direction and topic in both versions) whose
/// message changed name or package: its envelopes carry another fingerprint, which every
/// receiver built before refuses. A raised version alone is a deliberate break and not this.
fn lineage_findings(old: &Version, new: &Version) -> Vec<Located> {
    let full_name = |version: &Version, message: &str| {
        version
            .loaded
            .message(message)
            .map(|(source, _)| format!("{}.{message}", source.schema.package.value))
    };
    let mut findings = Vec::new();
    for (name, new_node) in &new.loaded.topology.nodes {
        let Some(old_node) = old.loaded.topology.nodes.get(name) else {
            continue;
        };
        for (direction, _, port) in new_node.ports() {
            let before = old_node
                .ports()
                .find(|(d, _, before)| *d == direction && before.topic.value == port.topic.value);
            let Some((_, _, before)) = before else {
                continue;
            };
            let (Some(was), Some(is)) = (
                full_name(old, &before.message.value),
                full_name(new, &port.message.value),
            ) else {
                continue;
            };
            if was == is {
                continue;
            }
            let (package, parent) = was.rsplit_once('.').unwrap_or(("", was.as_str()));
            let finding = Finding {
                rule: Rule::MessageSameLineage,
                breaking: true,
                location: hermes_core::proto::compat::Location {
                    package: package.to_owned(),
                    parent: parent.to_owned(),
                    number: None,
                    old_name: Some(was.clone()),
                    new_name: Some(is.clone()),
                },
                message: format!(
                    "port `{name} {} {}` now carries {is} instead of {was}: receivers built \
                     before refuse its envelopes",
                    verb(direction),
                    port.topic
                ),
            };
            let label = Label {
                file: new.loaded.topology_file,
                span: port.message.span,
                message: "in the new version".to_owned(),
            };
            findings.push(Located {
                finding,
                rules: None,
                in_new: true,
                label,
                versioned: false,
            });
        }
    }
    findings
}

/// The `version:` of message `name` of `package` in `loaded`, if it declares the message.
fn old_version(loaded: &Loaded, package: &str, name: &str) -> Option<u32> {
    loaded
        .messages
        .iter()
        .filter(|source| source.schema.package.value == package)
        .find_map(|source| source.schema.messages.get(name))
        .map(|message| message.version())
}

/// Where a finding is in the YAML: at NEW's field or variant, OLD's for one deleted or a
/// reservation removed; at the message or enum itself when nothing closer is known.
fn locate(finding: &Finding, old: &Version, new: &Version) -> (bool, Label) {
    let reservation = matches!(
        finding.rule,
        Rule::ReservedMessageNoDelete | Rule::ReservedEnumNoDelete
    );
    let deleted = reservation || finding.location.new_name.is_none();
    let (version, other, in_new) = if deleted {
        (old, new, false)
    } else {
        (new, old, true)
    };
    let (file, span, in_new) = match evolution::locate(&version.loaded, finding) {
        Some((file, span)) => (file, span, in_new),
        None => match evolution::locate(&other.loaded, finding) {
            Some((file, span)) => (file, span, !in_new),
            None => (version.loaded.topology_file, Span::UNKNOWN, in_new),
        },
    };
    let note = if in_new {
        "in the new version"
    } else {
        "in the old version"
    };
    let label = Label {
        file,
        span,
        message: note.to_owned(),
    };
    (in_new, label)
}

fn code(rule: Rule) -> String {
    format!("hermes::{}", rule.name())
}

// ---------------------------------------------------------------------------------------------
// Output.

fn print_human(old: &Version, new: &Version, plan: &[Change], findings: &[Located]) {
    println!("{} -> {}", old.topology_path(), new.topology_path());
    if plan.is_empty() {
        println!("plan: no topology changes");
    } else {
        println!("plan:");
        for change in plan {
            println!(
                "  {} {}  ({}:{})",
                change.sign, change.text, change.file, change.line
            );
        }
    }
    for located in findings {
        let finding = &located.finding;
        let kind = if finding.breaking {
            "breaking"
        } else {
            "compatible"
        };
        let code = code(finding.rule);
        let versioned = if located.versioned {
            ", deliberate: the version was raised"
        } else {
            ""
        };
        let heading = Heading {
            kind,
            code: &code,
            message: &format!(
                "{} ({}{versioned})",
                finding.message,
                located.rules.map_or("LINEAGE", RuleSet::buf_name)
            ),
        };
        let help = located.fails().then(|| evolution::undo_help(finding.rule));
        let sources = if located.in_new {
            &new.sources
        } else {
            &old.sources
        };
        println!();
        print!(
            "{}",
            render_human_finding(sources, heading, std::slice::from_ref(&located.label), help)
        );
    }
    let breaking = findings.iter().filter(|l| l.finding.breaking).count();
    let versioned = findings.iter().filter(|l| l.versioned).count();
    let versioned = if versioned > 0 {
        format!(" ({versioned} with a version raise)")
    } else {
        String::new()
    };
    println!();
    println!(
        "{} topology change{}, {breaking} breaking{versioned} and {} compatible schema change{}",
        plan.len(),
        if plan.len() == 1 { "" } else { "s" },
        findings.len() - breaking,
        if findings.len() - breaking == 1 {
            ""
        } else {
            "s"
        },
    );
}

fn print_json(old: &Version, new: &Version, plan: &[Change], findings: &[Located]) {
    let plan: Vec<_> = plan
        .iter()
        .map(|change| {
            json!({
                "change": change.change(),
                "kind": change.kind,
                "text": format!("{} {}", change.sign, change.text),
                "file": change.file,
                "line": change.line,
            })
        })
        .collect();
    let schema: Vec<_> = findings
        .iter()
        .map(|located| {
            let finding = &located.finding;
            let location = &finding.location;
            let version = if located.in_new { new } else { old };
            let span = located.label.span;
            json!({
                "rule": finding.rule.name(),
                "code": code(finding.rule),
                "breaking": finding.breaking,
                "version_raised": located.versioned,
                "rules": located.rules.map_or("LINEAGE", RuleSet::buf_name),
                "message": finding.message,
                "package": location.package,
                "parent": location.parent,
                "number": location.number,
                "old_name": location.old_name,
                "new_name": location.new_name,
                "version": if located.in_new { "new" } else { "old" },
                "file": version.path(located.label.file),
                "line": span.is_known().then_some(span.line),
                "column": span.is_known().then_some(span.column),
            })
        })
        .collect();
    let breaking = findings.iter().filter(|l| l.finding.breaking).count();
    let document = json!({
        "old": old.topology_path(),
        "new": new.topology_path(),
        "plan": plan,
        "schema": schema,
        "breaking": breaking,
        "compatible": findings.len() - breaking,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
}

// ---------------------------------------------------------------------------------------------
// `--against REV`: the old version from git.

/// A topology and its messages files as they are at a git revision, written into a temporary
/// directory that is removed on drop.
struct Checkout {
    root: PathBuf,
    topology: PathBuf,
}

impl Checkout {
    /// Writes the revision's version of the topology at `path` (and of every messages file it
    /// names) under a new temporary directory.
    fn of(path: &Path, revision: &str) -> Result<Checkout, String> {
        let file = crate::topology::resolve(path);
        let name = file
            .file_name()
            .ok_or_else(|| format!("`{}` names no file", file.display()))?;
        let dir = match file.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let dir = dir
            .canonicalize()
            .map_err(|error| format!("cannot read `{}`: {error}", dir.display()))?;
        let top = git(&dir, &["rev-parse", "--show-toplevel"])
            .map_err(|_| format!("`{}` is not in a git repository", dir.display()))?;
        let top = PathBuf::from(String::from_utf8_lossy(&top).trim_end_matches(['\n', '\r']));
        let top = top
            .canonicalize()
            .map_err(|error| format!("cannot read `{}`: {error}", top.display()))?;
        let inside = dir.strip_prefix(&top).map_err(|_| {
            format!(
                "`{}` is not inside the repository `{}`",
                dir.display(),
                top.display()
            )
        })?;
        let relative = inside.join(name);
        let commit = format!("{revision}^{{commit}}");
        git(&top, &["rev-parse", "--verify", "--quiet", &commit])
            .map_err(|_| format!("unknown revision `{revision}`"))?;
        let text = git(
            &top,
            &["show", &format!("{revision}:{}", git_path(&relative))],
        )
        .map_err(|_| format!("`{}` does not exist at `{revision}`", git_path(&relative)))?;
        let mut checkout = Checkout::create()?;
        let topology = checkout.root.join(&relative);
        checkout.write(&topology, &text)?;
        let text = String::from_utf8_lossy(&text).into_owned();
        // An unparsable topology or a missing messages file is reported by the load that
        // follows, at the path the user knows.
        if let Ok(paths) = hermes_build::messages_paths(&topology, text) {
            for messages in paths {
                let Some(inside) = lexically_inside(&checkout.root, &messages) else {
                    continue;
                };
                let spec = format!("{revision}:{}", git_path(&inside));
                if let Ok(contents) = git(&top, &["show", &spec]) {
                    checkout.write(&checkout.root.join(&inside), &contents)?;
                }
            }
        }
        checkout.topology = topology;
        Ok(checkout)
    }

    /// A new, empty temporary directory.
    fn create() -> Result<Checkout, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let root = std::env::temp_dir().join(format!("hermes-diff-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&root)
            .map_err(|error| format!("cannot create `{}`: {error}", root.display()))?;
        Ok(Checkout {
            topology: root.clone(),
            root,
        })
    }

    fn write(&self, path: &Path, contents: &[u8]) -> Result<(), String> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| format!("cannot create `{}`: {error}", parent.display()))?;
        }
        std::fs::write(path, contents)
            .map_err(|error| format!("cannot write `{}`: {error}", path.display()))
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `path` relative to `root` after resolving `..` and `.` without touching the disk; `None`
/// when it leaves `root`.
fn lexically_inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.strip_prefix(root).ok()?.components() {
        match component {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::Normal(_) => parts.push(component),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// A relative path as git writes it, with `/` separators.
fn git_path(path: &Path) -> String {
    path.components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs `git args` in `dir` and returns its standard output; `Err` with its standard error
/// when it fails, cannot start, or takes longer than [`GIT_TIMEOUT`].
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run `git`: {error}"))?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err("cannot read `git`'s output".to_owned());
    };
    // Read both pipes on threads so a large output cannot block git while we wait for it.
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut bytes);
        bytes
    });
    let deadline = Instant::now() + GIT_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`git {}` took longer than {GIT_TIMEOUT:?}",
                    args.join(" ")
                ));
            }
            Err(error) => return Err(format!("cannot wait for `git`: {error}")),
        }
    };
    let stdout = out
        .join()
        .map_err(|_| "cannot read `git`'s output".to_owned())?
        .map_err(|error| format!("cannot read `git`'s output: {error}"))?;
    let stderr = err.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        Err(String::from_utf8_lossy(&stderr).trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{git_path, lexically_inside};

    #[test]
    fn messages_paths_that_leave_the_checkout_are_refused() {
        let root = Path::new("/tmp/checkout");
        assert_eq!(
            lexically_inside(root, &root.join("app/../shared/ids.yaml")),
            Some(Path::new("shared/ids.yaml").to_path_buf())
        );
        assert_eq!(lexically_inside(root, &root.join("../outside.yaml")), None);
        assert_eq!(lexically_inside(root, Path::new("/elsewhere/x.yaml")), None);
    }

    #[test]
    fn git_paths_use_forward_slashes() {
        assert_eq!(
            git_path(Path::new("app/./topology.yaml")),
            "app/topology.yaml"
        );
    }
}
