//! Code generation: a checked topology in, Rust and `.proto` files out.
//!
//! [`generate`] is pure — model in, file contents out, no environment and no filesystem — so
//! build scripts ([`crate::Config::compile`]) and tools (`hermes gen`) produce the same bytes.
//! The output is deterministic: nodes, proxies, messages and enums come out sorted by name
//! (ports and fields keep their declared order, which carries meaning), whatever order the
//! YAML declares them in.
//!
//! # What is generated
//!
//! One Rust file, `<topology>.rs`, holding `pub mod <topology>` with:
//!
//! - `messages`: a struct per message and an enum per enum (re-exported at the module root);
//!   see the field mapping in the crate docs;
//! - `topics`: a constant per topic; `endpoints`: the YAML's endpoints as constants; `TOPOLOGY`:
//!   the topology as a value for tools and tests;
//! - `Wiring`: every endpoint, `Default` being the YAML's, plus `Wiring::inproc(prefix)` and
//!   `Wiring::loopback()` for tests;
//! - `nodes::<node>`: the node's typed `Outputs`, its `Handler` trait, its `Sockets`, and
//!   `spawn` / `run` / `main`, and `backtest` (the node in a `hermes_runtime::backtest::Backtest`);
//! - `proxies::<proxy>`: `spawn` / `run` / `main`;
//! - `Handlers`, `launch`, `run` and `main` for the whole topology in one process.
//!
//! And one `<package>.proto` file per message package, so other languages can read Hermes
//! protobuf payloads.

mod format;
mod ident;
mod messages;
mod proto;
mod python;
mod wiring;

pub use python::generate_python;
pub use wiring::channel_names;

use std::collections::BTreeMap;
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use crate::Loaded;

/// What [`generate`] produces, beyond the topology itself.
///
/// # Examples
///
/// ```
/// let mut settings = hermes_build::Settings::default();
/// settings.runtime_path = "::my_app::hermes_runtime".into();
/// settings.type_attribute(".", "#[derive(Eq)]");
/// assert!(settings.format);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settings {
    /// Where generated code finds `hermes-runtime`; `::hermes_runtime` by default.
    pub runtime_path: String,
    /// Extra attributes for generated types: `(path, attribute)`; a path is `.` (every type),
    /// a package (`trading`), a type's full name (`trading.Quote`) or its bare name (`Quote`).
    pub type_attributes: Vec<(String, String)>,
    /// Whether to pretty-print the Rust output with prettyplease (default `true`). Without it,
    /// or when the output is larger than 4 MiB (thousands of nodes, where prettyplease would
    /// take seconds), node wiring comes out as written, already indented, and the messages on
    /// one line.
    pub format: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            runtime_path: "::hermes_runtime".to_string(),
            type_attributes: Vec::new(),
            format: true,
        }
    }
}

impl Settings {
    /// Adds `attribute` (such as `#[derive(Eq)]`) to the types `path` selects.
    pub fn type_attribute(
        &mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> &mut Self {
        self.type_attributes.push((path.into(), attribute.into()));
        self
    }
}

/// Why [`generate`] failed: only settings can be wrong, never a topology that [`crate::load`]
/// accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// `runtime_path` is not a Rust path.
    #[error("invalid runtime path `{0}`: expected a Rust path such as `::hermes_runtime`")]
    RuntimePath(String),
    /// A type attribute does not parse as an outer attribute.
    #[error("invalid type attribute `{attribute}` for `{path}`: {reason}")]
    TypeAttribute {
        /// The path it was given for.
        path: String,
        /// The attribute as given.
        attribute: String,
        /// What the parser said.
        reason: String,
    },
    /// The generated Rust did not parse; a bug in hermes-build.
    #[error("generated code for `{file}` does not parse ({reason}); please report this bug")]
    Unparsable {
        /// The file being generated.
        file: String,
        /// What the parser said.
        reason: String,
    },
}

/// A declared enum or message, as generated code names it.
#[derive(Clone, Debug)]
pub(crate) struct TypeRef {
    pub ident: proc_macro2::Ident,
    pub full_name: String,
}

/// What every generator needs: settings, the runtime path as tokens, the type table.
pub(crate) struct Gen<'a> {
    pub loaded: &'a Loaded,
    pub settings: &'a Settings,
    pub rt: TokenStream,
    pub types: BTreeMap<String, TypeRef>,
    /// Every declared type's package and kind, for the protobuf model of fields.
    pub declared: std::collections::HashMap<&'a str, (&'a str, bool)>,
}

/// The Rust module (and file stem) a topology's code lives in: its name in `snake_case`.
///
/// ```
/// assert_eq!(hermes_build::module_name("Trading"), "trading");
/// ```
pub fn module_name(topology_name: &str) -> String {
    ident::snake(topology_name).to_string()
}

