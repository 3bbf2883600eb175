//! `hermes gen`: write the code `build.rs` would generate, for reading and for other languages.

use std::path::PathBuf;

use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes gen`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The same pure `hermes_build::generate` as `build.rs` produces the files, so what you read is \
what your crate compiles. Files that already hold the same bytes are left untouched.

Examples:
  hermes gen examples/trading/topology.yaml --out target/generated
  hermes gen topology.yaml --out proto --proto")]
pub struct Args {
    /// The topology file (or a directory holding `topology.yaml`).
    #[arg(default_value = "topology.yaml")]
    topology: PathBuf,
    /// The directory to write into; created if missing.
    #[arg(long, short)]
    out: PathBuf,
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
    let mut settings = hermes_build::Settings::default();
    settings.format = !args.no_format;
    let files = match hermes_build::generate(&loaded, &settings) {
        Ok(files) => files,
        Err(err) => {
            eprintln!("error: {err}");
            return FINDINGS;
        }
    };
    if let Err(err) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: cannot create `{}`: {err}", args.out.display());
        return USAGE_OR_IO;
    }
    for (name, contents) in files {
        let is_proto = name
            .extension()
            .is_some_and(|extension| extension == "proto");
        if is_proto && !args.proto {
            continue;
        }
        let path = args.out.join(&name);
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
