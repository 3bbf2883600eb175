//! The loader turns any text into a topology or findings, never a panic.

use proptest::prelude::*;

/// Fragments of topology YAML, so that random text often gets deep into the parser and checks.
fn yamlish() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("name: t\n".to_string()),
        Just("nodes:\n".to_string()),
        Just(
            "proxies:\n  m: { frontend: tcp://127.0.0.1:6000, backend: tcp://127.0.0.1:6001 }\n"
                .to_string()
        ),
        Just("  a:\n    publishes:\n".to_string()),
        Just("  b:\n    subscribes:\n".to_string()),
        Just("      - { topic: q, message: M, via: m }\n".to_string()),
        Just("      - { topic: q/x, message: M, bind: inproc://x }\n".to_string()),
        Just("      - { topic: q, message: M, connect: tcp://127.0.0.1:6001 }\n".to_string()),
        Just("messages: [m.yaml]\n".to_string()),
        Just("deny: [cycles]\n".to_string()),
        Just("&a ".to_string()),
        Just("*a ".to_string()),
        Just("<<: *a\n".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\t".to_string()),
        Just("\n  ".to_string()),
        Just("!!binary ".to_string()),
        Just("---\n".to_string()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ];
    prop::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn loader_never_panics(text in yamlish()) {
        let result = hermes_build::load_from_str("proptest/topology.yaml", text);
        if let Err(hermes_build::LoadError::Invalid(report)) = &result {
            prop_assert!(report.has_errors());
            let _ = report.render_human();
            let _ = report.render_json();
        }
    }

    #[test]
    fn loader_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = hermes_build::load_from_str("proptest/topology.yaml", text);
    }
}
