//! Schema evolution: which rule sets judge each message, the lock file (`hermes.lock`) that
//! records the wire schema of every message and enum as released, and the comparison of a
//! topology with its lock that [`crate::load`] makes.
//!
//! A message that only protobuf ports carry (or no port) is judged by buf's `WIRE`; one that a
//! `json` port carries, with every type its fields name, by `WIRE_JSON`; one that travels in
//! `python-json`'s array layouts by `PYTHON_POSITIONAL`. `hermes diff`, `hermes lock` and the
//! lock check all ask [`rule_sets`], so they never disagree.
//!
//! ```
//! use hermes_build::evolution::Lock;
//!
//! let lock = Lock::parse(r#"{ "@generated": "by hermes lock; commit it", "packages": [] }"#)?;
//! assert!(lock.packages.is_empty());
//! assert!(Lock::parse("{ \"packages\": 3 }").is_err());
//! # Ok::<(), hermes_build::evolution::LockError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hermes_core::proto::compat::{Finding, Rule, RuleSet, compare};
use hermes_core::proto::{Enum, File, Kind, Message, Reserved};
use serde::{Deserialize, Serialize};

use crate::model::{Codec, Direction, PythonLayout, Span};
use crate::{Code, Diagnostic, FileId, Loaded, LockCheck, Report};

/// The lock file's name; it lives beside the topology file.
pub const LOCK_FILE_NAME: &str = "hermes.lock";

/// The value of the lock's `@generated` field.
pub const GENERATED: &str = "by hermes lock; commit it";

/// The rule sets that judge each type of a topology, by (package, name).
///
/// A port's codec picks the set for the message it carries: `WIRE` for protobuf, `WIRE_JSON`
/// for `json` and for a `python-json` publication in the `object` layout, `PYTHON_POSITIONAL`
/// for the `python-json` array layouts (`message` and `list`) and for every `python-json`
/// subscription, since hermes-zmq publishers write arrays. Every type a field names is judged
/// as the message that carries it. A type no port carries is judged by `WIRE`; `WIRE` is left
/// out where `WIRE_JSON`, its superset, applies.
pub fn rule_sets(loaded: &Loaded, files: &[File]) -> BTreeMap<(String, String), BTreeSet<RuleSet>> {
    let topology = &loaded.topology;
    let mut pending: Vec<(String, RuleSet)> = Vec::new();
    for (_, node) in &topology.nodes {
        for (direction, _, port) in node.ports() {
            let name = port.message.value.clone();
            let rules = match topology.port_settings(port).codec {
                Codec::Protobuf => RuleSet::Wire,
                Codec::Json => RuleSet::WireJson,
                Codec::PythonJson => {
                    let layout = loaded
                        .message(&name)
                        .map(|(_, message)| topology.python_layout(port, message));
                    match (direction, layout) {
                        (Direction::Publish, Some(PythonLayout::Object)) => RuleSet::WireJson,
                        _ => RuleSet::PythonPositional,
                    }
                }
            };
            pending.push((name, rules));
        }
    }
    let mut sets: BTreeMap<(String, String), BTreeSet<RuleSet>> = BTreeMap::new();
    while let Some((name, rules)) = pending.pop() {
        for file in files {
            let key = (file.package.clone(), name.clone());
            if file.enums.iter().any(|definition| definition.name == name) {
                sets.entry(key.clone()).or_default().insert(rules);
            }
            let Some(message) = file.messages.iter().find(|message| message.name == name) else {
                continue;
            };
            if !sets.entry(key).or_default().insert(rules) {
                continue;
            }
            for field in &message.fields {
                if let Kind::Enum(target) | Kind::Message(target) = &field.kind {
                    pending.push((target.name.clone(), rules));
                }
            }
        }
    }
    for file in files {
        let names = file.messages.iter().map(|m| &m.name);
        for name in names.chain(file.enums.iter().map(|e| &e.name)) {
            let key = (file.package.clone(), name.clone());
            sets.entry(key).or_default();
        }
    }
    for rules in sets.values_mut() {
        if rules.is_empty() {
            rules.insert(RuleSet::Wire);
        }
        if rules.contains(&RuleSet::WireJson) {
            rules.remove(&RuleSet::Wire);
        }
    }
    sets
}

