//! Generates the `pipeline` scenario's message and relay nodes from `pipeline/topology.yaml`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    hermes_build::Config::new()
        .deny_warnings(true)
        .compile("pipeline/topology.yaml")?;
    Ok(())
}
