//! Generates the `pipeline` scenario's message and relay nodes from `pipeline/topology.yaml`.
//!
//! The generated code reaches the runtime through `crate::pipeline::runtime`, a re-export,
//! as a crate that renames or wraps `hermes-runtime` would: this build is what proves
//! `Config::runtime_path` yields code that compiles.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    hermes_build::Config::new()
        .runtime_path("crate::pipeline::runtime")
        .deny_warnings(true)
        .compile("pipeline/topology.yaml")?;
    Ok(())
}
