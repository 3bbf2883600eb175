//! Scale: load and check, then generate code for, a topology of 10,000 nodes and 50,000 ports.
//!
//! `cargo bench -p hermes-build --bench scale`; the figure is recorded in the crate README.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

const NODES: usize = 10_000;
const PROXIES: usize = 10;

const MESSAGES: &str = "\
package: scale
enums:
  Side: [bid, ask]
messages:
  Quote:
    fields:
      - { name: price, type: f64 }
      - { name: size, type: f64 }
      - { name: side, type: Side }
  Trade:
    fields:
      - { name: price, type: f64 }
      - { name: levels, type: \"list<Quote>\" }
";

/// Each node publishes two topics and subscribes to three topics of its neighbours, each
/// through the proxy its publisher uses: 5 ports per node.
fn topology() -> String {
    let mut yaml = String::from("name: scale\nmessages: [messages.yaml]\nproxies:\n");
    for proxy in 0..PROXIES {
        let port = 10_000 + proxy * 2;
        let _ = writeln!(
            yaml,
            "  p{proxy}:\n    frontend: tcp://127.0.0.1:{port}\n    backend: tcp://127.0.0.1:{}",
            port + 1
        );
    }
    yaml.push_str("nodes:\n");
    for node in 0..NODES {
        let proxy = node % PROXIES;
        let next = (node + 1) % NODES;
        let after = (node + 2) % NODES;
        let _ = write!(
            yaml,
            "  n{node}:\n    publishes:\n\
             \x20     - {{ topic: t{node}/quotes, message: Quote, via: p{proxy} }}\n\
             \x20     - {{ topic: t{node}/trades, message: Trade, via: p{proxy} }}\n\
             \x20   subscribes:\n\
             \x20     - {{ topic: t{next}/quotes, message: Quote, via: p{} }}\n\
             \x20     - {{ topic: t{next}/trades, message: Trade, via: p{} }}\n\
             \x20     - {{ topic: t{after}/quotes, message: Quote, via: p{} }}\n",
            next % PROXIES,
            next % PROXIES,
            after % PROXIES,
        );
    }
    yaml
}

fn scale(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("messages.yaml"), MESSAGES).expect("write messages");
    let path = dir.path().join("topology.yaml");
    std::fs::write(&path, topology()).expect("write topology");

    // Sanity: the generated topology is valid and as large as promised.
    let loaded = hermes_build::load(&path).expect("generated topology is valid");
    let ports: usize = loaded
        .topology
        .nodes
        .iter()
        .map(|(_, node)| node.publishes.len() + node.subscribes.len())
        .sum();
    assert_eq!(loaded.topology.nodes.len(), NODES);
    assert_eq!(ports, 5 * NODES);

    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("load_and_check_10k_nodes_50k_ports", |b| {
        b.iter(|| black_box(hermes_build::load(&path)).is_ok());
    });
    // Code generation alone (the model is already loaded), formatted as build scripts write it.
    let settings = hermes_build::Settings::default();
    let files = hermes_build::generate(&loaded, &settings).expect("generates");
    let bytes: usize = files.iter().map(|(_, contents)| contents.len()).sum();
    eprintln!("generated {} files, {bytes} bytes", files.len());
    group.bench_function("generate_10k_nodes_50k_ports", |b| {
        b.iter(|| black_box(hermes_build::generate(&loaded, &settings)).is_ok());
    });
    group.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
