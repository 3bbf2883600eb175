//! The `impl Message` of a valid input.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::ext::IdentExt;

use crate::ast::{Data, Field, Input};
use crate::attr::Codec;
use crate::fallback;
use crate::valid::{self, Errors};

/// Expands `#[derive(HermesMessage)]`: the impl, or every error and a stub impl.
pub fn derive(node: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let input = Input::from_syn(node, &mut errors);
    if let Some(input) = &input {
        valid::check(input, &mut errors);
    }
    let root = input
        .as_ref()
        .and_then(|input| input.attrs.krate.clone())
        .unwrap_or_else(|| syn::parse_quote!(::hermes_runtime));
    match (errors.finish(), input) {
        (Ok(()), Some(input)) => impl_message(&input, &root),
        (Err(errors), _) => fallback::expand(node, &root, &errors),
        (Ok(()), None) => fallback::expand(
            node,
            &root,
            &syn::Error::new_spanned(node, "internal error: input rejected without an error"),
        ),
    }
}

fn impl_message(input: &Input<'_>, root: &syn::Path) -> TokenStream {
    let private = quote!(#root::__private);
    let ident = input.ident;
    let where_clause = &input.generics.where_clause;

    // Without `name`, the Rust path of the type: `module_path!()` is only known where the derive
    // is used, so both the name and the canonical string are `concat!`s of it.
    let shape = input.canonical_shape();
    let (name, canonical) = match &input.attrs.name {
        Some(name) => {
            let canonical = format!("{}{shape}", name.value());
            (quote!(#name), quote!(#canonical))
        }
        None => {
            let type_name = format!("::{}", ident.unraw());
            let type_canonical = format!("{type_name}{shape}");
            (
                quote!(::core::concat!(::core::module_path!(), #type_name)),
                quote!(::core::concat!(::core::module_path!(), #type_canonical)),
            )
        }
    };

    // With `version`, the lineage (checked to come with an explicit `name`): compatible changes
    // of the fields keep it. Without, a hash of the shape: any change of the fields changes it.
    let fingerprint = match (&input.attrs.version, &input.attrs.name) {
        (Some((version, lit)), Some(name)) => {
            // Unsuffixed, so that `version = 2u8` still passes a `u32`.
            let mut version = proc_macro2::Literal::u32_unsuffixed(*version);
            version.set_span(lit.span());
            quote!(#private::lineage_fingerprint(#name, #version))
        }
        _ => quote!(#private::fingerprint(#canonical)),
    };

    let codec = input
        .attrs
        .codec
        .as_ref()
        .map_or(Codec::Protobuf, |(codec, _)| *codec);
    let codec_variant = codec.variant();
    let python_layout = input.attrs.python_layout.as_ref().map(|layout| {
        quote!(const PYTHON_LAYOUT: #private::PythonLayout = #private::PythonLayout::#layout;)
    });
    let topic = match &input.attrs.topic {
        Some(topic) => quote!(::core::option::Option::Some(#topic)),
        None => quote!(::core::option::Option::None),
    };

    // The default codec must work: checked here, with the span of the attribute that chose it
    // (or of the type, for the implicit `protobuf`), so a missing trait is reported there.
    let span = input
        .attrs
        .codec
        .as_ref()
        .map_or(ident.span(), |(_, lit)| lit.span());
    let mut spanned_ident = ident.clone();
    spanned_ident.set_span(span);
    let codec_assertion = match codec {
        Codec::Protobuf if input.is_unit_enum() => quote!(),
        Codec::Protobuf => quote_spanned! {span=>
            const _: () = <#spanned_ident as #private::ProtobufCodec>::PROVEN;
        },
        Codec::Json | Codec::PythonJson => quote_spanned! {span=>
            const _: () = <#spanned_ident as #private::JsonCodec>::PROVEN;
        },
    };

    let probe = quote!((&#private::Probe::<Self>::new()));
    // A struct with a `Bytes` field decodes protobuf from the received frame without copying
    // it; the type says whether it has one, since prost takes `bytes = "bytes"` fields only
    // as `Bytes`.
    let shares_payload = !input.is_unit_enum() && has_bytes_field(input);
    let shared_decode = if shares_payload {
        quote! {
            const SHARES_PAYLOAD: bool = true;

            fn decode_shared(
                codec: #private::Codec,
                fingerprint: ::core::option::Option<u64>,
                payload: #private::bytes::Bytes,
            ) -> ::core::result::Result<Self, #private::CodecError> {
                match codec {
                    #private::Codec::Protobuf => #probe.decode_protobuf_shared(payload),
                    codec => <Self as #private::Message>::decode_with_fingerprint(
                        codec,
                        fingerprint,
                        &payload,
                    ),
                }
            }
        }
    } else {
        quote!()
    };
    let (has_protobuf, encode_protobuf, decode_protobuf) = if input.is_unit_enum() {
        unit_enum_protobuf(input, &private)
    } else {
        (
            quote!(#probe.has_protobuf()),
            quote!(#probe.encode_protobuf(self, buf)),
            quote!(#probe.decode_protobuf(bytes)),
        )
    };

    quote! {
        const _: () = {
            #[allow(unused_imports, reason = "only one trait of each pair is picked")]
            use #private::{
                NoProstPayload as _, NoSchemarsSchema as _, NoSerdePayload as _,
                ProstPayload as _, SchemarsSchema as _, SerdePayload as _,
            };

            #codec_assertion

            #[automatically_derived]
            impl #private::Message for #ident #where_clause {
                const NAME: &'static str = #name;
                const FINGERPRINT: u64 = #fingerprint;
                const DEFAULT_CODEC: #private::Codec = #private::Codec::#codec_variant;
                const DEFAULT_TOPIC: ::core::option::Option<&'static str> = #topic;
                #python_layout

                fn supports(codec: #private::Codec) -> bool {
                    match codec {
                        #private::Codec::Protobuf => #has_protobuf,
                        codec if codec.is_json() => #probe.has_json(),
                        _ => false,
                    }
                }

                fn encode(
                    &self,
                    codec: #private::Codec,
                    buf: &mut ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<(), #private::CodecError> {
                    match codec {
                        #private::Codec::Protobuf => #encode_protobuf,
                        #private::Codec::PythonJson => #probe.encode_python(
                            self,
                            <Self as #private::Message>::PYTHON_LAYOUT,
                            #private::now_ns(),
                            buf,
                        ),
                        codec if codec.is_json() => #probe.encode_json(self, buf),
                        codec => ::core::result::Result::Err(#private::CodecError::Unsupported {
                            codec,
                            message: <Self as #private::Message>::NAME,
                        }),
                    }
                }

                fn decode(
                    codec: #private::Codec,
                    bytes: &[u8],
                ) -> ::core::result::Result<Self, #private::CodecError> {
                    match codec {
                        #private::Codec::Protobuf => #decode_protobuf,
                        #private::Codec::PythonJson => #probe.decode_python(bytes),
                        codec if codec.is_json() => #probe.decode_json(bytes),
                        codec => ::core::result::Result::Err(#private::CodecError::Unsupported {
                            codec,
                            message: <Self as #private::Message>::NAME,
                        }),
                    }
                }

                fn encode_python(
                    &self,
                    layout: #private::PythonLayout,
                    timestamp_ns: u64,
                    buf: &mut ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<(), #private::CodecError> {
                    #probe.encode_python(self, layout, timestamp_ns, buf)
                }

                fn json_schema() -> ::core::option::Option<#private::schemars::Schema> {
                    #probe.json_schema()
                }

                #shared_decode
            }
        };
    }
}

/// Whether a field's type is `Bytes` (`bytes::Bytes`, `prost::bytes::Bytes`, ...), alone or in
/// an `Option` or a `Vec`.
fn has_bytes_field(input: &Input<'_>) -> bool {
    fn names_bytes(ty: &syn::Type) -> bool {
        let syn::Type::Path(path) = ty else {
            return false;
        };
        let Some(last) = path.path.segments.last() else {
            return false;
        };
        if last.ident == "Bytes" {
            return true;
        }
        match &last.arguments {
            syn::PathArguments::AngleBracketed(args) => args
                .args
                .iter()
                .any(|arg| matches!(arg, syn::GenericArgument::Type(inner) if names_bytes(inner))),
            _ => false,
        }
    }
    let fields: Vec<&Field<'_>> = match &input.data {
        Data::Struct(fields) => fields.iter().collect(),
        Data::Enum(variants) => variants.iter().flat_map(|v| &v.fields).collect(),
    };
    fields.iter().any(|field| names_bytes(field.ty))
}

/// The built-in protobuf encoding of an enum without fields: its value (the discriminant) as
/// field 1, so decoding an unknown value is an error rather than a panic.
fn unit_enum_protobuf(
    input: &Input<'_>,
    private: &TokenStream,
) -> (TokenStream, TokenStream, TokenStream) {
    let Data::Enum(variants) = &input.data else {
        return (quote!(false), quote!(), quote!());
    };
    let idents: Vec<_> = variants.iter().map(|variant| variant.ident).collect();
    let encode = quote! {
        #private::encode_enum_value(
            match self {
                #(Self::#idents => Self::#idents as i64,)*
            },
            buf,
        )
    };
    let decode = quote! {
        match #private::decode_enum_value(bytes)? {
            #(value if value == Self::#idents as i64 => ::core::result::Result::Ok(Self::#idents),)*
            value => ::core::result::Result::Err(
                #private::unknown_enum_value(<Self as #private::Message>::NAME, value),
            ),
        }
    };
    (quote!(true), encode, decode)
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    /// The expansion as text, whitespace removed so assertions do not depend on formatting.
    fn expand(input: syn::DeriveInput) -> String {
        super::derive(&input)
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    #[test]
    fn version_makes_the_fingerprint_the_lineage() {
        let out = expand(parse_quote! {
            #[hermes(name = "trading.Quote", version = 3)]
            struct Quote { price: f64 }
        });
        assert!(
            out.contains(
                "constFINGERPRINT:u64=::hermes_runtime::__private::lineage_fingerprint(\"trading.Quote\",3);"
            ),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn without_version_the_fingerprint_hashes_the_fields() {
        let out = expand(parse_quote! {
            #[hermes(name = "trading.Quote")]
            struct Quote { price: f64 }
        });
        assert!(
            out.contains(
                "constFINGERPRINT:u64=::hermes_runtime::__private::fingerprint(\"trading.Quote{price:f64}\");"
            ),
            "{out}"
        );
    }

    #[test]
    fn suffixed_version_is_passed_unsuffixed() {
        let out = expand(parse_quote! {
            #[hermes(name = "t.A", version = 2u8)]
            struct A { n: u32 }
        });
        assert!(out.contains("lineage_fingerprint(\"t.A\",2)"), "{out}");
    }

    #[test]
    fn version_without_name_is_an_error() {
        let out = expand(parse_quote! {
            #[hermes(version = 2)]
            struct Quote { price: f64 }
        });
        assert!(
            out.contains("#[hermes]key`version`requiresanexplicit`name`"),
            "{out}"
        );
    }

    #[test]
    fn version_zero_is_an_error() {
        let out = expand(parse_quote! {
            #[hermes(name = "t.A", version = 0)]
            struct A { n: u32 }
        });
        assert!(
            out.contains("invalid#[hermes]version`0`,expectedanintegerfrom1to4294967295"),
            "{out}"
        );
        assert!(!out.contains("requiresanexplicit"), "{out}");
    }

    #[test]
    fn version_out_of_range_is_an_error() {
        let out = expand(parse_quote! {
            #[hermes(name = "t.A", version = 4294967296)]
            struct A { n: u32 }
        });
        assert!(out.contains("invalid#[hermes]version`4294967296`"), "{out}");
    }

    #[test]
    fn quoted_version_is_an_error() {
        let out = expand(parse_quote! {
            #[hermes(name = "t.A", version = "2")]
            struct A { n: u32 }
        });
        assert!(
            out.contains("expectedanintegerliteralfor#[hermes]key`version`,found`\\\"2\\\"`"),
            "{out}"
        );
    }

    #[test]
    fn python_layout_sets_the_constant() {
        let out = expand(parse_quote! {
            #[hermes(name = "t.A", python_layout = "object")]
            struct A { n: u32 }
        });
        assert!(
            out.contains(
                "constPYTHON_LAYOUT:::hermes_runtime::__private::PythonLayout=::hermes_runtime::__private::PythonLayout::Object;"
            ),
            "{out}"
        );
    }

    #[test]
    fn unknown_python_layout_is_an_error_with_the_valid_ones() {
        let out = expand(parse_quote! {
            #[hermes(name = "t.A", python_layout = "lists")]
            struct A { n: u32 }
        });
        assert!(
            out.contains(
                "unknownpythonlayout`lists`,expectedoneof`message`,`list`,`object`\\nhelp:didyoumean`list`?"
            ),
            "{out}"
        );
    }

    #[test]
    fn version_errors_are_reported_with_the_others() {
        let out = expand(parse_quote! {
            #[hermes(version = 0, codec = "jsn")]
            struct A { n: u32 }
        });
        assert!(out.contains("invalid#[hermes]version`0`"), "{out}");
        assert!(out.contains("unknowncodec`jsn`"), "{out}");
    }
}
