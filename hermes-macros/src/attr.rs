//! The `#[hermes(...)]` attributes: parsed leniently, so that every mistake is reported at once.

use proc_macro2::{Span, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitInt, LitStr, Meta, Token};

use crate::valid::Errors;

/// The keys `#[hermes(...)]` accepts on the type, in the order error messages list them.
const KEYS: [&str; 6] = [
    "name",
    "codec",
    "topic",
    "crate",
    "version",
    "python_layout",
];

/// The codec names `codec = "..."` accepts: the runtime's `Codec::name()`s.
const CODECS: [&str; 3] = ["protobuf", "json", "python-json"];

/// The layout names `python_layout = "..."` accepts: the runtime's `PythonLayout::name()`s.
const LAYOUTS: [&str; 3] = ["message", "list", "object"];

/// The type's `#[hermes(...)]` options.
#[derive(Default)]
pub struct Container {
    /// `name = "trading.Quote"`.
    pub name: Option<LitStr>,
    /// `codec = "json"`, with the literal for error spans.
    pub codec: Option<(Codec, LitStr)>,
    /// `topic = "quotes"`.
    pub topic: Option<LitStr>,
    /// `crate = "path"`: where the runtime lives when it is not `::hermes_runtime`.
    pub krate: Option<syn::Path>,
    /// `version = 2`: the major version, with the literal for error spans. With it, the
    /// fingerprint is the lineage (name and version) rather than a hash of the fields.
    pub version: Option<(u32, LitInt)>,
    /// `python_layout = "object"`: how `python-json` lays out the fields by default, as the
    /// runtime's `PythonLayout` variant name.
    pub python_layout: Option<Ident>,
}

/// A codec the type can name as its default, mirroring the runtime's `Codec`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Protobuf,
    Json,
    PythonJson,
}

impl Codec {
    fn from_name(name: &str) -> Option<Codec> {
        match name {
            "protobuf" => Some(Codec::Protobuf),
            "json" => Some(Codec::Json),
            "python-json" => Some(Codec::PythonJson),
            _ => None,
        }
    }

    /// The runtime's variant name.
    pub fn variant(self) -> Ident {
        let name = match self {
            Codec::Protobuf => "Protobuf",
            Codec::Json => "Json",
            Codec::PythonJson => "PythonJson",
        };
        Ident::new(name, Span::call_site())
    }
}

impl Container {
    /// Reads every `#[hermes]` attribute of the type, pushing each problem to `errors`.
    pub fn from_attrs(attrs: &[Attribute], errors: &mut Errors) -> Container {
        let mut container = Container::default();
        let mut seen: Vec<String> = Vec::new();
        for entry in entries(attrs, errors) {
            let key = entry.key.unraw().to_string();
            if !KEYS.contains(&key.as_str()) {
                errors.push(unknown(&entry.key, &key, "key", &KEYS));
                continue;
            }
            if seen.contains(&key) {
                errors.push(with_help(
                    &entry.key,
                    format!("duplicate #[hermes] key `{key}`"),
                    "remove all but one",
                ));
                continue;
            }
            seen.push(key.clone());
            if key == "version" {
                if let Some(version) = entry.version_value(errors) {
                    container.version = Some(version);
                }
                continue;
            }
            let Some(value) = entry.string_value(&key, errors) else {
                continue;
            };
            match key.as_str() {
                "name" => container.name = Some(value),
                "topic" => container.topic = Some(value),
                "python_layout" => match LAYOUTS.iter().position(|name| *name == value.value()) {
                    Some(index) => {
                        let variant = ["Message", "List", "Object"][index];
                        container.python_layout = Some(Ident::new(variant, value.span()));
                    }
                    None => errors.push(unknown(&value, &value.value(), "python layout", &LAYOUTS)),
                },
                "codec" => match Codec::from_name(&value.value()) {
                    Some(codec) => container.codec = Some((codec, value)),
                    None => errors.push(unknown(&value, &value.value(), "codec", &CODECS)),
                },
                // `crate`, the last string-valued key of `KEYS`
                _ => match value.parse::<syn::Path>() {
                    Ok(path) => container.krate = Some(path),
                    Err(_) => errors.push(with_help(
                        &value,
                        format!(
                            "expected a path for #[hermes] key `crate`, found `{}`",
                            value.value()
                        ),
                        "write the path the runtime is reachable at, as in `crate = \"my_app::hermes_runtime\"`",
                    )),
                },
            }
        }
        container
    }
}

/// Reports every `#[hermes]` attribute on a field or variant: none is accepted there.
pub fn reject(attrs: &[Attribute], place: &str, errors: &mut Errors) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("hermes")) {
        errors.push(with_help(
            attr,
            format!("#[hermes] is not allowed on {place}"),
            "remove it; the fingerprint covers every field and variant, so there is nothing to set here",
        ));
    }
}

