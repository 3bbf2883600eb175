//! `hermes lock TOPOLOGY`: write `hermes.lock`, the wire schema of every message and enum as
//! released, beside the topology file.

use std::path::PathBuf;

use hermes_build::evolution::{Lock, lock_path};
use hermes_build::{LoadOptions, LockCheck};

use crate::{SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes lock`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The lock records each message's fields, numbers and types, its `version:`, and the rule set \
(`wire`, or `wire_json` for a message a JSON port carries) it is judged by. Commit it with \
the messages files; run this again when you release a schema change.

A change the existing lock records as breaking (a field retyped, renumbered or deleted \
without `reserved:`) is refused unless the message's `version:` was raised: raise it, or \
pass `--allow-breaking` to record the break anyway (before a first release, say).

Exit status: 0 when the lock is written, 1 when the topology is invalid, 2 when a file \
cannot be read or written.

Examples:
  hermes lock                                    # ./topology.yaml -> ./hermes.lock
  hermes lock examples/trading                   # examples/trading/hermes.lock")]
pub struct Args {
    /// The topology: a file, or a directory holding `topology.yaml`.
    #[arg(default_value = crate::topology::DEFAULT_PATH)]
    topology: PathBuf,
    /// Write the lock even when the messages break the existing one without a version raise.
    #[arg(long)]
    allow_breaking: bool,
}

/// Writes the lock and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let lock = if args.allow_breaking {
        LockCheck::Ignore
    } else {
        LockCheck::Compare
    };
    let options = LoadOptions::default().lock(lock);
    let loaded = match crate::topology::load_with(&args.topology, &options) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let path = lock_path(&loaded);
    let text = Lock::of(&loaded).to_text();
    if let Err(error) = std::fs::write(&path, text) {
        eprintln!("error: cannot write `{}`: {error}", path.display());
        return USAGE_OR_IO;
    }
    eprintln!("wrote {}", path.display());
    SUCCESS
}
