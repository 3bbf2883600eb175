//! Loads a topology and prints its findings: `cargo run -p hermes-build --example
//! check_topology -- path/to/topology.yaml`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: check_topology TOPOLOGY");
        std::process::exit(2);
    };
    match hermes_build::load(&path) {
        Ok(loaded) => print!("ok\n{}", loaded.report.render_human()),
        Err(hermes_build::LoadError::Invalid(report)) => print!("{}", report.render_human()),
        Err(error) => eprintln!("{error}"),
    }
}
