//! Generates the `multihost` topology's types and wiring into `OUT_DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Its wildcard binds are reachable beyond loopback without `security:` (a warning that
    // this demonstration accepts).
    hermes_build::Config::new().compile("topology.yaml")?;
    Ok(())
}
