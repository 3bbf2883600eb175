//! Schema evolution: which of buf's rule sets judges each message, and the lock file
//! (`hermes.lock`) that records the wire schema of every message and enum as released.
//!
//! A message that only protobuf ports carry (or no port) is judged by `WIRE`; one that a
//! `json` or `python-json` port carries, with every type its fields name, by `WIRE_JSON`.
//! `hermes diff` and `hermes lock` both ask [`json_types`], so they never disagree.
//!
//! ```
//! use hermes_build::evolution::Lock;
//!
//! let lock = Lock::parse(r#"{ "@generated": "by hermes lock; commit it", "packages": [] }"#)?;
//! assert!(lock.packages.is_empty());
//! assert!(Lock::parse("{ \"packages\": 3 }").is_err());
//! # Ok::<(), hermes_build::evolution::LockError>(())
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use hermes_core::proto::compat::RuleSet;
use hermes_core::proto::{Enum, File, Kind, Message};
use serde::{Deserialize, Serialize};

use crate::Loaded;
use crate::model::Codec;

/// The lock file's name; it lives beside the topology file.
pub const LOCK_FILE_NAME: &str = "hermes.lock";

/// The value of the lock's `@generated` field.
pub const GENERATED: &str = "by hermes lock; commit it";

/// The types (package, name) a JSON port carries, with every type their fields name, to the
/// bottom: the types `WIRE_JSON` judges.
pub fn json_types(loaded: &Loaded, files: &[File]) -> BTreeSet<(String, String)> {
    let topology = &loaded.topology;
    let mut pending: Vec<String> = topology
        .nodes
        .iter()
        .flat_map(|(_, node)| node.ports())
        .filter(|(_, _, port)| topology.port_settings(port).codec != Codec::Protobuf)
        .map(|(_, _, port)| port.message.value.clone())
        .collect();
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        for file in files {
            if file.enums.iter().any(|definition| definition.name == name) {
                seen.insert((file.package.clone(), name.clone()));
            }
            let Some(message) = file.messages.iter().find(|message| message.name == name) else {
                continue;
            };
            if !seen.insert((file.package.clone(), name.clone())) {
                continue;
            }
            for field in &message.fields {
                if let Kind::Enum(target) | Kind::Message(target) = &field.kind {
                    pending.push(target.name.clone());
                }
            }
        }
    }
    seen
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
    /// `wire`, or `wire_json` when a JSON port carries it.
    pub rules: RuleSet,
    /// The message.
    #[serde(flatten)]
    pub message: Message,
}

/// An enum as locked: its protobuf model and the rule set it was locked under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedEnum {
    /// `wire`, or `wire_json` when a JSON port carries it.
    pub rules: RuleSet,
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
        let json = json_types(loaded, &files);
        let rules = |package: &str, name: &str| {
            if json.contains(&(package.to_owned(), name.to_owned())) {
                RuleSet::WireJson
            } else {
                RuleSet::Wire
            }
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

/// The `version:` of message `name` in `package` (1 when absent or not found).
fn message_version(loaded: &Loaded, package: &str, name: &str) -> u32 {
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
            message.expect("locked").rules
        };
        assert_eq!(rules("Order"), RuleSet::WireJson);
        assert_eq!(rules("Quote"), RuleSet::Wire);
        assert_eq!(package.enums[0].rules, RuleSet::WireJson);
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
