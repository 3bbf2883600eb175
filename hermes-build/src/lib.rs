//! Load, check and generate code for Hermes topologies, from `build.rs` or tools.
//!
//! A Hermes *topology* (`topology.yaml`) declares the nodes of a ZeroMQ pub/sub system, what
//! each publishes and subscribes to, and the proxies and endpoints that connect them; the
//! *message schemas* it names (`messages.yaml`) declare the typed messages on each topic.
//! This crate reads both, keeps the source position of every value, checks the whole
//! wiring, reports findings the way rustc does, and turns a valid topology into Rust.
//!
//! It is meant for build scripts and tools, and does not depend on `hermes-runtime` (so no
//! libzmq in `build.rs`).
//!
//! # Generating code from `build.rs`
//!
//! As with prost-build: the build script compiles the topology into `OUT_DIR`, and the crate
//! includes the result with one macro.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     hermes_build::compile("topology.yaml")?; // relative to CARGO_MANIFEST_DIR
//!     Ok(())
//! }
//! ```
//!
//! ```ignore
//! // src/lib.rs
//! hermes_runtime::include_topology!("trading"); // `pub mod trading`, from OUT_DIR/trading.rs
//! ```
//!
//! [`Config`] sets the output directory, the runtime's path, extra type attributes,
//! formatting and `deny_warnings`; [`generate`] is the pure function underneath (also used by
//! `hermes gen`). A topology with errors fails the build with the same diagnostics as
//! `hermes check`. See the crate README for what is generated.
//!
//! # Loading a topology
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # std::fs::write(dir.path().join("messages.yaml"), "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n").unwrap();
//! # std::fs::write(dir.path().join("topology.yaml"), "name: demo\nmessages: [messages.yaml]\nnodes:\n  clock:\n    publishes:\n      - { topic: ticks, message: Tick, bind: tcp://127.0.0.1:7000 }\n  logger:\n    subscribes:\n      - { topic: ticks, message: Tick, connect: tcp://127.0.0.1:7000 }\n").unwrap();
//! # let path = dir.path().join("topology.yaml");
//! match hermes_build::load(&path) {
//!     Ok(loaded) => {
//!         // Warnings, if any, are in `loaded.report`.
//!         print!("{}", loaded.report.render_human());
//!         for (name, node) in loaded.topology.nodes.iter() {
//!             println!("{name}: {} publications", node.publishes.len());
//!         }
//!     }
//!     Err(hermes_build::LoadError::Invalid(report)) => {
//!         eprint!("{}", report.render_human());
//!     }
//!     Err(error) => eprintln!("{error}"),
//! }
//! ```
//!
//! # Modules
//!
//! - [`model`]: the serde types of both YAML formats, with spans;
//! - [`graph`]: the topology as a petgraph graph;
//! - [`diagnostic`]: findings, their stable [`Code`]s and their rendering;
//! - [`schema`]: the JSON Schemas editors use to validate the YAML;
//! - [`codegen`]: Rust and `.proto` generation ([`generate`], [`Settings`]).

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod check;
pub mod codegen;
mod config;
pub mod diagnostic;
pub mod evolution;
pub mod fingerprint;
pub mod graph;
pub mod model;
mod parse;
pub mod proto;
pub mod schema;
mod suggest;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use codegen::{
    GenerateError, Settings, canonical_form, channel_names, generate, generate_python, module_name,
};
pub use config::{Compiled, Config, Error, compile, write_if_changed};
pub use diagnostic::{Code, Diagnostic, FileId, Label, Report, Severity, SourceFile, Sources};
pub use graph::TopologyGraph;
pub use parse::MAX_FILE_BYTES;

use model::{EnumDef, Lint, MessageDef, MessagesFile, Topology};
use parse::ReadError;

/// One loaded messages file.
#[derive(Clone, Debug)]
pub struct MessagesSource {
    /// Its id in [`Loaded::sources`].
    pub file: FileId,
    /// Its path: the topology's directory joined with the path written in `messages:`.
    pub path: PathBuf,
    /// Its contents.
    pub schema: MessagesFile,
}

/// A topology that loaded without errors, with its messages, graph and warnings.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The topology.
    pub topology: Topology,
    /// The topology file's id in [`Loaded::sources`].
    pub topology_file: FileId,
    /// The messages files in the order `messages:` names them.
    pub messages: Vec<MessagesSource>,
    /// The wiring as a graph.
    pub graph: TopologyGraph,
    /// Warnings (never errors: those make [`load`] fail).
    pub report: Report,
    /// The lock file the messages were compared with ([`evolution::LOCK_FILE_NAME`] beside
    /// the topology), when it exists and was read.
    pub lock: Option<PathBuf>,
}

