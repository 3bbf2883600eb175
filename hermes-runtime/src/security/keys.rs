//! CURVE keys and the directory of key files they live in.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Bytes in a CURVE key.
const KEY_LEN: usize = 32;

/// Characters in a key's Z85 text.
const Z85_LEN: usize = 40;

/// A key file cannot be read, written or understood, or a key cannot be made.
///
/// Every variant about a file names it. None ever contains secret key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file does not exist.
    #[error("key file `{}` does not exist\nhelp: create it with `hermes keygen`", path.display())]
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// The key file exists but cannot be read.
    #[error("cannot read key file `{}`: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file is not in the zcert format or holds an invalid key.
    #[error("{}{}: {reason}", path.display(), line.map(|line| format!(":{line}")).unwrap_or_default())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line at fault, `None` when the fault is the file as a whole (a missing key).
        line: Option<usize>,
        /// What is wrong, without any key material.
        reason: String,
    },
    /// A secret key file that group or others may read or write.
    #[error(
        "secret key file `{}` has mode {mode:04o}: expected no access for group and others\nhelp: `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Writing would replace a key file, and replacing was not asked for.
    #[error("key file `{}` already exists\nhelp: pass `overwrite` (`hermes keygen --force`) to replace it", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// A key file or its directory cannot be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// libzmq could not generate a key pair.
    #[error("cannot generate a CURVE key pair: {0}")]
    Generate(zmq::Error),
    /// Text given as a key is not a Z85-encoded 32-byte key.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// `public key` or `secret key`.
        what: &'static str,
        /// What is wrong with it, without the text itself when it is a secret.
        reason: String,
    },
}

/// A CURVE public key: 32 bytes, written as 40 characters of Z85.
///
/// # Examples
///
/// ```
/// use hermes_runtime::PublicKey;
///
/// let key = PublicKey::from_z85("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")?;
/// assert_eq!(key.to_z85(), "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
/// assert_eq!(key.to_string(), key.to_z85());
/// assert_eq!(key.as_bytes().len(), 32);
/// assert!(PublicKey::from_z85("too short").is_err());
/// # Ok::<(), hermes_runtime::KeyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// Reads a key from its 40 characters of Z85.
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] when `text` is not 40 characters of Z85.
    pub fn from_z85(text: &str) -> Result<PublicKey, KeyError> {
        decode_z85(text, "public key", true).map(PublicKey)
    }

    /// The key as 40 characters of Z85.
    pub fn to_z85(&self) -> String {
        encode_z85(&self.0)
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key from its 32 bytes.
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> PublicKey {
        PublicKey(bytes)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_z85())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_z85())
    }
}

/// A CURVE secret key: 32 bytes that never appear in `Debug` output, errors or logs.
///
/// It has no `Display`, and its bytes are overwritten with zeros when it is dropped (copies
/// libzmq makes when a socket takes the key are libzmq's to manage).
///
/// ```
/// let pair = hermes_runtime::KeyPair::generate()?;
/// assert_eq!(format!("{:?}", pair.secret()), "SecretKey(<redacted>)");
/// # Ok::<(), hermes_runtime::KeyError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// The key's 32 bytes, for handing to libzmq.
    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as Z85, for writing a key file; the caller zeroes the text when done.
    fn to_z85(&self) -> String {
        encode_z85(&self.0)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// A CURVE key pair: a [`PublicKey`] and its [`SecretKey`].
///
/// # Examples
///
/// ```
/// use hermes_runtime::KeyPair;
///
/// let pair = KeyPair::generate()?;
/// let debug = format!("{pair:?}");
/// assert!(debug.contains(&pair.public().to_z85()));
/// assert!(debug.contains("<redacted>"));
/// # Ok::<(), hermes_runtime::KeyError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    public: PublicKey,
    secret: SecretKey,
}

impl KeyPair {
    /// A new random key pair, from libzmq (`zmq_curve_keypair`).
    ///
    /// # Errors
    ///
    /// [`KeyError::Generate`] when libzmq cannot make one (a libzmq without CURVE).
    pub fn generate() -> Result<KeyPair, KeyError> {
        let mut made = zmq::CurveKeyPair::new().map_err(KeyError::Generate)?;
        let pair = KeyPair {
            public: PublicKey(made.public_key),
            secret: SecretKey(made.secret_key),
        };
        wipe(&mut made.secret_key);
        Ok(pair)
    }

