//! Hostile input: each case is a clean error, quickly, without a panic.

use std::time::{Duration, Instant};

use hermes_build::{Code, LoadError, Report};

/// Generous for debug builds; release builds take a few milliseconds.
const DEADLINE: Duration = Duration::from_secs(1);

fn load_bytes(bytes: &[u8]) -> (Result<hermes_build::Loaded, LoadError>, Duration) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("topology.yaml");
    std::fs::write(&path, bytes).expect("write fixture");
    let start = Instant::now();
    let result = hermes_build::load(&path);
    (result, start.elapsed())
}

fn expect_error(bytes: &[u8]) -> Report {
    let (result, elapsed) = load_bytes(bytes);
    assert!(elapsed < DEADLINE, "took {elapsed:?}");
    match result {
        Err(LoadError::Invalid(report)) => {
            assert!(report.has_errors());
            let rendered = report.render_human();
            assert!(
                rendered.len() < 4096,
                "rendering is bounded: {} bytes",
                rendered.len()
            );
            report
        }
        Err(error) => panic!("expected findings, got {error}"),
        Ok(_) => panic!("expected findings, got a valid topology"),
    }
}

fn codes(report: &Report) -> Vec<Code> {
    report.diagnostics().iter().map(|d| d.code).collect()
}

#[test]
fn empty_file_is_a_syntax_error() {
    let report = expect_error(b"");
    assert_eq!(codes(&report), [Code::Syntax]);
    assert!(report.render_human().contains("file is empty"));
}

#[test]
fn comment_only_file_is_a_syntax_error() {
    let report = expect_error(b"# nothing here\n\n");
    assert_eq!(codes(&report), [Code::Syntax]);
}

#[test]
fn binary_garbage_is_a_syntax_error() {
    // A deterministic pseudo-random byte soup, including invalid UTF-8.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let report = expect_error(&bytes);
    assert_eq!(codes(&report), [Code::Syntax]);
    assert!(report.render_human().contains("not valid UTF-8"));
}

#[test]
fn control_characters_are_a_clean_error() {
    expect_error(b"\x01\x02\x03name: \x00\x1b[31m\n");
}

#[test]
fn anchor_bomb_hits_a_limit() {
    let mut yaml = String::from("name: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let previous = level - 1;
        yaml.push_str(&format!(
            "x{level}: &a{level} [*a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}]\n"
        ));
    }
    expect_error(yaml.as_bytes());
}

#[test]
fn anchor_bomb_in_accepted_values_hits_a_resource_limit() {
    // Every alias is a valid `messages:` entry, so only the budget can stop it.
    let mut yaml = String::from("name: &n demo\nmessages: [");
    for _ in 0..5_000 {
        yaml.push_str("*n, ");
    }
    yaml.push_str("]\nnodes: {}\n");
    let report = expect_error(yaml.as_bytes());
    assert_eq!(codes(&report), [Code::ResourceLimit]);
}

#[test]
fn nesting_ten_thousand_deep_is_rejected() {
    let yaml = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let report = expect_error(yaml.as_bytes());
    assert_eq!(codes(&report), [Code::ResourceLimit]);
    let yaml = format!(
        "name: x\nnodes:\n  a:\n    run: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    expect_error(yaml.as_bytes());
    let mut block = String::from("name: x\nnodes:\n");
    // Block nesting needs one more space per level, so 1,000 levels is already 500 kB.
    for depth in 0..1_000 {
        block.push_str(&" ".repeat(depth));
        block.push_str("a:\n");
    }
    expect_error(block.as_bytes());
}

#[test]
fn one_megabyte_key_is_rejected() {
    let key = "k".repeat(1024 * 1024);
    expect_error(format!("name: x\n{key}: 1\nnodes: {{}}\n").as_bytes());
    expect_error(format!("name: x\nnodes:\n  {key}: {{}}\n").as_bytes());
    expect_error(format!("name: x\nnodes:\n  \"{key}\": {{}}\n").as_bytes());
}

#[test]
fn oversized_file_is_rejected_before_parsing() {
    let mut yaml = b"name: x\nnodes: {}\n".to_vec();
    yaml.resize(hermes_build::MAX_FILE_BYTES as usize + 1, b' ');
    let report = expect_error(&yaml);
    assert_eq!(codes(&report), [Code::ResourceLimit]);
}