/// Where a topology's lock file is: `hermes.lock` in the topology file's directory.
pub fn lock_path(loaded: &Loaded) -> PathBuf {
    let topology = loaded.sources().path(loaded.topology_file);
    match topology.parent() {
        Some(dir) => dir.join(LOCK_FILE_NAME),
        None => Path::new(LOCK_FILE_NAME).to_path_buf(),
    }
}

/// The wire schema of every message and enum of a topology, as released: the contents of
/// `hermes.lock`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Always [`GENERATED`]: says who writes the file and that it is to be committed.
    #[serde(rename = "@generated")]
    pub generated: String,
    /// Every package, sorted by name.
    pub packages: Vec<LockedPackage>,
}

/// One package's messages and enums in the lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPackage {
    /// The package.
    pub package: String,
    /// Its enums, sorted by name.
    pub enums: Vec<LockedEnum>,
    /// Its messages, sorted by name.
    pub messages: Vec<LockedMessage>,
}

/// A message as locked: its protobuf model (without documentation), its `version:` and the
/// rule set it was locked under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedMessage {
    /// The message's major version (`version:`, 1 when absent).
    pub version: u32,
    /// The rule sets that judge it (see [`rule_sets`]): `wire`, `wire_json`,
    /// `python_positional`.
    pub rules: Vec<RuleSet>,
    /// The message.
    #[serde(flatten)]
    pub message: Message,
}

/// An enum as locked: its protobuf model and the rule set it was locked under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedEnum {
    /// The rule sets that judge it (see [`rule_sets`]).
    pub rules: Vec<RuleSet>,
    /// The enum.
    #[serde(flatten)]
    pub definition: Enum,
}

/// A lock file that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockError {
    /// The line (1-based) where parsing stopped.
    pub line: usize,
    /// The column (1-based) where parsing stopped.
    pub column: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for LockError {}

impl Lock {
    /// The lock of a loaded topology: every package's messages and enums, documentation left
    /// out (it is not part of the wire schema).
    pub fn of(loaded: &Loaded) -> Lock {
        let files = crate::proto::files(loaded);
        let sets = rule_sets(loaded, &files);
        let rules = |package: &str, name: &str| -> Vec<RuleSet> {
            let key = (package.to_owned(), name.to_owned());
            sets.get(&key)
                .map_or_else(|| vec![RuleSet::Wire], |set| set.iter().copied().collect())
        };
        let mut packages: Vec<LockedPackage> = files
            .into_iter()
            .map(|file| {
                let package = file.package;
                let enums = file
                    .enums
                    .into_iter()
                    .map(|definition| LockedEnum {
                        rules: rules(&package, &definition.name),
                        definition,
                    })
                    .collect();
                let messages = file
                    .messages
                    .into_iter()
                    .map(|mut message| {
                        message.doc = None;
                        for field in &mut message.fields {
                            field.doc = None;
                        }
                        LockedMessage {
                            version: message_version(loaded, &package, &message.name),
                            rules: rules(&package, &message.name),
                            message,
                        }
                    })
                    .collect();
                LockedPackage {
                    package,
                    enums,
                    messages,
                }
            })
            .collect();
        packages.sort_by(|a, b| a.package.cmp(&b.package));
        for package in &mut packages {
            package
                .enums
                .sort_by(|a, b| a.definition.name.cmp(&b.definition.name));
            package
                .messages
                .sort_by(|a, b| a.message.name.cmp(&b.message.name));
        }
        Lock {
            generated: GENERATED.to_owned(),
            packages,
        }
    }

