//! Derive macros for Hermes. Use them through `hermes_runtime`, which re-exports them and
//! documents them on the re-export.
//!
//! The crate follows the shape of `serde_derive`: `ast` reads the input and its
//! `#[hermes]` attributes (`attr`), `valid` checks what the attributes alone cannot, and
//! `expand` writes the impl — or, when any error was collected, `fallback` writes every error
//! and a stub impl so the user sees those errors and nothing else.

mod ast;
mod attr;
mod expand;
mod fallback;
mod valid;

use proc_macro::TokenStream;

/// Derives `hermes_runtime::Message`; documented on the re-export in `hermes_runtime`.
#[proc_macro_derive(HermesMessage, attributes(hermes))]
pub fn derive_hermes_message(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
