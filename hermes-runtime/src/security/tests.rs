use std::os::unix::fs::PermissionsExt;

use super::*;

fn store() -> (tempfile::TempDir, KeyStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path().join("keys"));
    (dir, store)
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn generated_pairs_round_trip_through_z85() {
    let pair = KeyPair::generate().unwrap();
    let public = pair.public().to_z85();
    assert_eq!(public.len(), 40);
    assert_eq!(PublicKey::from_z85(&public).unwrap(), pair.public());
    assert_ne!(KeyPair::generate().unwrap().public(), pair.public());
}

#[test]
fn pairs_round_trip_through_the_store_with_private_modes() {
    let (_dir, store) = store();
    let pair = KeyPair::generate().unwrap();
    store
        .write_pair(KeyRole::Operator, "alice", &pair, false)
        .unwrap();
    assert_eq!(
        store.public(KeyRole::Operator, "alice").unwrap(),
        pair.public()
    );
    assert_eq!(store.pair(KeyRole::Operator, "alice").unwrap(), pair);
    assert_eq!(mode(&store.secret_path(KeyRole::Operator, "alice")), 0o600);
    assert_eq!(mode(&store.dir().join("operators")), 0o700);
    assert_eq!(mode(store.dir()), 0o700);
    // The public file is not a secret, and holds none.
    let public_text =
        std::fs::read_to_string(store.public_path(KeyRole::Operator, "alice")).unwrap();
    assert!(!public_text.contains("secret-key"), "{public_text}");
}

#[test]
fn files_are_in_the_zcert_format_pyzmq_reads() {
    let (_dir, store) = store();
    let pair = KeyPair::from_z85(
        "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
        "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
    )
    .unwrap();
    store.write_pair(KeyRole::Node, "n", &pair, false).unwrap();
    let text = std::fs::read_to_string(store.secret_path(KeyRole::Node, "n")).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let curve = lines.iter().position(|l| *l == "curve").unwrap();
    assert!(lines.contains(&"metadata"));
    assert_eq!(
        lines[curve + 1],
        "    public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\""
    );
    assert_eq!(
        lines[curve + 2],
        "    secret-key = \"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6\""
    );
}

#[test]
fn existing_files_are_kept_unless_overwrite_is_asked_for() {
    let (_dir, store) = store();
    let first = KeyPair::generate().unwrap();
    let second = KeyPair::generate().unwrap();
    store.write_pair(KeyRole::Node, "n", &first, false).unwrap();
    let error = store
        .write_pair(KeyRole::Node, "n", &second, false)
        .unwrap_err();
    assert!(matches!(error, KeyError::Exists { .. }), "{error}");
    assert_eq!(store.pair(KeyRole::Node, "n").unwrap(), first);
    // Overwriting recreates the secret file with 0600 even when it had been loosened.
    let secret = store.secret_path(KeyRole::Node, "n");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    store.write_pair(KeyRole::Node, "n", &second, true).unwrap();
    assert_eq!(mode(&secret), 0o600);
    assert_eq!(store.pair(KeyRole::Node, "n").unwrap(), second);
}

#[test]
fn secret_files_readable_by_others_are_refused() {
    let (_dir, store) = store();
    let pair = KeyPair::generate().unwrap();
    store.write_pair(KeyRole::Proxy, "p", &pair, false).unwrap();
    let secret = store.secret_path(KeyRole::Proxy, "p");
    for loose in [0o640, 0o604, 0o660, 0o602] {
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(loose)).unwrap();
        let error = store.pair(KeyRole::Proxy, "p").unwrap_err();
        match &error {
            KeyError::Permissions { path, mode } => {
                assert_eq!(path, &secret);
                assert_eq!(*mode, loose);
            }
            other => panic!("expected a permissions error, found {other}"),
        }
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }
    // The public key stays readable by anyone.
    assert_eq!(store.public(KeyRole::Proxy, "p").unwrap(), pair.public());
}

