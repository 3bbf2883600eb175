//! Writing generated Rust as text: templates with `$name` placeholders, doc comments and
//! string literals.
//!
//! Everything whose size grows with the number of nodes, ports or topics is written this way,
//! already formatted, straight into one `String`: building it as tokens and pretty-printing
//! it costs about 100 times more (a 10,000-node topology took over 15 s that way).

use std::fmt::{self, Write as _};

/// A value for a template placeholder.
pub(crate) type Arg<'a> = (&'a str, &'a dyn fmt::Display);

/// Appends `template` to `out`, each `$name` replaced by the value `args` gives `name` (a name
/// is ASCII letters, digits and `_`). A leading newline in `template` is skipped, so templates
/// can start on the line after their opening quote.
pub(crate) fn put(out: &mut String, template: &str, args: &[Arg<'_>]) {
    let template = template.strip_prefix('\n').unwrap_or(template);
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        match args.iter().find(|(key, _)| *key == name) {
            Some((_, value)) => {
                let _ = write!(out, "{value}");
            }
            None => {
                debug_assert!(false, "template placeholder `${name}` has no value");
                out.push('$');
                out.push_str(name);
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
}

/// Appends `text` as `///` doc comment lines indented by `indent`.
pub(crate) fn doc(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        let line = line.trim_end();
        out.push_str(indent);
        if line.is_empty() {
            out.push_str("///\n");
        } else {
            out.push_str("/// ");
            // A lone carriage return is not allowed in a doc comment.
            out.extend(line.chars().filter(|&c| c != '\r'));
            out.push('\n');
        }
    }
}

/// `value` as a Rust string literal.
pub(crate) struct Str<'a>(pub &'a str);

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `str`'s `Debug` is a valid Rust string literal: quotes, backslashes and control
        // characters are escaped, the rest written as is.
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced() {
        let mut out = String::new();
        put(
            &mut out,
            "\nfn $name() -> $ty { $name_2 }",
            &[("name", &"f"), ("ty", &"u8"), ("name_2", &1)],
        );
        assert_eq!(out, "fn f() -> u8 { 1 }");
    }

    #[test]
    fn docs_become_line_comments() {
        let mut out = String::new();
        doc(&mut out, "    ", "One.\n\n  Two.\r\n*/ three");
        assert_eq!(
            out,
            "    /// One.\n    ///\n    ///   Two.\n    /// */ three\n"
        );
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(Str("a\"b\\c\n").to_string(), r#""a\"b\\c\n""#);
    }
}
