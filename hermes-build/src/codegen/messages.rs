//! Messages and enums: Rust types with prost, serde, schemars and `HermesMessage` derives,
//! from the protobuf model ([`hermes_core::proto`]), which makes every protobuf decision.
//!
//! | YAML | Rust field | protobuf |
//! | --- | --- | --- |
//! | `bool`, `i32`, `i64`, `u32`, `u64` | same | `bool`, `int32`, `int64`, `uint32`, `uint64` |
//! | `f32`, `f64` | same | `float`, `double` |
//! | `string` | `String` | `string` |
//! | `bytes` | `hermes_runtime::Bytes` (`bytes::Bytes`: decoded as a slice of the received frame, without a copy) | `bytes` |
//! | `timestamp` | `u64`, nanoseconds since the Unix epoch | `uint64` |
//! | an enum | `i32` (prost `enumeration`); JSON writes the variant's name | the enum |
//! | a message | `Option<T>` (protobuf message fields may be absent) | the message |
//! | `list<T>` | `Vec<T>` | `repeated T` |
//! | `map<string, T>` | `BTreeMap<String, T>` (sorted, so JSON output is stable) | `map<string, T>` |
//! | `optional: true` | `Option<T>` | `optional T` |

use std::collections::{BTreeMap, HashMap};

use proc_macro2::TokenStream;
use quote::quote;

use super::{Gen, TypeRef, ident};
use crate::Loaded;
use hermes_core::proto::{Cardinality, Field, Kind as ProtoKind, Scalar};

use crate::model::{EnumDef, FieldDef, MessageDef};

/// One field as generated.
pub(crate) struct FieldPlan {
    /// The Rust field name.
    pub ident: proc_macro2::Ident,
    /// The Rust type, as text (the fingerprint covers it as written).
    pub rust_type: String,
    /// The `#[prost(...)]` contents.
    pub prost: String,
    /// For enum fields: the serde helper (`one`, `optional`, `list`, `map`), the enum's Rust
    /// name and the schemars stand-in type.
    pub enum_json: Option<(&'static str, String, String)>,
}

/// The Rust type of a scalar; its protobuf type is the model's.
fn rust_scalar(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::Bool => "bool",
        Scalar::I32 => "i32",
        Scalar::I64 => "i64",
        Scalar::U32 => "u32",
        Scalar::U64 | Scalar::Timestamp => "u64",
        Scalar::F32 => "f32",
        Scalar::F64 => "f64",
        Scalar::String => STRING,
        // Replaced by the runtime's `Bytes` in `plan_field`, which knows the runtime's path.
        Scalar::Bytes => "Bytes",
    }
}

const STRING: &str = "::std::string::String";

