//! The derive input as the rest of the crate sees it: the type, its options, its fields.

use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{DeriveInput, Expr, Generics, Ident, Type};

use crate::attr::{self, Container};
use crate::valid::Errors;

/// A struct or enum deriving `HermesMessage`.
pub struct Input<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub attrs: Container,
    pub data: Data<'a>,
}

pub enum Data<'a> {
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

pub struct Variant<'a> {
    pub ident: &'a Ident,
    pub fields: Vec<Field<'a>>,
    pub style: Style,
    pub discriminant: Option<&'a Expr>,
    pub original: &'a syn::Variant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Named,
    Tuple,
    Unit,
}

pub struct Field<'a> {
    /// The field's name without `r#`, or its index in a tuple.
    pub name: String,
    pub ty: &'a Type,
}

impl<'a> Input<'a> {
    /// Reads the input, pushing every problem to `errors`; `None` for unions.
    pub fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Option<Input<'a>> {
        let attrs = Container::from_attrs(&input.attrs, errors);
        let data = match &input.data {
            syn::Data::Struct(data) => Data::Struct(fields(&data.fields, errors)),
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        attr::reject(&variant.attrs, "enum variants", errors);
                        Variant {
                            ident: &variant.ident,
                            fields: fields(&variant.fields, errors),
                            style: style(&variant.fields),
                            discriminant: variant.discriminant.as_ref().map(|(_, expr)| expr),
                            original: variant,
                        }
                    })
                    .collect(),
            ),
            syn::Data::Union(data) => {
                errors.push(attr::with_help(
                    &data.union_token,
                    "#[derive(HermesMessage)] does not support unions",
                    "use a struct or an enum; no codec can tell which union field is set",
                ));
                return None;
            }
        };
        Some(Input {
            ident: &input.ident,
            generics: &input.generics,
            attrs,
            data,
        })
    }

    /// Whether the type is an enum whose variants all lack fields.
    pub fn is_unit_enum(&self) -> bool {
        match &self.data {
            Data::Enum(variants) => variants.iter().all(|v| v.style == Style::Unit),
            Data::Struct(_) => false,
        }
    }

    /// The canonical description after the name, hashed into the fingerprint:
    /// `{field:type;field:type}` for structs (tuple fields are named `0`, `1`, ...) and
    /// `{Unit;Tuple(0:type);Named(field:type);Explicit=3}` for enums.
    pub fn canonical_shape(&self) -> String {
        let body = match &self.data {
            Data::Struct(fields) => canonical_fields(fields),
            Data::Enum(variants) => variants
                .iter()
                .map(|variant| {
                    let mut out = variant.ident.unraw().to_string();
                    if variant.style != Style::Unit {
                        out.push('(');
                        out.push_str(&canonical_fields(&variant.fields));
                        out.push(')');
                    }
                    if let Some(expr) = variant.discriminant {
                        out.push('=');
                        out.push_str(&without_whitespace(expr));
                    }
                    out
                })
                .collect::<Vec<_>>()
                .join(";"),
        };
        format!("{{{body}}}")
    }
}

fn fields<'a>(fields: &'a syn::Fields, errors: &mut Errors) -> Vec<Field<'a>> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            attr::reject(&field.attrs, "fields", errors);
            Field {
                name: match &field.ident {
                    Some(ident) => ident.unraw().to_string(),
                    None => index.to_string(),
                },
                ty: &field.ty,
            }
        })
        .collect()
}

fn style(fields: &syn::Fields) -> Style {
    match fields {
        syn::Fields::Named(_) => Style::Named,
        syn::Fields::Unnamed(_) => Style::Tuple,
        syn::Fields::Unit => Style::Unit,
    }
}

fn canonical_fields(fields: &[Field<'_>]) -> String {
    fields
        .iter()
        .map(|field| format!("{}:{}", field.name, without_whitespace(field.ty)))
        .collect::<Vec<_>>()
        .join(";")
}

/// The tokens as written, with the whitespace between them and trailing commas in generic
/// arguments removed: `Vec < u8 >` is `Vec<u8>`, and `BTreeMap<K, V,>` (as rustfmt and
/// prettyplease write long types across lines) is `BTreeMap<K,V>`, so formatting never changes
/// a fingerprint.
fn without_whitespace(tokens: &dyn ToTokens) -> String {
    let compact: String = tokens
        .to_token_stream()
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    compact.replace(",>", ">")
}

#[cfg(test)]
mod tests {
    #[test]
    fn formatting_does_not_change_the_canonical_type() {
        let broken: syn::Type = syn::parse_quote!(::std::collections::BTreeMap<
            ::std::string::String,
            ::std::string::String,
        >);
        let one_line: syn::Type = syn::parse_quote!(::std::collections::BTreeMap<::std::string::String, ::std::string::String>);
        assert_eq!(
            super::without_whitespace(&broken),
            super::without_whitespace(&one_line)
        );
        let tuple: syn::Type = syn::parse_quote!((u8,));
        assert_eq!(
            super::without_whitespace(&tuple),
            "(u8,)",
            "a 1-tuple keeps its comma"
        );
    }
}
