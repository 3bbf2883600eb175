//! Names in generated code: case conversion and keyword escaping, in one place.
//!
//! Type names become `UpperCamelCase`, modules, fields and methods `snake_case`, constants
//! `SHOUTY_SNAKE_CASE`. Keywords become raw identifiers (`r#type`), except the few that
//! cannot be raw (`self`, `Self`, `super`, `crate`, `_`), which get a trailing `_`.

use std::collections::BTreeSet;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Every strict and reserved keyword of Rust 2024 (raw identifiers escape them).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// `text` made into a valid identifier: characters other than ASCII letters, digits and `_`
/// become `_`, a leading digit gets a `_` before it, and an empty name becomes `_empty`.
fn sanitize(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '_') {
        out = "_empty".to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The identifier for an already converted name, escaped when it is a keyword.
pub fn escape(name: &str) -> Ident {
    let name = sanitize(name);
    if NOT_RAW.contains(&name.as_str()) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name.as_str()) {
        Ident::new_raw(&name, Span::call_site())
    } else {
        Ident::new(&name, Span::call_site())
    }
}

/// A type name: `UpperCamelCase`.
///
/// ```text
/// side -> Side, order_book -> OrderBook, self_ -> Self_
/// ```
pub fn type_name(name: &str) -> Ident {
    escape(&upper_camel(name))
}

/// `name` in `UpperCamelCase`, as a string (for enum variants and error messages).
pub fn upper_camel(name: &str) -> String {
    let converted = name.to_upper_camel_case();
    if converted.is_empty() {
        sanitize(name)
    } else {
        converted
    }
}

/// A module, field, function or method name: `snake_case`, keywords escaped.
pub fn snake(name: &str) -> Ident {
    escape(&snake_string(name))
}

/// `name` in `snake_case`, unescaped.
pub fn snake_string(name: &str) -> String {
    let converted = name.to_snake_case();
    if converted.is_empty() {
        sanitize(name)
    } else {
        converted
    }
}

/// A constant name: `SHOUTY_SNAKE_CASE`.
pub fn shouty(name: &str) -> Ident {
    let converted = name.to_shouty_snake_case();
    escape(if converted.is_empty() {
        name
    } else {
        &converted
    })
}

/// A topic as a name: `quotes/bitstamp` becomes `quotes_bitstamp`; the empty topic (every
/// topic) becomes `all`.
pub fn topic_words(topic: &str) -> String {
    if topic.is_empty() {
        return "all".to_string();
    }
    let words: String = topic
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    snake_string(&words)
}

/// Hands out distinct names in one namespace: the second `orders` becomes `orders_2`.
#[derive(Debug, Default)]
pub struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// A namespace where `reserved` are already taken.
    pub fn with_reserved(reserved: &[&str]) -> Names {
        Names {
            taken: reserved.iter().map(|name| (*name).to_string()).collect(),
        }
    }

    /// `base`, or `base_2`, `base_3`, ... if it is taken; the result is taken from then on.
    pub fn claim(&mut self, base: &str) -> String {
        let mut candidate = base.to_string();
        let mut n = 2;
        while self.taken.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(snake("type").to_string(), "r#type");
        assert_eq!(snake("match").to_string(), "r#match");
        assert_eq!(snake("self").to_string(), "self_");
        assert_eq!(type_name("self").to_string(), "Self_");
        assert_eq!(snake("crate").to_string(), "crate_");
    }

    #[test]
    fn names_convert_case() {
        assert_eq!(type_name("order_book").to_string(), "OrderBook");
        assert_eq!(snake("OrderBook").to_string(), "order_book");
        assert_eq!(shouty("quotes_bitstamp").to_string(), "QUOTES_BITSTAMP");
    }

    #[test]
    fn topics_become_words() {
        assert_eq!(topic_words("quotes/bitstamp"), "quotes_bitstamp");
        assert_eq!(topic_words(""), "all");
        assert_eq!(snake(&topic_words("1min/bars")).to_string(), "_1min_bars");
        assert_eq!(snake(&topic_words("a-b.c")).to_string(), "a_b_c");
    }

    #[test]
    fn repeated_names_get_a_suffix() {
        let mut names = Names::with_reserved(&["new"]);
        assert_eq!(names.claim("orders"), "orders");
        assert_eq!(names.claim("orders"), "orders_2");
        assert_eq!(names.claim("new"), "new_2");
    }
}