    /// The lock as the text of `hermes.lock`: pretty JSON, in a deterministic order, ending
    /// in a newline.
    pub fn to_text(&self) -> String {
        // Serialising plain data to a string cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses the text of `hermes.lock`.
    ///
    /// # Errors
    ///
    /// [`LockError`], with the line and column, when the text is not a lock.
    pub fn parse(text: &str) -> Result<Lock, LockError> {
        serde_json::from_str(text).map_err(|error| LockError {
            line: error.line(),
            column: error.column(),
            message: strip_position(&error.to_string()),
        })
    }

    /// The locked model as protobuf files, for [`hermes_core::proto::compat::compare`].
    pub fn files(&self) -> Vec<File> {
        self.packages
            .iter()
            .map(|package| File {
                package: package.package.clone(),
                enums: package
                    .enums
                    .iter()
                    .map(|locked| locked.definition.clone())
                    .collect(),
                messages: package
                    .messages
                    .iter()
                    .map(|locked| locked.message.clone())
                    .collect(),
            })
            .collect()
    }
}

/// Where a compatibility finding is in `loaded`'s YAML: the field's type (for a type or
/// cardinality change) or name, the variant, or the reserved number or name; the message or
/// enum itself when the finding's field, variant or reservation is not in this version.
/// `None` when the message or enum is not in it either.
pub fn locate(loaded: &Loaded, finding: &Finding) -> Option<(FileId, Span)> {
    let location = &finding.location;
    let reservation = matches!(
        finding.rule,
        Rule::ReservedMessageNoDelete | Rule::ReservedEnumNoDelete
    );
    let on_type = matches!(
        finding.rule,
        Rule::FieldWireCompatibleType
            | Rule::FieldWireJsonCompatibleType
            | Rule::FieldWireCompatibleCardinality
            | Rule::FieldWireJsonCompatibleCardinality
    );
    let source = loaded.messages.iter().find(|source| {
        source.schema.package.value == location.package
            && (source.schema.messages.get(&location.parent).is_some()
                || source.schema.enums.get(&location.parent).is_some())
    })?;
    let schema = &source.schema;
    let parent_span = schema
        .messages
        .names()
        .chain(schema.enums.names())
        .find(|name| name.value == location.parent)
        .map(|name| name.span)?;
    let reserved_number = |numbers: &[crate::model::Spanned<u32>]| {
        numbers
            .iter()
            .find(|n| Some(n.value) == location.number)
            .map(|n| n.span)
    };
    let closer = if let Some(message) = schema.messages.get(&location.parent) {
        if reservation {
            reserved_number(&message.reserved.numbers).or_else(|| {
                let names = message.reserved.names.iter();
                names
                    .filter(|n| Some(&n.value) == location.old_name.as_ref())
                    .map(|n| n.span)
                    .next()
            })
        } else {
            location.number.and_then(|number| {
                let (_, field) = message.numbered_fields().find(|(n, _)| *n == number)?;
                Some(if on_type {
                    field.ty.span
                } else {
                    field.name.span
                })
            })
        }
    } else {
        let definition = schema.enums.get(&location.parent)?;
        if reservation {
            // Reserved variant names are compared as protobuf names (`SIDE_CROSS`).
            let protobuf = Enum {
                name: location.parent.clone(),
                variants: Vec::new(),
                reserved: Reserved::default(),
            };
            reserved_number(&definition.reserved.numbers).or_else(|| {
                let names = definition.reserved.names.iter();
                names
                    .filter(|n| Some(&protobuf.value_name(n)) == location.old_name.as_ref())
                    .map(|n| n.span)
                    .next()
            })
        } else {
            let index = usize::try_from(location.number?).ok()?;
            definition.variants.get(index).map(|variant| variant.span)
        }
    };
    Some((source.file, closer.unwrap_or(parent_span)))
}

/// Compares `loaded`'s messages with the lock beside its topology and adds the findings to
/// its report: `hermes::breaking_change` for every change the locked rule set forbids in a
/// message whose `version:` was not raised (an enum's, unless every message that carries it
/// raised its version), `hermes::stale_lock` when the lock does not record the messages as
/// they are (or, under [`LockCheck::Locked`], does not exist), `hermes::invalid_lock` when it
/// cannot be read. The lock file joins the report's sources, so its own errors quote it.
pub(crate) fn compare_with_lock(loaded: &mut Loaded, mode: LockCheck) {
    if mode == LockCheck::Ignore {
        return;
    }
    let path = lock_path(loaded);
    let mut sources = loaded.report.sources().clone();
    let mut diagnostics = loaded.report.diagnostics().to_vec();
    match std::fs::read_to_string(&path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if mode == LockCheck::Locked {
                diagnostics.push(
                    Diagnostic::new(
                        Code::StaleLock,
                        format!("no `{LOCK_FILE_NAME}` beside the topology"),
                    )
                    .with_label(loaded.topology_file, Span::UNKNOWN, "this topology")
                    .with_help(
                        "run `hermes lock` to record the messages as released, and commit \
                         the lock with them",
                    ),
                );
            }
        }
        Err(error) => {
            diagnostics.push(
                Diagnostic::new(
                    Code::InvalidLock,
                    format!("cannot read `{}`: {error}", path.display()),
                )
                .with_label(
                    loaded.topology_file,
                    Span::UNKNOWN,
                    "the topology it locks",
                ),
            );
        }
        Ok(text) => {
            let lock_file = sources.add(&path, text);
            match Lock::parse(sources.text(lock_file)) {
                Err(error) => {
                    let span = line_span(sources.text(lock_file), error.line, error.column);
                    diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidLock,
                            format!("`{LOCK_FILE_NAME}` is not a lock file: {}", error.message),
                        )
                        .with_label(lock_file, span, "here")
                        .with_help(
                            "the lock is written by `hermes lock`; restore it from version \
                             control, or write it again",
                        ),
                    );
                }
                Ok(lock) => {
                    loaded.lock = Some(path);
                    diagnostics.extend(lock_findings(loaded, &lock));
                }
            }
        }
    }
    loaded.report = Report::new(Arc::new(sources), diagnostics);
}