#[test]
fn missing_files_name_the_file() {
    let (_dir, store) = store();
    let error = store.pair(KeyRole::Node, "ghost").unwrap_err();
    assert!(
        matches!(&error, KeyError::Missing { path } if path.ends_with("nodes/ghost.key_secret"))
    );
    assert!(error.to_string().contains("ghost.key_secret"), "{error}");
    let error = store.public(KeyRole::Node, "ghost").unwrap_err();
    assert!(matches!(&error, KeyError::Missing { path } if path.ends_with("nodes/ghost.key")));
}

fn write_secret(store: &KeyStore, name: &str, text: &str) {
    let dir = store.dir().join("nodes");
    std::fs::create_dir_all(&dir).unwrap();
    let path = store.secret_path(KeyRole::Node, name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn malformed_files_say_where_and_why_without_the_secret() {
    let (_dir, store) = store();
    let public = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    let cases = [
        ("no_curve", "metadata\n".to_owned(), None, "public-key"),
        (
            "bad_public",
            "curve\n    public-key = \"short\"\n".to_owned(),
            Some(2),
            "40 characters",
        ),
        (
            "bad_secret",
            format!(
                "curve\n    public-key = \"{public}\"\n    secret-key = \"SECRET-NOT-Z85-~~~~~~~~~~~~~~~~~~~~~~~~\"\n"
            ),
            Some(3),
            "secret key",
        ),
        (
            "no_secret",
            format!("curve\n    public-key = \"{public}\"\n"),
            None,
            "secret-key",
        ),
        (
            "stray_section",
            "curves\n".to_owned(),
            Some(1),
            "expected section",
        ),
        (
            "no_equals",
            "curve\n    public-key\n".to_owned(),
            Some(2),
            "without `=`",
        ),
    ];
    for (name, text, line, reason) in cases {
        write_secret(&store, name, &text);
        let error = store.pair(KeyRole::Node, name).unwrap_err();
        let text = error.to_string();
        match &error {
            KeyError::Malformed { path, line: at, .. } => {
                assert!(path.ends_with(format!("{name}.key_secret")), "{name}");
                assert_eq!(*at, line, "{name}: {text}");
            }
            other => panic!("{name}: expected malformed, found {other}"),
        }
        assert!(text.contains(reason), "{name}: {text}");
        assert!(!text.contains("SECRET-NOT-Z85"), "{name}: {text}");
    }
}

#[test]
fn a_public_file_holding_a_secret_is_refused() {
    let (_dir, store) = store();
    let pair = KeyPair::generate().unwrap();
    store.write_pair(KeyRole::Node, "n", &pair, false).unwrap();
    std::fs::copy(
        store.secret_path(KeyRole::Node, "n"),
        store.public_path(KeyRole::Node, "n"),
    )
    .unwrap();
    let error = store.public(KeyRole::Node, "n").unwrap_err();
    assert!(error.to_string().contains("holds a secret key"), "{error}");
}

#[test]
fn debug_output_and_errors_never_show_the_secret() {
    let pair = KeyPair::generate().unwrap();
    let secret_z85 = zmq::z85_encode(pair.secret().as_bytes()).unwrap();
    for text in [
        format!("{pair:?}"),
        format!("{pair:#?}"),
        format!("{:?}", pair.secret()),
    ] {
        assert!(!text.contains(&secret_z85), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
    let error = KeyPair::from_z85(&pair.public().to_z85(), "x".repeat(39).as_str()).unwrap_err();
    assert!(!error.to_string().contains("xxx"), "{error}");
    let error = KeyPair::from_z85(&pair.public().to_z85(), &"\"".repeat(40)).unwrap_err();
    assert!(!error.to_string().contains("\"\"\""), "{error}");
}

#[test]
fn secret_keys_are_zeroed_on_drop() {
    // Observable without unsafe only through the type's own code: the drop path runs `wipe`.
    let mut bytes = [7u8; 32];
    super::keys::wipe_for_test(&mut bytes);
    assert_eq!(bytes, [0; 32]);
}
