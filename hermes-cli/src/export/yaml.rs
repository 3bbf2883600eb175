//! Block-style YAML from a [`serde_json::Value`]: readable manifests without a second YAML
//! crate (only hermes-build's `parse.rs` names one, and it is for reading).
//!
//! Mapping keys come out in the value's order; strings are plain when nothing could read them
//! as another type (`on`, `6000:6000` and `*` are quoted), JSON-quoted otherwise (every JSON
//! string is a valid YAML one), and multi-line mapping values are literal blocks (`|`).

use serde_json::Value;

/// `value` as a YAML document, ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_block(&mut out, value, 0),
        Value::Array(items) if !items.is_empty() => write_block(&mut out, value, 0),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

/// A non-empty mapping or sequence, each line starting at `indent`.
fn write_block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                out.push_str(&pad);
                out.push_str(&string_text(key));
                out.push(':');
                write_after_key(out, value, indent);
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_block(item) {
                    // The item's block one level in, its first indentation replaced by `- `.
                    let mut inner = String::new();
                    write_block(&mut inner, item, indent + 2);
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&inner[indent + 2..]);
                } else {
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&scalar_text(item));
                    out.push('\n');
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn write_after_key(out: &mut String, value: &Value, indent: usize) {
    if is_block(value) {
        out.push('\n');
        write_block(out, value, indent + 2);
        return;
    }
    if let Value::String(text) = value
        && let Some(header) = literal_header(text)
    {
        out.push(' ');
        out.push_str(header);
        out.push('\n');
        let pad = " ".repeat(indent + 2);
        for line in text.trim_end_matches('\n').split('\n') {
            if !line.is_empty() {
                out.push_str(&pad);
                out.push_str(line);
            }
            out.push('\n');
        }
        // `|+` keeps the newlines after the last line: write them as empty lines.
        let trailing = text.len() - text.trim_end_matches('\n').len();
        for _ in 1..trailing {
            out.push('\n');
        }
        return;
    }
    out.push(' ');
    out.push_str(&scalar_text(value));
    out.push('\n');
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

/// The literal block header for a multi-line string that reads back exactly, if it can be
/// one: `|` (one final newline), `|-` (none) or `|+` (several).
fn literal_header(text: &str) -> Option<&'static str> {
    if !text.contains('\n')
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return None;
    }
    // The indentation is detected from the first non-empty line; a leading space or a
    // whitespace-only line before it would confuse that.
    let first = text.split('\n').find(|line| !line.is_empty())?;
    let before_first = text.split('\n').take_while(|line| line.is_empty()).count();
    if first.starts_with([' ', '\t'])
        || text
            .split('\n')
            .take(before_first + 1)
            .any(|line| line.trim().is_empty() && !line.is_empty())
    {
        return None;
    }
    let trailing = text.len() - text.trim_end_matches('\n').len();
    Some(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    })
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string_text(text),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
    }
}

/// `text` plain when YAML 1.1 and 1.2 both read it back as this string, else JSON-quoted.
fn string_text(text: &str) -> String {
    const WORDS: [&str; 11] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<",
    ];
    // A letter or `/` first keeps numbers out; `--flag` and `./path` are strings too.
    let start = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/')
        || text.starts_with("--")
        || text.starts_with("./");
    let plain = start
        && !text.ends_with(':')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-:".contains(c))
        && !WORDS.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        text.to_owned()
    } else {
        Value::String(text.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn mappings_and_sequences_nest_in_block_style() {
        let value = json!({
            "a": { "b": [1, { "c": "d", "e": ["f"] }], "empty": {} },
            "list": [],
        });
        assert_eq!(
            to_yaml(&value),
            "a:\n  b:\n    - 1\n    - c: d\n      e:\n        - f\n  empty: {}\nlist: []\n"
        );
    }

    #[test]
    fn strings_another_type_could_be_read_as_are_quoted() {
        for text in [
            "on",
            "No",
            "-1",
            ".inf",
            "6000:6000",
            "tcp://*:6000",
            "0600",
            "",
            " x",
            "a: b",
            "x:",
        ] {
            assert!(string_text(text).starts_with('"'), "{text}");
        }
        for text in [
            "tcp://market:6000",
            "app.kubernetes.io/name",
            "/etc/hermes",
            "--backend",
        ] {
            assert_eq!(string_text(text), text);
        }
    }

    #[test]
    fn multi_line_values_are_literal_blocks_that_keep_their_final_newlines() {
        let value = json!({ "one": "a\n  b\n", "none": "a\nb", "two": "a\n\n", "lead": " a\nb" });
        assert_eq!(
            to_yaml(&value),
            "lead: \" a\\nb\"\nnone: |-\n  a\n  b\none: |\n  a\n    b\ntwo: |+\n  a\n\n"
        );
    }
}