/// The breaking changes between `lock` and `loaded`, or, when there are none, the stale-lock
/// warning if the lock differs from what `hermes lock` would write now.
fn lock_findings(loaded: &Loaded, lock: &Lock) -> Vec<Diagnostic> {
    let locked_files = lock.files();
    let files = crate::proto::files(loaded);
    // Judged by the rule sets locked and those the ports ask for now.
    let mut sets = rule_sets(loaded, &files);
    for package in &lock.packages {
        let locked = (package.messages.iter())
            .map(|m| (&m.message.name, &m.rules))
            .chain(package.enums.iter().map(|e| (&e.definition.name, &e.rules)));
        for (name, rules) in locked {
            let key = (package.package.clone(), name.clone());
            sets.entry(key).or_default().extend(rules.iter().copied());
        }
    }
    let mut diagnostics = Vec::new();
    for rules in RuleSet::ALL {
        for finding in compare(&locked_files, &files, rules) {
            if !finding.breaking {
                continue;
            }
            let key = (
                finding.location.package.clone(),
                finding.location.parent.clone(),
            );
            if !judged_by(&sets, &key, rules)
                || version_raised(loaded, &|p, n| lock.version(p, n), &finding)
            {
                continue;
            }
            let (file, span) =
                locate(loaded, &finding).unwrap_or((loaded.topology_file, Span::UNKNOWN));
            let message = format!(
                "{}; {LOCK_FILE_NAME} has {}",
                finding.message,
                locked_shape(lock, &finding)
            );
            let on_enum = matches!(
                finding.rule,
                Rule::EnumValueNoDeleteUnlessNumberReserved
                    | Rule::EnumValueNoDeleteUnlessNameReserved
                    | Rule::EnumValueSameName
                    | Rule::ReservedEnumNoDelete
            );
            let whose = if on_enum {
                "of every message that carries the enum"
            } else {
                "of the message"
            };
            diagnostics.push(
                Diagnostic::new(Code::BreakingChange, message)
                    .with_label(file, span, format!("breaks rule `{}`", finding.rule.name()))
                    .with_help(format!(
                        "{}; or, to break on purpose, raise the `version:` {whose} (old and new \
                         receivers then refuse each other's messages) and run `hermes lock`",
                        undo_help(finding.rule)
                    )),
            );
        }
    }
    diagnostics.extend(lowered_versions(loaded, lock));
    if diagnostics.is_empty() && Lock::of(loaded) != *lock {
        diagnostics.push(stale(loaded, lock));
    }
    diagnostics
}

