//! The committed JSON Schemas in `schemas/` match the model they are generated from.

use std::path::Path;

#[test]
fn committed_schemas_match_the_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    for (name, generated) in hermes_build::schema::json_schemas() {
        let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            committed == generated,
            "`schemas/{name}` is out of date with the model in hermes-build/src/model\n\
             run: cargo run -p hermes-cli -- schema --out schemas"
        );
    }
}