/// The `key = value` entries of all `#[hermes(...)]` attributes, in source order.
fn entries(attrs: &[Attribute], errors: &mut Errors) -> Vec<Entry> {
    let mut entries = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("hermes")) {
        let Meta::List(list) = &attr.meta else {
            errors.push(with_help(
                attr,
                "expected #[hermes(key = \"value\", ...)]",
                "write the options in parentheses, as in `#[hermes(name = \"trading.Quote\")]`",
            ));
            continue;
        };
        match list.parse_args_with(Punctuated::<Entry, Token![,]>::parse_terminated) {
            Ok(parsed) => entries.extend(parsed),
            Err(err) => errors.push(err),
        }
    }
    entries
}

/// One `key`, `key = value` or `key(...)` inside `#[hermes(...)]`.
struct Entry {
    key: Ident,
    value: Value,
}

enum Value {
    Missing,
    Expr(Expr),
    Group(TokenTree),
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Entry> {
        let key = Ident::parse_any(input)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Value::Expr(input.parse()?)
        } else if input.peek(syn::token::Paren)
            || input.peek(syn::token::Bracket)
            || input.peek(syn::token::Brace)
        {
            Value::Group(input.parse()?)
        } else {
            Value::Missing
        };
        Ok(Entry { key, value })
    }
}

impl Entry {
    /// The `version` entry's integer, 1 or more, or `None` after reporting why it has none.
    fn version_value(self, errors: &mut Errors) -> Option<(u32, LitInt)> {
        let example = example("version");
        match self.value {
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            })) => match lit.base10_parse::<u32>() {
                Ok(version) if version >= 1 => Some((version, lit)),
                _ => {
                    errors.push(with_help(
                        &lit,
                        format!(
                            "invalid #[hermes] version `{lit}`, expected an integer from 1 to {}",
                            u32::MAX
                        ),
                        "versions start at 1; raise the version for each breaking change",
                    ));
                    None
                }
            },
            Value::Expr(other) => {
                errors.push(with_help(
                    &other,
                    format!(
                        "expected an integer literal for #[hermes] key `version`, found `{}`",
                        other.to_token_stream()
                    ),
                    format!("write the major version without quotes, as in `{example}`"),
                ));
                None
            }
            Value::Missing => {
                errors.push(with_help(
                    &self.key,
                    "expected a value for #[hermes] key `version`",
                    format!("write `{example}`"),
                ));
                None
            }
            Value::Group(group) => {
                errors.push(with_help(
                    &group,
                    "expected `=` and an integer literal after #[hermes] key `version`",
                    format!("write `{example}`"),
                ));
                None
            }
        }
    }

    /// The entry's string literal, or `None` after reporting why it has none.
    fn string_value(self, key: &str, errors: &mut Errors) -> Option<LitStr> {
        let example = example(key);
        match self.value {
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            })) => Some(lit),
            Value::Expr(other) => {
                errors.push(with_help(
                    &other,
                    format!(
                        "expected a string literal for #[hermes] key `{key}`, found `{}`",
                        other.to_token_stream()
                    ),
                    format!("quote the value, as in `{example}`"),
                ));
                None
            }
            Value::Missing => {
                errors.push(with_help(
                    &self.key,
                    format!("expected a value for #[hermes] key `{key}`"),
                    format!("write `{example}`"),
                ));
                None
            }
            Value::Group(group) => {
                errors.push(with_help(
                    &group,
                    format!("expected `=` and a string literal after #[hermes] key `{key}`"),
                    format!("write `{example}`"),
                ));
                None
            }
        }
    }
}

fn example(key: &str) -> &'static str {
    match key {
        "name" => "name = \"trading.Quote\"",
        "codec" => "codec = \"json\"",
        "topic" => "topic = \"quotes\"",
        "version" => "version = 2",
        "python_layout" => "python_layout = \"object\"",
        _ => "crate = \"my_app::hermes_runtime\"",
    }
}

/// `unknown #[hermes] <what> `found`, expected one of ...`, with a suggestion when one is close.
fn unknown(tokens: &dyn ToTokens, found: &str, what: &str, expected: &[&str]) -> syn::Error {
    let list = expected
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = if what == "key" {
        format!("unknown #[hermes] key `{found}`, expected one of {list}")
    } else {
        format!("unknown {what} `{found}`, expected one of {list}")
    };
    let closest = expected
        .iter()
        .map(|name| (strsim::jaro_winkler(found, name), name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((_, name)) => with_help(tokens, message, format!("did you mean `{name}`?")),
        None => syn::Error::new_spanned(tokens, message),
    }
}

/// An error whose message ends with a `help:` line, as rustc renders them.
pub fn with_help(
    tokens: &dyn ToTokens,
    message: impl std::fmt::Display,
    help: impl std::fmt::Display,
) -> syn::Error {
    syn::Error::new_spanned(tokens, format!("{message}\nhelp: {help}"))
}