/// Whether `rules` judges type `key`: one of its sets, with `WIRE` implied by `WIRE_JSON`.
pub fn judged_by(
    sets: &BTreeMap<(String, String), BTreeSet<RuleSet>>,
    key: &(String, String),
    rules: RuleSet,
) -> bool {
    let Some(set) = sets.get(key) else {
        return rules == RuleSet::Wire;
    };
    // Checking `WIRE_JSON` checks `WIRE` too; reporting both would say everything twice.
    set.contains(&rules) && !(rules == RuleSet::Wire && set.contains(&RuleSet::WireJson))
}

/// How to keep a change compatible, for a breaking finding's `help:`.
pub fn undo_help(rule: Rule) -> &'static str {
    match rule {
        Rule::FieldNoDeleteUnlessNumberReserved | Rule::FieldNoDeleteUnlessNameReserved => {
            "keep the field, or list its number and name under the message's `reserved:`"
        }
        Rule::EnumValueNoDeleteUnlessNumberReserved | Rule::EnumValueNoDeleteUnlessNameReserved => {
            "keep the variant, or list its number and name under the enum's `reserved:`"
        }
        Rule::FieldSameName | Rule::FieldSameJsonName | Rule::EnumValueSameName => {
            "JSON names fields and variants: keep the old name"
        }
        Rule::FieldWireCompatibleType
        | Rule::FieldWireJsonCompatibleType
        | Rule::FieldWireCompatibleCardinality
        | Rule::FieldWireJsonCompatibleCardinality => {
            "add a field with a new number for the new type, and reserve the old one"
        }
        Rule::ReservedMessageNoDelete | Rule::ReservedEnumNoDelete => {
            "keep the reservation: old payloads may still use the number or name"
        }
        Rule::FieldSamePosition => {
            "python-json arrays are positional: keep every field where it was and append new ones"
        }
        Rule::MessageSameLineage => {
            "keep the message's name and package, or publish the new one on a new topic while \
             receivers move over"
        }
    }
}

/// Whether a breaking finding is deliberate: its message (for an enum, every message in
/// `loaded` whose fields name the enum, and at least one) has a higher `version:` in `loaded`
/// than `old_version` gives for it (`None`: the old version has no such message). A raised
/// version is a new lineage, which old receivers refuse instead of misreading.
pub fn version_raised(
    loaded: &Loaded,
    old_version: &dyn Fn(&str, &str) -> Option<u32>,
    finding: &Finding,
) -> bool {
    let (package, parent) = (&finding.location.package, &finding.location.parent);
    let raised = |package: &str, name: &str| {
        old_version(package, name).is_some_and(|old| message_version(loaded, package, name) > old)
    };
    let is_enum = loaded.messages.iter().any(|source| {
        source.schema.package.value == *package && source.schema.enums.get(parent).is_some()
    });
    if !is_enum {
        return raised(package, parent);
    }
    let files = crate::proto::files(loaded);
    let mut carriers = files
        .iter()
        .flat_map(|file| {
            file.messages
                .iter()
                .map(move |m| (file.package.as_str(), m))
        })
        .filter(|(_, message)| {
            message.fields.iter().any(|field| {
                matches!(&field.kind, Kind::Enum(target)
                    if target.package == *package && target.name == *parent)
            })
        })
        .peekable();
    carriers.peek().is_some() && carriers.all(|(package, message)| raised(package, &message.name))
}

impl Lock {
    /// The locked `version:` of message `name` in `package`.
    pub fn version(&self, package: &str, name: &str) -> Option<u32> {
        self.packages
            .iter()
            .filter(|p| p.package == package)
            .flat_map(|p| &p.messages)
            .find(|m| m.message.name == name)
            .map(|m| m.version)
    }
}