    /// A key pair from the Z85 text of its keys.
    ///
    /// The keys are not checked against each other: a secret key that is not the public key's
    /// makes every CURVE handshake fail.
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] when either is not 40 characters of Z85; the error never quotes
    /// the secret.
    ///
    /// # Examples
    ///
    /// ```
    /// use hermes_runtime::KeyPair;
    ///
    /// let pair = KeyPair::from_z85(
    ///     "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
    ///     "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
    /// )?;
    /// assert_eq!(pair.public().to_z85(), "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    /// # Ok::<(), hermes_runtime::KeyError>(())
    /// ```
    pub fn from_z85(public: &str, secret: &str) -> Result<KeyPair, KeyError> {
        Ok(KeyPair {
            public: PublicKey::from_z85(public)?,
            secret: SecretKey(decode_z85(secret, "secret key", false)?),
        })
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// The secret key.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Whose key a key file holds; each role has its own directory in a [`KeyStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyRole {
    /// A node of the topology (`nodes/`).
    Node,
    /// A proxy (`proxies/`).
    Proxy,
    /// An operator: `hermes tap`, `pub`, `stats`, `record` (`operators/`).
    Operator,
}

impl KeyRole {
    /// The role's directory name in a key store.
    ///
    /// ```
    /// assert_eq!(hermes_runtime::KeyRole::Proxy.dir_name(), "proxies");
    /// ```
    pub fn dir_name(self) -> &'static str {
        match self {
            KeyRole::Node => "nodes",
            KeyRole::Proxy => "proxies",
            KeyRole::Operator => "operators",
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyRole::Node => "node",
            KeyRole::Proxy => "proxy",
            KeyRole::Operator => "operator",
        })
    }
}

/// A directory of key files: `<dir>/<role>/<name>.key` holds a public key and
/// `<dir>/<role>/<name>.key_secret` the pair, in czmq's zcert text format (what pyzmq's
/// `zmq.auth.load_certificate` reads).
///
/// Secret files are created with mode 0600 and directories with 0700; a secret file that group
/// or others may access is refused, as ssh refuses such a private key.
///
/// # Examples
///
/// ```
/// use hermes_runtime::{KeyPair, KeyRole, KeyStore};
///
/// let dir = tempfile::tempdir()?;
/// let store = KeyStore::new(dir.path().join("keys"));
/// let pair = KeyPair::generate()?;
/// store.write_pair(KeyRole::Node, "trader", &pair, false)?;
/// assert!(store.public_path(KeyRole::Node, "trader").ends_with("nodes/trader.key"));
/// assert_eq!(store.public(KeyRole::Node, "trader")?, pair.public());
/// assert_eq!(store.pair(KeyRole::Node, "trader")?, pair);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// The key store in `dir` (which need not exist yet).
    pub fn new(dir: impl Into<PathBuf>) -> KeyStore {
        KeyStore { dir: dir.into() }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the public key of `name` in `role` lives: `<dir>/<role>/<name>.key`.
    pub fn public_path(&self, role: KeyRole, name: &str) -> PathBuf {
        self.dir.join(role.dir_name()).join(format!("{name}.key"))
    }

    /// Where the key pair of `name` in `role` lives: `<dir>/<role>/<name>.key_secret`.
    pub fn secret_path(&self, role: KeyRole, name: &str) -> PathBuf {
        self.dir
            .join(role.dir_name())
            .join(format!("{name}.key_secret"))
    }

    /// Writes `pair` as `name`'s public and secret files, creating directories (mode 0700) as
    /// needed; the secret file is created with mode 0600.
    ///
    /// # Errors
    ///
    /// [`KeyError::Exists`] when either file exists and `overwrite` is false;
    /// [`KeyError::Write`] when a directory or file cannot be written.
    pub fn write_pair(
        &self,
        role: KeyRole,
        name: &str,
        pair: &KeyPair,
        overwrite: bool,
    ) -> Result<(), KeyError> {
        let public_path = self.public_path(role, name);
        let secret_path = self.secret_path(role, name);
        if !overwrite {
            for path in [&public_path, &secret_path] {
                if path.symlink_metadata().is_ok() {
                    return Err(KeyError::Exists { path: path.clone() });
                }
            }
        }
        let role_dir = self.dir.join(role.dir_name());
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&role_dir)
            .map_err(|source| KeyError::Write {
                path: role_dir.clone(),
                source,
            })?;
        let public = pair.public.to_z85();
        let mut secret_text = zcert(name, role, &public, Some(&pair.secret));
        let written = write_new(&secret_path, secret_text.as_bytes(), 0o600);
        wipe_string(&mut secret_text);
        written?;
        write_new(
            &public_path,
            zcert(name, role, &public, None).as_bytes(),
            0o644,
        )
    }

    /// Reads `name`'s public key from its public file.
    ///
    /// # Errors
    ///
    /// [`KeyError::Missing`], [`KeyError::Unreadable`] or [`KeyError::Malformed`].
    pub fn public(&self, role: KeyRole, name: &str) -> Result<PublicKey, KeyError> {
        let path = self.public_path(role, name);
        let text = read(&path)?;
        let parsed = parse_zcert(&path, &text, false)?;
        Ok(parsed.public)
    }

    /// Reads `name`'s key pair from its secret file.
    ///
    /// # Errors
    ///
    /// [`KeyError::Missing`], [`KeyError::Unreadable`], [`KeyError::Malformed`], or
    /// [`KeyError::Permissions`] when group or others may access the file.
    pub fn pair(&self, role: KeyRole, name: &str) -> Result<KeyPair, KeyError> {
        let path = self.secret_path(role, name);
        let metadata = std::fs::metadata(&path).map_err(|source| io_error(&path, source))?;
        let mode = metadata.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions { path, mode });
        }
        let mut text = read(&path)?;
        let parsed = parse_zcert(&path, &text, true);
        wipe_string(&mut text);
        let parsed = parsed?;
        match parsed.secret {
            Some(secret) => Ok(KeyPair {
                public: parsed.public,
                secret,
            }),
            None => Err(KeyError::Malformed {
                path,
                line: None,
                reason: "expected `secret-key = \"…\"` in section `curve`, found none".to_owned(),
            }),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> KeyError {
    if source.kind() == std::io::ErrorKind::NotFound {
        KeyError::Missing {
            path: path.to_owned(),
        }
    } else {
        KeyError::Unreadable {
            path: path.to_owned(),
            source,
        }
    }
}

fn read(path: &Path) -> Result<String, KeyError> {
    let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let line = error.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        wipe(&mut error.into_bytes());
        KeyError::Malformed {
            path: path.to_owned(),
            line: Some(line),
            reason: "expected UTF-8 text".to_owned(),
        }
    })
}

