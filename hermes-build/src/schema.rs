//! JSON Schemas of the two YAML formats, generated from [`crate::model`].
//!
//! The repository commits them as `schemas/topology.schema.json` and
//! `schemas/messages.schema.json` (regenerate with `hermes schema --out schemas`), so that
//! editors can validate and complete topology files through a
//! `# yaml-language-server: $schema=...` comment.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

use crate::model::{MessagesFile, Topology};

/// The file name of the topology schema.
pub const TOPOLOGY_SCHEMA_FILE: &str = "topology.schema.json";
/// The file name of the messages schema.
pub const MESSAGES_SCHEMA_FILE: &str = "messages.schema.json";

fn render<T: JsonSchema>() -> String {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Both schemas as (file name, pretty-printed JSON) pairs, in a fixed order.
///
/// ```
/// let schemas = hermes_build::schema::json_schemas();
/// assert_eq!(schemas[0].0, "topology.schema.json");
/// assert!(schemas[0].1.contains("\"nodes\""));
/// ```
pub fn json_schemas() -> Vec<(&'static str, String)> {
    vec![
        (TOPOLOGY_SCHEMA_FILE, render::<Topology>()),
        (MESSAGES_SCHEMA_FILE, render::<MessagesFile>()),
    ]
}