/// An error for every message whose `version:` is lower than the lock's: an old lineage
/// reused with another shape.
fn lowered_versions(loaded: &Loaded, lock: &Lock) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for source in &loaded.messages {
        let package = &source.schema.package.value;
        for name in source.schema.messages.names() {
            let Some(message) = source.schema.messages.get(&name.value) else {
                continue;
            };
            let Some(locked) = lock.version(package, &name.value) else {
                continue;
            };
            if message.version() >= locked {
                continue;
            }
            let span = message.version.as_ref().map_or(name.span, |v| v.span);
            diagnostics.push(
                Diagnostic::new(
                    Code::BreakingChange,
                    format!(
                        "version of '{}' lowered from {} to {}; {LOCK_FILE_NAME} has {}",
                        name.value,
                        locked,
                        message.version(),
                        locked
                    ),
                )
                .with_label(source.file, span, "lower than the locked version")
                .with_help(format!(
                    "versions only go up: version {} already names another shape of '{}'",
                    message.version(),
                    name.value
                )),
            );
        }
    }
    diagnostics
}

/// What the lock records at a finding's place: the field's type or name, the variant, the
/// reservation.
fn locked_shape(lock: &Lock, finding: &Finding) -> String {
    let location = &finding.location;
    let package = lock.packages.iter().find(|p| p.package == location.package);
    let message = package.and_then(|p| {
        p.messages
            .iter()
            .find(|m| m.message.name == location.parent)
    });
    let definition = package.and_then(|p| {
        p.enums
            .iter()
            .find(|e| e.definition.name == location.parent)
    });
    let number = location.number;
    match finding.rule {
        Rule::ReservedMessageNoDelete | Rule::ReservedEnumNoDelete => {
            match (number, &location.old_name) {
                (Some(number), _) => format!("{number} reserved"),
                (None, Some(name)) => format!("'{name}' reserved"),
                (None, None) => "the reservation".to_owned(),
            }
        }
        _ => {
            if let Some(locked) = message {
                let field = locked
                    .message
                    .fields
                    .iter()
                    .find(|f| Some(f.number) == number);
                match (finding.rule, field) {
                    (
                        Rule::FieldWireCompatibleType
                        | Rule::FieldWireJsonCompatibleType
                        | Rule::FieldWireCompatibleCardinality
                        | Rule::FieldWireJsonCompatibleCardinality,
                        Some(field),
                    ) => field.shape(),
                    (Rule::FieldSameName | Rule::FieldSameJsonName, Some(field)) => {
                        format!("'{}'", field.name)
                    }
                    (_, Some(field)) => {
                        format!("field {} '{}' {}", field.number, field.name, field.shape())
                    }
                    (_, None) => format!("message '{}'", location.parent),
                }
            } else if let Some(locked) = definition {
                let variant = number
                    .and_then(|n| usize::try_from(n).ok())
                    .and_then(|index| locked.definition.variants.get(index));
                match variant {
                    Some(variant) => format!("variant {} '{variant}'", number.unwrap_or_default()),
                    None => format!("enum '{}'", location.parent),
                }
            } else {
                format!("no '{}'", location.parent)
            }
        }
    }
}