/// Creates `path` with `mode` (replacing an existing file, whose mode would otherwise stay)
/// and writes `contents`.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeyError> {
    let error = |source| KeyError::Write {
        path: path.to_owned(),
        source,
    };
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(error(source)),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(error)?;
    file.write_all(contents).map_err(error)?;
    file.sync_all().map_err(error)
}

/// A key file in czmq's zcert format.
fn zcert(name: &str, role: KeyRole, public: &str, secret: Option<&SecretKey>) -> String {
    let mut text = String::with_capacity(512);
    match secret {
        Some(_) => {
            text.push_str("#   ****  Generated by Hermes (hermes keygen)  ****\n");
            text.push_str("#   ZeroMQ CURVE **Secret** Certificate\n");
            text.push_str(
                "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n",
            );
        }
        None => {
            text.push_str("#   ****  Generated by Hermes (hermes keygen)  ****\n");
            text.push_str("#   ZeroMQ CURVE Public Certificate\n");
            text.push_str(
                "#   Exchange securely, or use a secure mechanism to verify the contents\n",
            );
            text.push_str("#   of this file after exchange.\n");
        }
    }
    text.push('\n');
    text.push_str("metadata\n");
    text.push_str(&format!("    name = {}\n", quote(name)));
    text.push_str(&format!("    role = \"{role}\"\n"));
    text.push_str("curve\n");
    text.push_str(&format!("    public-key = \"{public}\"\n"));
    if let Some(secret) = secret {
        let mut z85 = secret.to_z85();
        text.push_str("    secret-key = \"");
        text.push_str(&z85);
        text.push_str("\"\n");
        wipe_string(&mut z85);
    }
    text
}

/// A metadata value in double quotes; zconfig has no escapes, so quotes become `'`.
fn quote(value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| if c == '"' || c.is_control() { '\'' } else { c })
        .collect();
    format!("\"{clean}\"")
}

/// What a zcert file holds.
struct Parsed {
    public: PublicKey,
    secret: Option<SecretKey>,
}

