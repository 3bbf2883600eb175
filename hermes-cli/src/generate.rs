//! `hermes gen`: write the code `build.rs` would generate, for reading and for other languages,
//! and with `--python` the module Python hermes-zmq nodes share the schema through.

use std::path::{Path, PathBuf};

use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes gen`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The same pure `hermes_build::generate` as `build.rs` produces the files, so what you read is \
what your crate compiles. Files that already hold the same bytes are left untouched.

`--python DIR` writes `<topology>.py`: a `hermes.Message` subclass per message (`__slots__` in \
field order, type hints, the YAML's docs), an `enum.Enum` per enum and topic constants per \
node, for hermes-zmq 1.3 nodes. It sends `[dtype, ts, fields…]`, as `hermes.Message` does, and \
reads every layout the `python-json` codec writes.

Examples:
  hermes gen examples/trading/topology.yaml --out target/generated
  hermes gen topology.yaml --out proto --proto
  hermes gen topology.yaml --python python/")]
pub struct Args {
    /// The topology file (or a directory holding `topology.yaml`).
    #[arg(default_value = "topology.yaml")]
    topology: PathBuf,
    /// The directory to write the Rust (and `.proto` files) into; created if missing.
    #[arg(long, short, required_unless_present = "python")]
    out: Option<PathBuf>,
    /// The directory to write the Python module `<topology>.py` into; created if missing.
    #[arg(long, value_name = "DIR")]
    python: Option<PathBuf>,
    /// Also write a `.proto` file per message package, so other languages can read payloads.
    #[arg(long)]
    proto: bool,
    /// Write the Rust on one line instead of pretty-printing it (faster for huge topologies).
    #[arg(long)]
    no_format: bool,
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &Args) -> u8 {
    // As a build script does: a breaking change the lock records is an error.
    let options = hermes_build::LoadOptions::default();
    let loaded = match crate::topology::load_with(&args.topology, &options) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if let Some(dir) = &args.python {
        let (name, contents) = hermes_build::generate_python(&loaded);
        let code = write_all(dir, [(name, contents)]);
        if code != SUCCESS {
            return code;
        }
    }
    let Some(out) = &args.out else {
        return SUCCESS;
    };
    let mut settings = hermes_build::Settings::default();
    settings.format = !args.no_format;
    let files = match hermes_build::generate(&loaded, &settings) {
        Ok(files) => files,
        Err(err) => {
            eprintln!("error: {err}");
            return FINDINGS;
        }
    };
    let files = files.into_iter().filter(|(name, _)| {
        let is_proto = name
            .extension()
            .is_some_and(|extension| extension == "proto");
        args.proto || !is_proto
    });
    write_all(out, files)
}

/// Writes `files` into `dir` (made if missing), leaving files that hold the same bytes alone.
fn write_all(dir: &Path, files: impl IntoIterator<Item = (PathBuf, String)>) -> u8 {
    if let Err(err) = std::fs::create_dir_all(dir) {
        eprintln!("error: cannot create `{}`: {err}", dir.display());
        return USAGE_OR_IO;
    }
    for (name, contents) in files {
        let path = dir.join(&name);
        match hermes_build::write_if_changed(&path, contents.as_bytes()) {
            Ok(true) => println!("wrote {}", path.display()),
            Ok(false) => println!("unchanged {}", path.display()),
            Err(err) => {
                eprintln!("error: cannot write `{}`: {err}", path.display());
                return USAGE_OR_IO;
            }
        }
    }
    SUCCESS
}
