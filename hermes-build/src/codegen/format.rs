//! Printing generated code with prettyplease, the node modules on every core.
//!
//! A 10,000-node topology is tens of megabytes of Rust, and printing is most of the time spent
//! generating it. Node modules are independent, so they are printed in chunks, one thread each,
//! and spliced into the printed topology module where [`NODE_MODULES`] stands. Each chunk is
//! printed at the depth it has in the file (inside two modules), so the result is byte for byte
//! what printing the whole file at once gives.

use proc_macro2::TokenStream;
use quote::quote;

/// The name of the item that stands where the node modules go.
pub(crate) const NODE_MODULES: &str = "__HERMES_NODE_MODULES__";

/// Below this many node modules a chunk is not worth a thread.
const NODES_PER_THREAD: usize = 64;

/// `module` printed, with `nodes` printed in its `nodes` module.
pub(crate) fn pretty(module: TokenStream, nodes: Vec<TokenStream>) -> Result<String, String> {
    let file: syn::File = syn::parse2(module).map_err(|error| error.to_string())?;
    let printed = prettyplease::unparse(&file);
    let marker = format!("        const {NODE_MODULES}: () = ();\n");
    let Some((before, after)) = printed.split_once(&marker) else {
        return Err(format!(
            "no `{NODE_MODULES}` in the printed topology module"
        ));
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(nodes.len().div_ceil(NODES_PER_THREAD))
        .max(1);
    let chunk = nodes.len().div_ceil(threads).max(1);
    // Token streams cannot cross threads; their text can.
    let chunks: Vec<String> = nodes
        .chunks(chunk)
        .map(|chunk| quote!(mod outer { mod nodes { #(#chunk)* } }).to_string())
        .collect();
    let printed_nodes: Vec<Result<String, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .iter()
            .map(|chunk| scope.spawn(move || print_nested(chunk)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("printing node modules panicked".to_owned()))
            })
            .collect()
    });
    let mut out = String::with_capacity(printed.len() + nodes.len() * 4096);
    out.push_str(before);
    for text in printed_nodes {
        out.push_str(&text?);
    }
    out.push_str(after);
    Ok(out)
}

/// `source`, items wrapped in `mod outer { mod nodes { .. } }` so that they are printed at the
/// depth the node modules have in the file, printed without the two wrapping modules' lines.
fn print_nested(source: &str) -> Result<String, String> {
    let file: syn::File = syn::parse_str(source).map_err(|error| error.to_string())?;
    let printed = prettyplease::unparse(&file);
    let inner = printed
        .strip_prefix("mod outer {\n    mod nodes {\n")
        .and_then(|rest| rest.strip_suffix("    }\n}\n"))
        .ok_or("unexpected layout of printed node modules")?;
    Ok(inner.to_owned())
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::pretty;

    #[test]
    fn printing_in_chunks_gives_what_printing_at_once_gives() {
        let nodes: Vec<_> = (0..200)
            .map(|n| {
                let name = quote::format_ident!("node_{n}");
                quote! {
                    /// A node with a long enough body that lines wrap at the depth it is printed.
                    pub mod #name {
                        pub fn handler(first_argument: u64, second_argument: u64) -> ::core::result::Result<u64, ::std::string::String> { ::core::result::Result::Ok(first_argument + second_argument) }
                    }
                }
            })
            .collect();
        let marker = quote::format_ident!("{}", super::NODE_MODULES);
        let head = quote! {
            pub mod topology {
                pub mod nodes {
                    use super::Something;
                    const #marker: () = ();
                }
                pub fn after() {}
            }
        };
        let whole = quote! {
            pub mod topology {
                pub mod nodes {
                    use super::Something;
                    #(#nodes)*
                }
                pub fn after() {}
            }
        };
        let at_once = prettyplease::unparse(&syn::parse2(whole).unwrap());
        assert_eq!(pretty(head, nodes).unwrap(), at_once);
    }
}
