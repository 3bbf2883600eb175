//! Generates the `trading` topology's types and wiring into `OUT_DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    hermes_build::Config::new()
        .deny_warnings(true)
        .compile("topology.yaml")?;
    Ok(())
}
