//! What an invalid input expands to: every error, and a stub impl of `Message`.
//!
//! Without the stub, each use of the type as a message would add an "is not implemented"
//! error to the ones that matter.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;
use syn::ext::IdentExt;

pub fn expand(input: &DeriveInput, root: &syn::Path, errors: &syn::Error) -> TokenStream {
    let private = quote!(#root::__private);
    let ident = &input.ident;
    let name = ident.unraw().to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // A generic stub must not add errors of its own: assume what `Message` requires.
    let bounds = if input.generics.params.is_empty() {
        quote!(#where_clause)
    } else {
        let predicates = where_clause.map(|clause| &clause.predicates);
        quote!(where Self: ::core::marker::Send + 'static, #predicates)
    };
    let errors = errors.to_compile_error();
    quote! {
        #errors

        const _: () = {
            #[automatically_derived]
            impl #impl_generics #private::Message for #ident #ty_generics #bounds {
                const NAME: &'static str = #name;
                const FINGERPRINT: u64 = 0;

                fn supports(_: #private::Codec) -> bool {
                    false
                }

                fn encode(
                    &self,
                    codec: #private::Codec,
                    _: &mut ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<(), #private::CodecError> {
                    ::core::result::Result::Err(#private::CodecError::Unsupported {
                        codec,
                        message: #name,
                    })
                }

                fn decode(
                    codec: #private::Codec,
                    _: &[u8],
                ) -> ::core::result::Result<Self, #private::CodecError> {
                    ::core::result::Result::Err(#private::CodecError::Unsupported {
                        codec,
                        message: #name,
                    })
                }
            }
        };
    }
}
