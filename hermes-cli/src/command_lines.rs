//! Command lines as the documentation writes them, for the tests that check every example in
//! `--help` and every command in the docs' code blocks parses. Shared, by `#[path]`, with
//! hermes-bench's tests, whose program is documented the same way.

use std::path::{Path, PathBuf};

/// `line` split into words as a POSIX shell would, for single- and double-quoted words, up to a
/// pipe, a redirection or a comment.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, '|' | '>' | '<') => break,
            (None, '#') if word.is_none() => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Every line of the Markdown files of the workspace root and of `dirs` (relative to it), as
/// `(file:line, trimmed line, inside a code block)`.
pub fn documentation_lines(root: &Path, dirs: &[&str]) -> Vec<(String, String, bool)> {
    let mut docs: Vec<PathBuf> = vec![root.join("README.md")];
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|ext| ext == "md") {
                docs.push(path);
            }
        }
    }
    docs.sort();
    let mut lines = Vec::new();
    for doc in docs {
        let text = std::fs::read_to_string(&doc).expect("readable documentation");
        let mut in_code = false;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with("```") {
                in_code = !in_code;
                continue;
            }
            let place = format!("{}:{}", doc.display(), number + 1);
            lines.push((place, line.to_owned(), in_code));
        }
    }
    lines
}
