//! `hermes schema`: write (or check) the JSON Schemas of the YAML formats.

use std::path::PathBuf;

use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes schema`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Editors that read `# yaml-language-server: $schema=...` complete and check topology and \
messages files with these.

Examples:
  hermes schema                                  # write schemas/*.schema.json
  hermes schema --out schemas --check            # exit 1 when they are stale (CI)")]
pub struct Args {
    /// The directory to write `topology.schema.json` and `messages.schema.json` into.
    #[arg(long, default_value = "schemas")]
    out: PathBuf,
    /// Write nothing; exit with 1 if the files are missing or differ from the generated ones.
    #[arg(long)]
    check: bool,
}

/// Writes or checks the schemas and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let mut stale = false;
    for (name, contents) in hermes_build::schema::json_schemas() {
        let path = args.out.join(name);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(contents.as_str()) {
            continue;
        }
        if args.check {
            eprintln!("error: `{}` is out of date", path.display());
            stale = true;
            continue;
        }
        if let Err(error) = std::fs::create_dir_all(&args.out)
            .and_then(|()| std::fs::write(&path, contents.as_bytes()))
        {
            eprintln!("error: cannot write `{}`: {error}", path.display());
            return USAGE_OR_IO;
        }
        eprintln!("wrote {}", path.display());
    }
    if stale {
        eprintln!(
            "help: run `hermes schema --out {}` to regenerate them",
            args.out.display()
        );
        return FINDINGS;
    }
    SUCCESS
}