/// Reads a zcert file: `#` comments, blank lines, top-level section names (`metadata`,
/// `curve`) and indented `name = "value"` properties of the section above them.
fn parse_zcert(path: &Path, text: &str, want_secret: bool) -> Result<Parsed, KeyError> {
    let malformed = |line: usize, reason: String| KeyError::Malformed {
        path: path.to_owned(),
        line: Some(line),
        reason,
    };
    let mut section: Option<&str> = None;
    let mut public = None;
    let mut secret = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !raw.starts_with([' ', '\t']) {
            match trimmed {
                "metadata" | "curve" => section = Some(trimmed),
                other => {
                    return Err(malformed(
                        number,
                        format!(
                            "expected section `metadata` or `curve`, found `{}`",
                            other.chars().take(40).collect::<String>()
                        ),
                    ));
                }
            }
            continue;
        }
        let Some((name, value)) = trimmed.split_once('=') else {
            return Err(malformed(
                number,
                "expected `name = \"value\"`, found a line without `=`".to_owned(),
            ));
        };
        let name = name.trim();
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .or_else(|| {
                value
                    .strip_prefix('\'')
                    .and_then(|rest| rest.strip_suffix('\''))
            })
            .unwrap_or(value);
        match (section, name) {
            (None, _) => {
                return Err(malformed(
                    number,
                    "expected a section (`metadata` or `curve`) before the first property"
                        .to_owned(),
                ));
            }
            (Some("curve"), "public-key") => {
                let key = PublicKey::from_z85(value)
                    .map_err(|err| malformed(number, invalid_reason(err)))?;
                public = Some(key);
            }
            (Some("curve"), "secret-key") => {
                if want_secret {
                    let key = decode_z85(value, "secret key", false)
                        .map_err(|err| malformed(number, invalid_reason(err)))?;
                    secret = Some(SecretKey(key));
                } else {
                    return Err(malformed(
                        number,
                        "a public key file holds a secret key: keep it private, and give others the `.key` file made with it".to_owned(),
                    ));
                }
            }
            (Some("curve"), other) => {
                return Err(malformed(
                    number,
                    format!(
                        "expected `public-key` or `secret-key` in section `curve`, found `{other}`"
                    ),
                ));
            }
            // Metadata is free-form, as in czmq.
            _ => {}
        }
    }
    let public = public.ok_or_else(|| KeyError::Malformed {
        path: path.to_owned(),
        line: None,
        reason: "expected `public-key = \"…\"` in section `curve`, found none".to_owned(),
    })?;
    Ok(Parsed { public, secret })
}

fn invalid_reason(error: KeyError) -> String {
    match error {
        KeyError::Invalid { what, reason } => format!("invalid {what}: {reason}"),
        other => other.to_string(),
    }
}

fn decode_z85(text: &str, what: &'static str, quote_text: bool) -> Result<[u8; KEY_LEN], KeyError> {
    let invalid = |reason: String| KeyError::Invalid { what, reason };
    if text.len() != Z85_LEN || !text.is_ascii() {
        return Err(invalid(format!(
            "expected {Z85_LEN} characters of Z85, found {}",
            text.chars().count()
        )));
    }
    // libzmq 4.3's decoder does not reject every character outside the alphabet.
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b".-:+=^!/*?&<>()[]{}@%$#".contains(&b);
    if !text.bytes().all(alphabet) {
        return Err(invalid(if quote_text {
            format!("expected Z85 text, found `{text}`")
        } else {
            "expected Z85 text, found other characters".to_owned()
        }));
    }
    let mut bytes = zmq::z85_decode(text).map_err(|_| {
        invalid(if quote_text {
            format!("expected Z85 text, found `{text}`")
        } else {
            "expected Z85 text, found other characters".to_owned()
        })
    })?;
    let mut key = [0u8; KEY_LEN];
    let ok = bytes.len() == KEY_LEN;
    if ok {
        key.copy_from_slice(&bytes);
    }
    wipe(&mut bytes);
    if ok {
        Ok(key)
    } else {
        Err(invalid(format!(
            "expected {KEY_LEN} bytes, found {}",
            bytes.len()
        )))
    }
}

fn encode_z85(bytes: &[u8; KEY_LEN]) -> String {
    // 32 bytes are a multiple of 4, the only thing Z85 encoding can refuse.
    zmq::z85_encode(bytes).unwrap_or_default()
}

#[cfg(test)]
pub(super) fn wipe_for_test(bytes: &mut [u8]) {
    wipe(bytes);
}

/// Overwrites `bytes` with zeros in a way the optimiser keeps.
fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    std::hint::black_box(bytes);
}

/// Overwrites a string holding key material with zeros and empties it.
fn wipe_string(text: &mut String) {
    let mut bytes = std::mem::take(text).into_bytes();
    wipe(&mut bytes);
}
