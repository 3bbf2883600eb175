//! [`Config`]: the build-script entry point, modeled on `prost_build::Config`.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::codegen::{self, GenerateError, Settings};
use crate::{LoadError, LoadOptions, Loaded, LockCheck};

/// Configures code generation from a build script; [`compile`](Config::compile) does the work.
///
/// Every setter takes and returns `&mut Self`, as in prost-build.
///
/// # Examples
///
/// In `build.rs`:
///
/// ```no_run
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     hermes_build::Config::new()
///         .type_attribute(".", "#[derive(Default)]")
///         .deny_warnings(true)
///         .compile("topology.yaml")?;
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    out_dir: Option<PathBuf>,
    settings: Settings,
    emit_rerun_if_changed: bool,
    deny_warnings: bool,
    locked: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// Why [`Config::compile`] failed.
///
/// Its `Debug` output is its `Display` output, so that a build script that returns it from
/// `main` (or unwraps it) shows the diagnostics as `hermes check` renders them, with the
/// YAML's `file:line:col` and source line.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The topology could not be read, or has errors.
    #[error("{}", render_load(.0))]
    Load(#[from] LoadError),
    /// The settings are invalid.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// `OUT_DIR` is not set and no [`Config::out_dir`] was given.
    #[error("`OUT_DIR` is not set: call `compile` from a build script, or set `Config::out_dir`")]
    NoOutDir,
    /// A generated file could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn render_load(error: &LoadError) -> String {
    match error {
        LoadError::Invalid(report) => format!(
            "invalid Hermes topology ({})\n\n{}",
            report.summary(),
            report.render_human()
        ),
        other => other.to_string(),
    }
}

/// What [`Config::compile`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compiled {
    /// Every file generated, with its full path.
    pub files: Vec<PathBuf>,
    /// The files among them whose contents changed (the others were left untouched).
    pub written: Vec<PathBuf>,
    /// Every input file read: the topology, its messages files and `hermes.lock` when present.
    pub inputs: Vec<PathBuf>,
}

impl Config {
    /// The defaults: output to `OUT_DIR`, runtime at `::hermes_runtime`, formatted output,
    /// `cargo::rerun-if-changed` lines on, warnings allowed.
    pub fn new() -> Config {
        Config {
            out_dir: None,
            settings: Settings::default(),
            emit_rerun_if_changed: true,
            deny_warnings: false,
            locked: false,
        }
    }

    /// Where to write the generated files; default `OUT_DIR`.
    pub fn out_dir(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(path.into());
        self
    }

