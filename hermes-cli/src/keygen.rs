//! `hermes keygen TOPOLOGY`: write a CURVE key pair for every node, proxy and operator of a
//! topology into its key directory.

use std::path::{Path, PathBuf};

use hermes_build::Loaded;
use hermes_runtime::{KeyError, KeyPair, KeyRole, KeyStore};

use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes keygen`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes, for each node, proxy and operator, `<role>/<name>.key` (the public key) and \
`<role>/<name>.key_secret` (the pair, mode 0600) in czmq's certificate format, which pyzmq's \
`zmq.auth.load_certificate` also reads. Roles are `nodes`, `proxies` and `operators`; the \
operators are the topology's `security.operators` (`operator` when not given) and every \
`--operator`. Existing key files are kept unless `--force`. A `.gitignore` keeps secret files \
out of git. No secret is ever printed.

Give each host only its own secret files and everyone's public files.

Exit status: 0 when every key exists, 1 when the topology is invalid, 2 when a file cannot \
be read or written.

Examples:
  hermes keygen                                  # ./topology.yaml, into its security.keys
  hermes keygen examples/trading -o keys         # into ./keys
  hermes keygen --operator alice --operator ci   # more operator keys
  hermes keygen --force                          # new keys for everyone")]
pub struct Args {
    /// The topology: a file, or a directory holding `topology.yaml`.
    #[arg(default_value = crate::topology::DEFAULT_PATH)]
    topology: PathBuf,
    /// The key directory; default: the topology's `security.keys`, else `keys` beside the
    /// topology.
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// An operator to make a key for, besides the topology's; may be repeated.
    #[arg(long, value_name = "NAME")]
    operator: Vec<String>,
    /// Replace existing key files with new keys.
    #[arg(long)]
    force: bool,
}

/// Writes the keys and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let loaded = match crate::topology::load(&args.topology) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let store = KeyStore::new(args.out.clone().unwrap_or_else(|| key_directory(&loaded)));
    let mut written = 0;
    let mut kept = 0;
    for (role, name) in key_owners(&loaded, &args.operator) {
        if !args.force && store.secret_path(role, &name).exists() {
            kept += 1;
            continue;
        }
        let pair = match KeyPair::generate() {
            Ok(pair) => pair,
            Err(error) => {
                eprintln!("error: {error}");
                return FINDINGS;
            }
        };
        match store.write_pair(role, &name, &pair, args.force) {
            Ok(()) => written += 1,
            Err(error @ KeyError::Exists { .. }) => {
                eprintln!("error: {error}");
                eprintln!("help: pass `--force` to replace it, or remove it");
                return USAGE_OR_IO;
            }
            Err(error) => {
                eprintln!("error: {error}");
                return USAGE_OR_IO;
            }
        }
    }
    let ignore = store.dir().join(".gitignore");
    if !ignore.exists() {
        let text = "# Secret keys never go into version control.\n*.key_secret\n";
        if let Err(error) = std::fs::write(&ignore, text) {
            eprintln!("error: cannot write `{}`: {error}", ignore.display());
            return USAGE_OR_IO;
        }
    }
    eprintln!(
        "{}: {written} key pair{} written, {kept} kept",
        store.dir().display(),
        if written == 1 { "" } else { "s" }
    );
    SUCCESS
}

/// The topology's key directory: `security.keys` beside the topology file, else `keys`.
pub fn key_directory(loaded: &Loaded) -> PathBuf {
    let topology = loaded.sources().path(loaded.topology_file);
    let dir = topology.parent().unwrap_or(Path::new(""));
    match &loaded.topology.security {
        Some(security) => dir.join(security.keys.as_str()),
        None => dir.join("keys"),
    }
}

/// Everyone who needs a key: every node, every proxy, the topology's operators and `extra`.
fn key_owners(loaded: &Loaded, extra: &[String]) -> Vec<(KeyRole, String)> {
    let topology = &loaded.topology;
    let mut owners: Vec<(KeyRole, String)> = Vec::new();
    owners.extend(
        topology
            .nodes
            .names()
            .map(|name| (KeyRole::Node, name.value.clone())),
    );
    owners.extend(
        topology
            .proxies
            .names()
            .map(|name| (KeyRole::Proxy, name.value.clone())),
    );
    let operators: Vec<String> = match &topology.security {
        Some(security) => security
            .operator_names()
            .iter()
            .map(|name| (*name).to_owned())
            .collect(),
        None => vec!["operator".to_owned()],
    };
    for name in operators.into_iter().chain(extra.iter().cloned()) {
        if !owners.contains(&(KeyRole::Operator, name.clone())) {
            owners.push((KeyRole::Operator, name));
        }
    }
    owners
}
