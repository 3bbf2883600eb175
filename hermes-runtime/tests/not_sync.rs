//! Sockets are `Send` but not `Sync`: sharing one between threads does not compile.

#[test]
fn publisher_and_receiver_are_not_sync() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/not_sync/send_is_fine.rs");
    cases.compile_fail("tests/ui/not_sync/publisher_is_not_sync.rs");
    cases.compile_fail("tests/ui/not_sync/receiver_is_not_sync.rs");
}