    /// Where generated code finds `hermes-runtime`; default `::hermes_runtime`. Set it when
    /// the crate re-exports or renames the runtime.
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.settings.runtime_path = path.into();
        self
    }

    /// Adds an attribute such as `#[derive(Eq)]` to generated types. `path` is `.` for every
    /// type, a package (`trading`), a full name (`trading.Quote`) or a bare name (`Quote`).
    pub fn type_attribute(
        &mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> &mut Self {
        self.settings.type_attribute(path, attribute);
        self
    }

    /// Whether to pretty-print the generated Rust with prettyplease; default `true`.
    pub fn format(&mut self, enabled: bool) -> &mut Self {
        self.settings.format = enabled;
        self
    }

    /// Whether [`compile`](Config::compile) prints `cargo::rerun-if-changed=` for every file it
    /// reads; default `true`, so that a `cargo build` without changes does not rerun the build
    /// script.
    pub fn emit_rerun_if_changed(&mut self, enabled: bool) -> &mut Self {
        self.emit_rerun_if_changed = enabled;
        self
    }

    /// Whether warnings fail the build, as `hermes check --deny warnings`; default `false`.
    pub fn deny_warnings(&mut self, enabled: bool) -> &mut Self {
        self.deny_warnings = enabled;
        self
    }

    /// Whether a stale or missing `hermes.lock` fails the build, as `hermes check --locked`;
    /// default `false`. Either way a breaking change the lock records without a `version:`
    /// raise fails it, and the build never writes the lock: `hermes lock` does.
    ///
    /// ```no_run
    /// // build.rs of a crate whose CI must not ship an unlocked schema change
    /// hermes_build::Config::new().locked(true).compile("topology.yaml")?;
    /// # Ok::<(), hermes_build::Error>(())
    /// ```
    pub fn locked(&mut self, enabled: bool) -> &mut Self {
        self.locked = enabled;
        self
    }

    /// The settings [`generate`](Config::generate) passes to [`crate::generate`].
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Loads and checks the topology at `path` without writing anything; a relative path is
    /// resolved against `CARGO_MANIFEST_DIR` when that is set.
    ///
    /// # Errors
    ///
    /// [`Error::Load`] when the topology cannot be read or has errors (or warnings, with
    /// [`deny_warnings`](Config::deny_warnings)).
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Loaded, Error> {
        let path = resolve(path.as_ref());
        let mut options = LoadOptions::default();
        if self.deny_warnings {
            options = options.deny_warnings();
        }
        if self.locked {
            options = options.lock(LockCheck::Locked);
        }
        Ok(crate::load_with_options(path, &options)?)
    }

    /// Generates the files for `loaded` with these settings; pure (see [`crate::generate`]).
    ///
    /// # Errors
    ///
    /// [`Error::Generate`] when the settings are invalid.
    pub fn generate(&self, loaded: &Loaded) -> Result<Vec<(PathBuf, String)>, Error> {
        Ok(codegen::generate(loaded, &self.settings)?)
    }

    /// Loads, checks and generates, then writes each file to the output directory unless it
    /// already holds exactly those bytes. Prints `cargo::rerun-if-changed=` for every file read
    /// and `cargo::warning=` for every warning.
    ///
    /// # Errors
    ///
    /// As [`load`](Config::load) and [`generate`](Config::generate); [`Error::NoOutDir`] and
    /// [`Error::Write`].
    pub fn compile(&self, path: impl AsRef<Path>) -> Result<Compiled, Error> {
        let path = resolve(path.as_ref());
        let stdout = std::io::stdout();
        if self.emit_rerun_if_changed {
            // Before loading, so that cargo reruns the script once the file is fixed.
            let _ = writeln!(stdout.lock(), "cargo::rerun-if-changed={}", path.display());
        }
        let loaded = self.load(&path)?;
        let inputs: Vec<PathBuf> = std::iter::once(path.clone())
            .chain(loaded.messages.iter().map(|source| source.path.clone()))
            .chain(loaded.lock.clone())
            .collect();
        let mut lines = String::new();
        if self.emit_rerun_if_changed {
            for input in &inputs[1..] {
                lines.push_str(&format!("cargo::rerun-if-changed={}\n", input.display()));
            }
        }
        for line in loaded.report.render_human().lines() {
            lines.push_str(&format!("cargo::warning={line}\n"));
        }
        let _ = stdout.lock().write_all(lines.as_bytes());
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let mut compiled = Compiled {
            inputs,
            ..Compiled::default()
        };
        for (name, contents) in self.generate(&loaded)? {
            let file = out_dir.join(name);
            let changed =
                write_if_changed(&file, contents.as_bytes()).map_err(|source| Error::Write {
                    path: file.clone(),
                    source,
                })?;
            if changed {
                compiled.written.push(file.clone());
            }
            compiled.files.push(file);
        }
        Ok(compiled)
    }
}

/// `path`, joined to `CARGO_MANIFEST_DIR` when relative and that variable is set.
fn resolve(path: &Path) -> PathBuf {
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) if path.is_relative() => Path::new(&dir).join(path),
        _ => path.to_path_buf(),
    }
}

/// Writes `contents` to `path` unless the file already holds exactly these bytes, so that
/// unchanged output keeps its modification time and nothing downstream rebuilds. Creates the
/// parent directory. Returns whether it wrote.
///
/// # Errors
///
/// When the directory cannot be created or the file cannot be written.
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.rs");
/// assert!(hermes_build::write_if_changed(&path, b"fn a() {}")?);
/// assert!(!hermes_build::write_if_changed(&path, b"fn a() {}")?);
/// assert!(hermes_build::write_if_changed(&path, b"fn b() {}")?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_if_changed(path: &Path, contents: &[u8]) -> std::io::Result<bool> {
    if let Ok(existing) = std::fs::read(path)
        && existing == contents
    {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Write a sibling and rename it, so a reader never sees half a file.
    let temporary = path.with_extension("hermes-tmp");
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, path)?;
    Ok(true)
}

/// Generates code for the topology at `path` into `OUT_DIR`, from a build script:
/// `Config::new().compile(path)`.
///
/// # Errors
///
/// As [`Config::compile`].
///
/// # Examples
///
/// `build.rs`:
///
/// ```no_run
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     hermes_build::compile("topology.yaml")?;
///     Ok(())
/// }
/// ```
pub fn compile(path: impl AsRef<Path>) -> Result<Compiled, Error> {
    Config::new().compile(path)
}
