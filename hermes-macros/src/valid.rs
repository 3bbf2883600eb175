//! Checks of the whole input, and the collector every module reports its errors to.

use quote::ToTokens;
use syn::{GenericParam, LitStr};

use crate::ast::{Data, Input, Style};
use crate::attr::{Codec, with_help};

/// Every error found so far, combined so that each keeps its own span.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Pushes every problem that needs more than one attribute to see.
pub fn check(input: &Input<'_>, errors: &mut Errors) {
    check_generics(input, errors);
    check_enum(input, errors);
    if let Some(name) = &input.attrs.name {
        check_name(name, errors);
    }
    if let Some(topic) = &input.attrs.topic {
        check_topic(topic, errors);
    }
    check_version(input, errors);
}

/// A lineage is a name and a version: the default name moves with the Rust path, so a
/// version without an explicit `name` would not identify anything stable.
fn check_version(input: &Input<'_>, errors: &mut Errors) {
    if let (Some((_, lit)), None) = (&input.attrs.version, &input.attrs.name) {
        errors.push(with_help(
            lit,
            "#[hermes] key `version` requires an explicit `name`",
            "add the name the version belongs to, as in `#[hermes(name = \"trading.Quote\", version = 2)]`",
        ));
    }
}

fn check_generics(input: &Input<'_>, errors: &mut Errors) {
    let params = &input.generics.params;
    if params.is_empty() {
        return;
    }
    let all_lifetimes = params
        .iter()
        .all(|param| matches!(param, GenericParam::Lifetime(_)));
    let tokens = input.generics.to_token_stream();
    errors.push(if all_lifetimes {
        with_help(
            &tokens,
            format!(
                "#[derive(HermesMessage)] does not support lifetime parameters, found `{}`",
                tokens.to_string().replace(' ', "")
            ),
            "a message is owned (`Message: 'static`); use owned fields such as `String` instead of `&'a str`",
        )
    } else {
        with_help(
            &tokens,
            format!(
                "#[derive(HermesMessage)] does not support generic parameters, found `{}`",
                tokens.to_string().replace(' ', "")
            ),
            "a message has one name and one fingerprint; derive it on a concrete type with no parameters",
        )
    });
}

fn check_enum(input: &Input<'_>, errors: &mut Errors) {
    let Data::Enum(variants) = &input.data else {
        return;
    };
    if variants.is_empty() {
        errors.push(with_help(
            input.ident,
            format!(
                "enum `{}` has no variants, so no message could ever be sent",
                input.ident
            ),
            "add a variant",
        ));
        return;
    }
    let codec = input.attrs.codec.as_ref();
    if codec.is_some_and(|(codec, _)| *codec != Codec::Protobuf) {
        return;
    }
    let Some(with_fields) = variants.iter().find(|v| v.style != Style::Unit) else {
        return;
    };
    let help = "choose a JSON codec with `#[hermes(codec = \"json\")]`, or make every variant a unit variant";
    let (tokens, codec): (&dyn ToTokens, _) = match codec {
        Some((_, lit)) => (lit, "`protobuf` codec"),
        None => (with_fields.original, "default `protobuf` codec"),
    };
    errors.push(with_help(
        tokens,
        format!(
            "enum `{}` has variants with fields, which the {codec} cannot carry",
            input.ident
        ),
        help,
    ));
}

/// Names are identifiers joined by `.` (protobuf style) or `::` (Rust style).
fn check_name(lit: &LitStr, errors: &mut Errors) {
    let name = lit.value();
    let valid = !name.is_empty() && name.replace("::", ".").split('.').all(is_identifier);
    if !valid {
        errors.push(with_help(
            lit,
            format!("invalid message name `{name}`, expected identifiers joined by `.`"),
            "write a name such as `trading.Quote`",
        ));
    }
}

fn is_identifier(segment: &str) -> bool {
    let mut chars = segment.chars();
    chars
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

fn check_topic(lit: &LitStr, errors: &mut Errors) {
    let topic = lit.value();
    if topic.is_empty() {
        errors.push(with_help(
            lit,
            "default topic must not be empty",
            "remove `topic` to publish without a default topic, or name one such as `quotes`",
        ));
    } else if topic.contains('\0') {
        errors.push(syn::Error::new_spanned(
            lit,
            "default topic must not contain a NUL byte",
        ));
    }
}