/// The Rust type and prost attribute of a field of the protobuf model; `types` gives every
/// declared type's Rust name, `runtime` the runtime crate's path.
pub(crate) fn plan_field(
    field: &Field,
    types: &BTreeMap<String, TypeRef>,
    runtime: &str,
) -> Option<FieldPlan> {
    let ident = ident::snake(&field.name);
    let tag = format!("tag = \"{}\"", field.number);
    // (rust element type, prost element kind, enum name)
    let (rust, prost, enumeration) = match &field.kind {
        ProtoKind::Scalar(Scalar::Bytes) => (
            format!("{runtime}::{}", rust_scalar(Scalar::Bytes)),
            "bytes = \"bytes\"".to_owned(),
            None,
        ),
        ProtoKind::Scalar(scalar) => (
            rust_scalar(*scalar).to_owned(),
            scalar.proto_name().to_owned(),
            None,
        ),
        ProtoKind::Enum(target) => {
            let rust = types.get(&target.name)?.ident.to_string();
            (
                "i32".to_owned(),
                format!("enumeration = \"{rust}\""),
                Some(rust),
            )
        }
        ProtoKind::Message(target) => (
            types.get(&target.name)?.ident.to_string(),
            "message".to_owned(),
            None,
        ),
    };
    let is_message = matches!(field.kind, ProtoKind::Message(_));
    let plan = match field.cardinality {
        Cardinality::Repeated => FieldPlan {
            ident,
            rust_type: format!("::std::vec::Vec<{rust}>"),
            prost: format!("{prost}, repeated, {tag}"),
            enum_json: enumeration
                .map(|name| ("list", name.clone(), format!("::std::vec::Vec<{name}>"))),
        },
        Cardinality::Map => {
            let value_kind = match (&enumeration, &field.kind) {
                (Some(name), _) => format!("enumeration({name})"),
                (None, ProtoKind::Scalar(Scalar::Bytes)) => "bytes".to_owned(),
                (None, _) => prost,
            };
            // prost keeps a map's `bytes` values as `Vec<u8>`.
            let rust = match &field.kind {
                ProtoKind::Scalar(Scalar::Bytes) => "::std::vec::Vec<u8>".to_owned(),
                _ => rust,
            };
            FieldPlan {
                ident,
                rust_type: format!("::std::collections::BTreeMap<{STRING}, {rust}>"),
                prost: format!("btree_map = \"string, {value_kind}\", {tag}"),
                enum_json: enumeration.map(|name| {
                    let schema = format!("::std::collections::BTreeMap<{STRING}, {name}>");
                    ("map", name, schema)
                }),
            }
        }
        // Protobuf message fields may always be absent.
        Cardinality::Single | Cardinality::Optional if is_message => FieldPlan {
            ident,
            rust_type: format!("::core::option::Option<{rust}>"),
            prost: format!("message, optional, {tag}"),
            enum_json: None,
        },
        Cardinality::Optional => FieldPlan {
            ident,
            rust_type: format!("::core::option::Option<{rust}>"),
            prost: format!("{prost}, optional, {tag}"),
            enum_json: enumeration.map(|name| {
                let schema = format!("::core::option::Option<{name}>");
                ("optional", name, schema)
            }),
        },
        Cardinality::Single => FieldPlan {
            ident,
            rust_type: rust,
            prost: format!("{prost}, {tag}"),
            enum_json: enumeration.map(|name| ("one", name.clone(), name)),
        },
    };
    Some(plan)
}

/// The protobuf model of every field of `message` that has one, with its YAML definition.
fn model_fields<'a>(
    declared: &HashMap<&str, (&str, bool)>,
    message: &'a MessageDef,
) -> Vec<(&'a FieldDef, Field)> {
    message
        .numbered_fields()
        .filter_map(|(number, field)| Some((field, crate::proto::field(declared, number, field)?)))
        .collect()
}

/// The string `#[derive(HermesMessage)]` fingerprints for a generated message: its lineage,
/// since generated types always set `version`.
pub(crate) fn lineage(full_name: &str, message: &MessageDef) -> String {
    hermes_core::lineage(full_name, message.version())
}

