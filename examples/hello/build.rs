//! Generates the `hello` topology's types and wiring into `OUT_DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    hermes_build::compile("topology.yaml")?;
    Ok(())
}