/// Generates the files for a loaded topology: `(relative file name, contents)`, sorted by
/// name — `<topology>.rs` (see [`module_name`]) and one `<package>.proto` per message
/// package.
///
/// # Errors
///
/// [`GenerateError`] when the settings are invalid.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("messages.yaml"), "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n").unwrap();
/// # std::fs::write(dir.path().join("topology.yaml"), "name: demo\nmessages: [messages.yaml]\nnodes:\n  clock:\n    publishes:\n      - { topic: ticks, message: Tick, bind: tcp://127.0.0.1:7000 }\n  logger:\n    subscribes:\n      - { topic: ticks, message: Tick, connect: tcp://127.0.0.1:7000 }\n").unwrap();
/// # let path = dir.path().join("topology.yaml");
/// let loaded = hermes_build::load(&path)?;
/// let files = hermes_build::generate(&loaded, &hermes_build::Settings::default())?;
/// let names: Vec<_> = files.iter().map(|(name, _)| name.display().to_string()).collect();
/// assert_eq!(names, ["demo.proto", "demo.rs"]);
/// assert!(files[1].1.starts_with("// @generated"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn generate(
    loaded: &Loaded,
    settings: &Settings,
) -> Result<Vec<(PathBuf, String)>, GenerateError> {
    let invalid = || GenerateError::RuntimePath(settings.runtime_path.clone());
    let path = syn::parse_str::<syn::Path>(&settings.runtime_path).map_err(|_| invalid())?;
    if path
        .segments
        .iter()
        .any(|segment| !segment.arguments.is_none())
    {
        return Err(invalid());
    }
    let generator = Gen {
        loaded,
        settings,
        rt: quote!(#path),
        types: messages::type_table(loaded),
        declared: crate::proto::declared_types(loaded),
    };
    let module = module_name(&loaded.topology.name);
    let rust_file = format!("{module}.rs");
    let source_name = loaded
        .sources()
        .path(loaded.topology_file)
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let mut contents = format!(
        "// @generated by hermes-build from `{source_name}` (topology `{}`). Do not edit.\n\
         // Include it with `hermes_runtime::include_topology!(\"{module}\");`.\n\n",
        loaded.topology.name.as_str()
    );
    let body = if settings.format {
        let (module, nodes) = wiring::topology_module(&generator, false)?;
        format::pretty(module, nodes).map_err(|reason| GenerateError::Unparsable {
            file: rust_file.clone(),
            reason,
        })?
    } else {
        let (module, _) = wiring::topology_module(&generator, true)?;
        let mut text = module.to_string();
        text.push('\n');
        text
    };
    contents.push_str(&body);
    let mut files = vec![(PathBuf::from(rust_file), contents)];
    files.extend(proto::files(&generator));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// The string `#[derive(HermesMessage)]` fingerprints for the generated type of message
/// `name`: its lineage `package.Name@vN` ([`hermes_core::lineage`]), where `N` is the message's
/// `version:` (1 by default), since every generated type sets `version`. The fields are not part
/// of it, so appending one keeps the fingerprint. Tools compute the fingerprint (FNV-1a 64 of
/// this string, `hermes_runtime::fingerprint`) without compiling anything. `None` when no such
/// message is declared.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("messages.yaml"), "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n  Tock:\n    version: 3\n    fields:\n      - { name: n, type: u64 }\n").unwrap();
/// # std::fs::write(dir.path().join("topology.yaml"), "name: demo\nmessages: [messages.yaml]\n").unwrap();
/// # let path = dir.path().join("topology.yaml");
/// let loaded = hermes_build::load(&path)?;
/// assert_eq!(hermes_build::canonical_form(&loaded, "Tick").as_deref(), Some("demo.Tick@v1"));
/// assert_eq!(hermes_build::canonical_form(&loaded, "Tock").as_deref(), Some("demo.Tock@v3"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn canonical_form(loaded: &Loaded, name: &str) -> Option<String> {
    let types = messages::type_table(loaded);
    let (_, message) = loaded.message(name)?;
    let full_name = &types.get(name)?.full_name;
    Some(messages::lineage(full_name, message))
}

impl Gen<'_> {
    /// The extra attributes `type_attributes` gives the type `name` of `package`.
    pub(crate) fn extra_attributes(
        &self,
        package: &str,
        name: &str,
    ) -> Result<Vec<TokenStream>, GenerateError> {
        let full_name = format!("{package}.{name}");
        let mut out = Vec::new();
        for (path, attribute) in &self.settings.type_attributes {
            let selected = path == "."
                || path.trim_start_matches('.') == full_name
                || path == name
                || full_name.starts_with(&format!("{}.", path.trim_start_matches('.')));
            if !selected {
                continue;
            }
            let parsed = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, attribute)
                .map_err(|error| GenerateError::TypeAttribute {
                    path: path.clone(),
                    attribute: attribute.clone(),
                    reason: error.to_string(),
                })?;
            out.extend(parsed.into_iter().map(|attribute| quote!(#attribute)));
        }
        Ok(out)
    }
}