/// The stale-lock warning, at the first message or enum whose locked entry differs (or that
/// the lock lacks).
fn stale(loaded: &Loaded, lock: &Lock) -> Diagnostic {
    let now = Lock::of(loaded);
    let mut changed = Vec::new();
    let mut first = None;
    for package in &now.packages {
        let locked = lock.packages.iter().find(|p| p.package == package.package);
        for message in &package.messages {
            let same = locked.is_some_and(|p| p.messages.contains(message));
            if !same {
                changed.push(format!("{}.{}", package.package, message.message.name));
                first =
                    first.or_else(|| declared_at(loaded, &package.package, &message.message.name));
            }
        }
        for definition in &package.enums {
            let same = locked.is_some_and(|p| p.enums.contains(definition));
            if !same {
                changed.push(format!(
                    "{}.{}",
                    package.package, definition.definition.name
                ));
                first = first
                    .or_else(|| declared_at(loaded, &package.package, &definition.definition.name));
            }
        }
    }
    for package in &lock.packages {
        let current = now.packages.iter().find(|p| p.package == package.package);
        let names = package
            .messages
            .iter()
            .map(|m| &m.message.name)
            .chain(package.enums.iter().map(|e| &e.definition.name));
        for name in names {
            let present = current.is_some_and(|p| {
                p.messages.iter().any(|m| m.message.name == *name)
                    || p.enums.iter().any(|e| e.definition.name == *name)
            });
            if !present {
                changed.push(format!("{}.{name} (removed)", package.package));
            }
        }
    }
    let (file, span) = first.unwrap_or((loaded.topology_file, Span::UNKNOWN));
    let count = changed.len();
    let shown: Vec<&str> = changed.iter().take(5).map(String::as_str).collect();
    let more = if count > shown.len() {
        format!(", and {} more", count - shown.len())
    } else {
        String::new()
    };
    Diagnostic::new(
        Code::StaleLock,
        format!(
            "`{LOCK_FILE_NAME}` is stale: {count} type{} changed since it was written ({}{more})",
            if count == 1 { "" } else { "s" },
            shown.join(", ")
        ),
    )
    .with_label(file, span, "not as locked")
    .with_help(
        "run `hermes lock` to record the messages as released, and commit the lock with them",
    )
}

/// Where message or enum `name` of `package` is declared.
fn declared_at(loaded: &Loaded, package: &str, name: &str) -> Option<(FileId, Span)> {
    loaded
        .messages
        .iter()
        .filter(|source| source.schema.package.value == package)
        .find_map(|source| {
            let schema = &source.schema;
            let names = schema.messages.names().chain(schema.enums.names());
            let mut names = names;
            names
                .find(|declared| declared.value == name)
                .map(|declared| (source.file, declared.span))
        })
}

/// A span for a (1-based) line and column of `text`, one character long.
fn line_span(text: &str, line: usize, column: usize) -> Span {
    let offset: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        + column.saturating_sub(1);
    Span {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        offset: offset.min(text.len()),
        len: 1,
    }
}

/// The `version:` of message `name` in `package` (1 when absent or not found).
pub fn message_version(loaded: &Loaded, package: &str, name: &str) -> u32 {
    loaded
        .messages
        .iter()
        .filter(|source| source.schema.package.value == package)
        .find_map(|source| source.schema.messages.get(name))
        .map_or(1, |message| message.version())
}

/// serde_json's message without its ` at line L column C` suffix, which [`LockError`] carries
/// as numbers.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use hermes_core::proto::compat::RuleSet;

    use super::{GENERATED, Lock};

    fn hello() -> crate::Loaded {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/hello/topology.yaml"
        );
        crate::load(path).expect("the hello example loads")
    }

    #[test]
    fn a_written_lock_parses_back_to_itself() {
        let lock = Lock::of(&hello());
        assert_eq!(lock.generated, GENERATED);
        assert_eq!(Lock::parse(&lock.to_text()), Ok(lock));
    }

    #[test]
    fn types_a_json_port_carries_are_locked_under_wire_json() {
        let lock = Lock::of(&hello());
        let package = &lock.packages[0];
        let rules = |name: &str| {
            let message = package.messages.iter().find(|m| m.message.name == name);
            message.expect("locked").rules.clone()
        };
        assert_eq!(rules("Order"), [RuleSet::WireJson]);
        assert_eq!(rules("Quote"), [RuleSet::Wire]);
        assert_eq!(package.enums[0].rules, [RuleSet::WireJson]);
    }

    #[test]
    fn documentation_is_not_locked() {
        let text = Lock::of(&hello()).to_text();
        assert!(!text.contains("\"doc\""), "{text}");
    }

    #[test]
    fn a_lock_that_does_not_parse_names_its_line() {
        let error = Lock::parse("{\n  \"@generated\": \"x\",\n  \"packages\": 3\n}\n")
            .expect_err("not a lock");
        assert_eq!(error.line, 3);
        assert!(error.message.starts_with("invalid type"), "{error}");
        assert!(!error.message.contains(" at line "), "{error}");
    }
}
