//! Compile-time behaviour of `#[derive(HermesMessage)]`: what compiles, and the one clear error
//! each mistake produces. Regenerate the `.stderr` files with `TRYBUILD=overwrite`, then review
//! every diff.

#[test]
fn derive_ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/derive/pass/*.rs");
    cases.compile_fail("tests/ui/derive/fail/*.rs");
}