fn docs(doc: Option<&str>) -> TokenStream {
    let Some(doc) = doc else {
        return TokenStream::new();
    };
    let lines = doc.trim_end().lines().map(|line| format!(" {line}"));
    quote!(#(#[doc = #lines])*)
}

fn parse_type(text: &str) -> TokenStream {
    // Built by `plan_field` from identifiers and fixed paths, so it always parses.
    text.parse().unwrap_or_default()
}

/// The tokens of one message struct.
pub(crate) fn message(
    name: &str,
    full_name: &str,
    message: &MessageDef,
    generator: &Gen<'_>,
    extra: &[TokenStream],
) -> TokenStream {
    let settings = generator.settings;
    let types = &generator.types;
    let rt = &generator.rt;
    let private = quote!(#rt::__private);
    let prost_path = format!("{}::__private::prost", settings.runtime_path);
    let serde_path = format!("{}::__private::serde", settings.runtime_path);
    let schemars_path = format!("{}::__private::schemars", settings.runtime_path);
    let crate_path = settings.runtime_path.clone();
    let ident = ident::type_name(name);
    let version = proc_macro2::Literal::u32_unsuffixed(message.version());
    let python_layout = message.python_layout.as_ref().map(|layout| {
        let layout = layout.value.name();
        quote!(#[hermes(python_layout = #layout)])
    });
    let fallback = format!("The `{full_name}` message.");
    let doc = docs(Some(message.doc.as_deref().unwrap_or(&fallback)));
    let fields = model_fields(&generator.declared, message)
        .into_iter()
        .filter_map(|(field, model)| {
            Some((
                model.number,
                field,
                plan_field(&model, types, &settings.runtime_path)?,
            ))
        })
        .map(|(number, field, plan)| {
            let FieldPlan {
                ident,
                rust_type,
                prost,
                enum_json,
            } = plan;
            let ty = parse_type(&rust_type);
            let prost: TokenStream = prost.parse().unwrap_or_default();
            let fallback = format!("Field `{}` ({number} on the wire).", field.name);
            let doc = docs(Some(field.doc.as_deref().unwrap_or(&fallback)));
            let unraw = ident.to_string();
            let rename = (unraw.trim_start_matches("r#") != field.name.as_str()).then(|| {
                let yaml = field.name.as_str();
                quote!(#[serde(rename = #yaml)])
            });
            let enum_attrs = enum_json.map(|(helper, enum_name, schema)| {
                let serialize = format!(
                    "{}::__private::enum_json::{helper}::serialize::<{enum_name}, _>",
                    settings.runtime_path
                );
                let deserialize = format!(
                    "{}::__private::enum_json::{helper}::deserialize::<{enum_name}, _>",
                    settings.runtime_path
                );
                quote! {
                    #[serde(serialize_with = #serialize, deserialize_with = #deserialize)]
                    #[schemars(with = #schema)]
                }
            });
            quote! {
                #doc
                #[prost(#prost)]
                #rename
                #enum_attrs
                pub #ident: #ty,
            }
        });
    quote! {
        #doc
        #[derive(
            ::core::clone::Clone,
            ::core::fmt::Debug,
            ::core::cmp::PartialEq,
            #private::prost::Message,
            #private::serde::Serialize,
            #private::serde::Deserialize,
            #private::schemars::JsonSchema,
            #rt::HermesMessage,
        )]
        #[prost(prost_path = #prost_path)]
        #[prost(skip_debug)]
        #[serde(crate = #serde_path, default)]
        #[schemars(crate = #schemars_path)]
        #[hermes(name = #full_name, version = #version, crate = #crate_path)]
        #python_layout
        #(#extra)*
        pub struct #ident {
            #(#fields)*
        }
    }
}

/// The tokens of one enum.
pub(crate) fn enumeration(
    name: &str,
    definition: &EnumDef,
    generator: &Gen<'_>,
    extra: &[TokenStream],
) -> TokenStream {
    let settings = generator.settings;
    let rt = &generator.rt;
    let private = quote!(#rt::__private);
    let prost_path = format!("{}::__private::prost", settings.runtime_path);
    let serde_path = format!("{}::__private::serde", settings.runtime_path);
    let schemars_path = format!("{}::__private::schemars", settings.runtime_path);
    let ident = ident::type_name(name);
    let variants = definition
        .variants
        .iter()
        .enumerate()
        .map(|(index, variant)| {
            let variant_ident = ident::type_name(variant);
            let number = i32::try_from(index).unwrap_or(i32::MAX);
            let value = proc_macro2::Literal::i32_unsuffixed(number);
            let yaml = variant.as_str();
            let doc = format!(" `{yaml}` ({number} on the wire)");
            quote! {
                #[doc = #doc]
                #[serde(rename = #yaml)]
                #variant_ident = #value,
            }
        });
    let doc = format!(
        " The `{name}` enum. Message fields hold it as an `i32` (prost's `enumeration`); JSON \
         writes the variant's name."
    );
    quote! {
        #[doc = #doc]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
            ::core::cmp::PartialOrd,
            ::core::cmp::Ord,
            #private::prost::Enumeration,
            #private::serde::Serialize,
            #private::serde::Deserialize,
            #private::schemars::JsonSchema,
        )]
        #[prost(prost_path = #prost_path)]
        #[serde(crate = #serde_path)]
        #[schemars(crate = #schemars_path)]
        #(#extra)*
        #[repr(i32)]
        pub enum #ident {
            #(#variants)*
        }
    }
}

/// Every declared type: its kind and Rust name.
pub(crate) fn type_table(loaded: &Loaded) -> BTreeMap<String, TypeRef> {
    let mut types = BTreeMap::new();
    for source in &loaded.messages {
        let package = source.schema.package.as_str();
        for (name, _) in source.schema.enums.iter() {
            types.insert(
                name.value.clone(),
                TypeRef {
                    ident: ident::type_name(name),
                    full_name: format!("{package}.{name}"),
                },
            );
        }
        for (name, _) in source.schema.messages.iter() {
            types.insert(
                name.value.clone(),
                TypeRef {
                    ident: ident::type_name(name),
                    full_name: format!("{package}.{name}"),
                },
            );
        }
    }
    types
}
