//! Generates the `evolution` topology's types from this crate's own messages file.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    hermes_build::compile("topology.yaml")?;
    Ok(())
}
