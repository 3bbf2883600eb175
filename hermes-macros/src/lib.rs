//! Derive macros for Hermes. Use them through `hermes_runtime`, which re-exports them.

use proc_macro::TokenStream;

/// Derives `hermes_runtime::Message`; documented on the re-export in `hermes_runtime`.
#[proc_macro_derive(HermesMessage, attributes(hermes))]
pub fn derive_hermes_message(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