impl Loaded {
    /// The source files, for rendering positions.
    pub fn sources(&self) -> &Sources {
        self.report.sources()
    }

    /// The message declared under `name`, with the file that declares it.
    pub fn message(&self, name: &str) -> Option<(&MessagesSource, &MessageDef)> {
        self.messages.iter().find_map(|source| {
            source
                .schema
                .messages
                .get(name)
                .map(|message| (source, message))
        })
    }

    /// The enum declared under `name`, with the file that declares it.
    pub fn enum_def(&self, name: &str) -> Option<(&MessagesSource, &EnumDef)> {
        self.messages.iter().find_map(|source| {
            source
                .schema
                .enums
                .get(name)
                .map(|definition| (source, definition))
        })
    }
}

/// Why [`load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The topology file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The path given to [`load`].
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The topology or one of its messages files has errors; the report holds them and any
    /// warnings.
    #[error("invalid topology: {}", .0.summary())]
    Invalid(Report),
}

/// How [`load_with_options`] treats findings.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Warnings to treat as errors, in addition to the topology's own `deny:`.
    pub deny: Vec<Lint>,
    /// Whether and how strictly to compare the messages with `hermes.lock`.
    pub lock: LockCheck,
}

/// How [`load_with_options`] compares the messages with the lock file beside the topology
/// (see [`evolution`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockCheck {
    /// A breaking change the lock records without a version raise is an error; a stale lock
    /// is a warning; no lock is nothing.
    #[default]
    Compare,
    /// As `Compare`, and a stale or missing lock is an error (`hermes check --locked`).
    Locked,
    /// The lock is not read (`hermes diff`, and the tools that only read a topology).
    Ignore,
}

impl LoadOptions {
    /// Treats every warning as an error (`--deny warnings`).
    ///
    /// ```
    /// let options = hermes_build::LoadOptions::default().deny_warnings();
    /// assert_eq!(options.deny, vec![hermes_build::model::Lint::Warnings]);
    /// ```
    #[must_use]
    pub fn deny_warnings(mut self) -> Self {
        self.deny.push(Lint::Warnings);
        self
    }

    /// Compares the messages with `hermes.lock` as `lock` says.
    ///
    /// ```
    /// use hermes_build::{LoadOptions, LockCheck};
    /// let options = LoadOptions::default().lock(LockCheck::Locked);
    /// assert_eq!(options.lock, LockCheck::Locked);
    /// assert_eq!(LoadOptions::default().lock, LockCheck::Compare);
    /// ```
    #[must_use]
    pub fn lock(mut self, lock: LockCheck) -> Self {
        self.lock = lock;
        self
    }
}

/// Loads a topology file and every messages file it names, and checks them.
///
/// # Errors
///
/// [`LoadError::Io`] when the topology file cannot be read, and [`LoadError::Invalid`] with
/// every finding when there is any error (a messages file that cannot be read is one of
/// them).
///
/// # Examples
///
/// ```no_run
/// let loaded = hermes_build::load("topology.yaml")?;
/// println!("{} nodes", loaded.topology.nodes.len());
/// # Ok::<(), hermes_build::LoadError>(())
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<Loaded, LoadError> {
    load_with_options(path, &LoadOptions::default())
}

