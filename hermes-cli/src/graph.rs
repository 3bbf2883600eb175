//! `hermes graph [TOPOLOGY]`: the topology as a picture, in Mermaid, Graphviz DOT or SVG.
//!
//! All three formats draw one [`Picture`]: nodes, proxies and directly bound endpoints as
//! vertices, one edge per port labelled `topic: Message`, warnings in red (publications nobody
//! subscribes to as dashed edges, unused proxies, empty nodes and nodes in a cycle as red
//! outlines).

mod dot;
mod mermaid;
mod svg;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hermes_build::Loaded;
use hermes_build::graph::Channel;
use hermes_build::model::Direction;

use crate::topology;
use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes graph`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The format defaults to the output file's extension (`.svg`, `.dot`/`.gv`, `.mmd`), else \
Mermaid. SVG is laid out in-process (no Graphviz needed).

Examples:
  hermes graph                                   # Mermaid of ./topology.yaml on stdout
  hermes graph trading/topology.yaml -o trading.svg
  hermes graph trading --format dot | dot -Tpng > trading.png")]
pub struct Args {
    /// The topology file, or a directory holding `topology.yaml`.
    #[arg(default_value = topology::DEFAULT_PATH)]
    topology: PathBuf,
    /// The picture's format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Picture formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// An SVG image.
    Svg,
}

impl Format {
    fn from_extension(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "svg" => Some(Format::Svg),
            "dot" | "gv" => Some(Format::Dot),
            "mmd" | "mermaid" => Some(Format::Mermaid),
            _ => None,
        }
    }
}

/// Draws the topology and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let loaded = match topology::load(&args.topology) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let format = args
        .format
        .or_else(|| args.output.as_deref().and_then(Format::from_extension))
        .unwrap_or(Format::Mermaid);
    let picture = Picture::of(&loaded);
    let text = match format {
        Format::Mermaid => mermaid::render(&picture),
        Format::Dot => dot::render(&picture),
        Format::Svg => match svg::render(&picture) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("error: cannot lay out the picture: {error}");
                return FINDINGS;
            }
        },
    };
    match &args.output {
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        }
        Some(path) => {
            if let Err(error) = std::fs::write(path, text) {
                eprintln!("error: cannot write `{}`: {error}", path.display());
                return USAGE_OR_IO;
            }
            eprintln!("wrote {}", path.display());
        }
    }
    SUCCESS
}

/// What a vertex stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A node.
    Node,
    /// A proxy.
    Proxy,
    /// An endpoint that a port binds.
    Endpoint,
}

/// A vertex to draw.
#[derive(Clone, Debug)]
pub struct Vertex {
    /// An identifier safe in every format (`n_strategy`, `p_market`, `e_0`).
    pub id: String,
    /// The text shown.
    pub label: String,
    /// What it is.
    pub shape: Shape,
    /// Why it is highlighted, if it is.
    pub warning: Option<String>,
}

/// An edge to draw: one port.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Index of the source vertex.
    pub from: usize,
    /// Index of the target vertex.
    pub to: usize,
    /// `topic: Message`.
    pub label: String,
    /// Why it is highlighted, if it is.
    pub warning: Option<String>,
}

/// A topology reduced to what is drawn.
#[derive(Clone, Debug)]
pub struct Picture {
    /// The topology's name.
    pub name: String,
    /// Vertices: nodes, then proxies, then endpoints.
    pub vertices: Vec<Vertex>,
    /// Edges, one per port, in file order.
    pub edges: Vec<Edge>,
}

impl Picture {
    /// The picture of a loaded topology.
    pub fn of(loaded: &Loaded) -> Picture {
        let topology = &loaded.topology;
        let graph = &loaded.graph;
        let in_cycle = nodes_in_cycles(loaded);
        let mut vertices: Vec<Vertex> = topology
            .nodes
            .iter()
            .enumerate()
            .map(|(index, (name, node))| {
                let warning = if node.publishes.is_empty() && node.subscribes.is_empty() {
                    Some("node without ports".to_string())
                } else if in_cycle.get(index).copied().unwrap_or(false) {
                    Some("in a cycle".to_string())
                } else {
                    None
                };
                Vertex {
                    id: format!("n_{name}"),
                    label: name.value.clone(),
                    shape: Shape::Node,
                    warning,
                }
            })
            .collect();
        let proxy_base = vertices.len();
        let mut proxy_used = vec![false; topology.proxies.len()];
        for port in &graph.ports {
            if let Some(Channel::Proxy(proxy)) = port.channel
                && let Some(used) = proxy_used.get_mut(proxy)
            {
                *used = true;
            }
        }
        vertices.extend(
            topology
                .proxies
                .iter()
                .zip(&proxy_used)
                .map(|((name, _), &used)| Vertex {
                    id: format!("p_{name}"),
                    label: name.value.clone(),
                    shape: Shape::Proxy,
                    warning: (!used).then(|| "no port uses this proxy".to_string()),
                }),
        );
        let mut endpoints: HashMap<String, usize> = HashMap::new();
        let mut edges = Vec::new();
        for port in &graph.ports {
            let (Some(channel), Some(model)) = (
                &port.channel,
                hermes_build::graph::port_of(topology, port.id),
            ) else {
                continue;
            };
            let channel_vertex = match channel {
                Channel::Proxy(proxy) => proxy_base + proxy,
                Channel::Endpoint(key) => *endpoints.entry(key.clone()).or_insert_with(|| {
                    vertices.push(Vertex {
                        id: format!("e_{}", vertices.len() - proxy_base - proxy_used.len()),
                        label: key.clone(),
                        shape: Shape::Endpoint,
                        warning: None,
                    });
                    vertices.len() - 1
                }),
            };
            let node = port.id.node;
            let label = format!("{}: {}", model.topic.as_str(), model.message.as_str());
            let edge = match port.id.direction {
                Direction::Publish => {
                    let unused = port
                        .topics
                        .iter()
                        .all(|&topic| graph.topics[topic].subscribers.is_empty());
                    Edge {
                        from: node,
                        to: channel_vertex,
                        label,
                        warning: unused.then(|| "nobody subscribes".to_string()),
                    }
                }
                Direction::Subscribe => Edge {
                    from: channel_vertex,
                    to: node,
                    label,
                    warning: None,
                },
            };
            edges.push(edge);
        }
        Picture {
            name: topology.name.value.clone(),
            vertices,
            edges,
        }
    }

    /// Every warning, as `what: why` lines.
    pub fn warnings(&self) -> Vec<String> {
        let vertices = self.vertices.iter().filter_map(|vertex| {
            let warning = vertex.warning.as_ref()?;
            Some(format!("{}: {warning}", vertex.label))
        });
        let edges = self.edges.iter().filter_map(|edge| {
            let warning = edge.warning.as_ref()?;
            Some(format!(
                "{} -> {} ({}): {warning}",
                self.vertices[edge.from].label, self.vertices[edge.to].label, edge.label
            ))
        });
        vertices.chain(edges).collect()
    }
}

/// Which nodes feed themselves through other nodes (`hermes::cycle`).
fn nodes_in_cycles(loaded: &Loaded) -> Vec<bool> {
    let count = loaded.topology.nodes.len();
    let flow = loaded.graph.data_flow();
    let mut in_cycle = vec![false; count];
    for component in petgraph::algo::tarjan_scc(&flow) {
        let cyclic = component.len() > 1
            || component
                .first()
                .is_some_and(|&node| flow.contains_edge(node, node));
        if cyclic {
            for node in component {
                in_cycle[node.index()] = true;
            }
        }
    }
    in_cycle
}