/// [`load`], with options.
///
/// # Errors
///
/// As for [`load`].
pub fn load_with_options(
    path: impl AsRef<Path>,
    options: &LoadOptions,
) -> Result<Loaded, LoadError> {
    let path = path.as_ref();
    let mut sources = Sources::default();
    let bytes = match parse::read_file(path) {
        Ok(bytes) => bytes,
        Err(ReadError::Io(source)) => {
            return Err(LoadError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        Err(ReadError::TooLarge) => {
            let file = sources.add(path, String::new());
            return Err(invalid(sources, vec![parse::too_large(file)]));
        }
    };
    let file = sources.add(path, String::new());
    match parse::decode(file, bytes) {
        Ok(text) => load_text(path, text, options),
        Err((text, diagnostic)) => {
            sources.set_text(file, text);
            Err(invalid(sources, vec![diagnostic]))
        }
    }
}

/// Loads a topology from text, as if read from `path`; messages files are still read from
/// disk, relative to `path`.
///
/// # Errors
///
/// [`LoadError::Invalid`] when there is any error.
///
/// # Examples
///
/// ```
/// let result = hermes_build::load_from_str("inline.yaml", "name: demo\nnodes: {}\n".into());
/// assert!(result.is_ok());
/// ```
pub fn load_from_str(path: impl AsRef<Path>, text: String) -> Result<Loaded, LoadError> {
    load_text(path.as_ref(), text, &LoadOptions::default())
}

/// The messages files a topology names, joined to its directory as [`load`] joins them, read
/// from its text alone: what to fetch first when the files come from elsewhere (a git
/// revision, say).
///
/// # Errors
///
/// [`LoadError::Invalid`] when the text is not a well-formed topology.
///
/// # Examples
///
/// ```
/// let text = "name: demo\nmessages: [messages.yaml, ../shared/ids.yaml]\n".to_string();
/// let paths = hermes_build::messages_paths("app/topology.yaml", text)?;
/// assert_eq!(paths[1], std::path::Path::new("app/../shared/ids.yaml"));
/// # Ok::<(), hermes_build::LoadError>(())
/// ```
pub fn messages_paths(path: impl AsRef<Path>, text: String) -> Result<Vec<PathBuf>, LoadError> {
    let path = path.as_ref();
    let mut sources = Sources::default();
    let file = sources.add(path, text);
    let topology = match parse::parse_topology(file, sources.text(file)) {
        Ok(topology) => topology,
        Err(diagnostic) => return Err(invalid(sources, vec![diagnostic])),
    };
    let base = path.parent().unwrap_or(Path::new(""));
    Ok(topology
        .messages
        .iter()
        .map(|entry| base.join(entry.as_str()))
        .collect())
}

fn invalid(sources: Sources, diagnostics: Vec<Diagnostic>) -> LoadError {
    LoadError::Invalid(Report::new(Arc::new(sources), diagnostics))
}

fn load_text(path: &Path, text: String, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let mut sources = Sources::default();
    let topology_file = sources.add(path, text);
    let topology = match parse::parse_topology(topology_file, sources.text(topology_file)) {
        Ok(topology) => topology,
        Err(diagnostic) => return Err(invalid(sources, vec![diagnostic])),
    };

    let base = path.parent().unwrap_or(Path::new(""));
    let mut diagnostics = Vec::new();
    let mut messages = Vec::new();
    let mut seen = HashSet::new();
    for entry in &topology.messages {
        let messages_path = base.join(entry.as_str());
        if !seen.insert(messages_path.clone()) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("messages file `{entry}` is listed twice"),
                )
                .with_label(topology_file, entry.span, "listed again here")
                .with_help("remove the second entry"),
            );
            continue;
        }
        let bytes = match parse::read_file(&messages_path) {
            Ok(bytes) => bytes,
            Err(error) => {
                let reason = match error {
                    ReadError::Io(error) => error.to_string(),
                    ReadError::TooLarge => {
                        format!("larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024))
                    }
                };
                diagnostics.push(
                    Diagnostic::new(
                        Code::MissingFile,
                        format!(
                            "cannot read messages file `{}`: {reason}",
                            messages_path.display()
                        ),
                    )
                    .with_label(topology_file, entry.span, "named here")
                    .with_help("paths in `messages:` are relative to the topology file"),
                );
                continue;
            }
        };
        let file = sources.add(&messages_path, String::new());
        let text = match parse::decode(file, bytes) {
            Ok(text) => text,
            Err((text, diagnostic)) => {
                diagnostics.push(diagnostic);
                text
            }
        };
        let parsed = parse::parse_messages(file, &text);
        sources.set_text(file, text);
        match parsed {
            Ok(schema) => messages.push(MessagesSource {
                file,
                path: messages_path,
                schema,
            }),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    if diagnostics
        .iter()
        .any(|diagnostic| diagnostic.severity == Severity::Error)
    {
        return Err(invalid(sources, diagnostics));
    }

    let graph = TopologyGraph::build(&topology);
    let context = check::Context::new(&topology, topology_file, &messages, &graph);
    diagnostics.extend(check::run_all(&context));
    let checked = !diagnostics
        .iter()
        .any(|diagnostic| diagnostic.severity == Severity::Error);
    let mut loaded = Loaded {
        topology,
        topology_file,
        messages,
        graph,
        report: Report::new(Arc::new(sources), diagnostics),
        lock: None,
    };
    // The lock is compared with a topology that checks; otherwise its types may not resolve.
    if checked {
        evolution::compare_with_lock(&mut loaded, options.lock);
    }
    let mut deny: Vec<Lint> = loaded.topology.deny.iter().map(|lint| lint.value).collect();
    deny.extend(options.deny.iter().copied());
    if options.lock == LockCheck::Locked {
        deny.push(Lint::StaleLock);
    }
    loaded.report.deny(&deny);
    if loaded.report.has_errors() {
        return Err(LoadError::Invalid(loaded.report));
    }
    Ok(loaded)
}
