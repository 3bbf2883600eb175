//! Graphviz DOT.

use std::fmt::Write as _;

use super::{Picture, Shape};

const WARNING_COLOR: &str = "#d93025";

/// A DOT string literal.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The picture as a left-to-right digraph.
pub fn render(picture: &Picture) -> String {
    let mut out = format!("digraph {} {{\n", quote(&picture.name));
    let _ = writeln!(out, "  // drawn by `hermes graph`");
    for warning in picture.warnings() {
        let _ = writeln!(out, "  // warning: {warning}");
    }
    out.push_str("  rankdir=LR;\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=12];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for vertex in &picture.vertices {
        let style = match vertex.shape {
            Shape::Node => "shape=box, style=\"rounded\"",
            Shape::Proxy => "shape=hexagon, style=filled, fillcolor=\"#e8f0fe\"",
            Shape::Endpoint => "shape=ellipse, style=filled, fillcolor=\"#f1f3f4\"",
        };
        let warning = match &vertex.warning {
            Some(why) => format!(
                ", color={}, penwidth=2, tooltip={}",
                quote(WARNING_COLOR),
                quote(why)
            ),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} [label={}, {style}{warning}];",
            vertex.id,
            quote(&vertex.label)
        );
    }
    for edge in &picture.edges {
        let warning = match &edge.warning {
            Some(why) => format!(
                ", style=dashed, color={0}, fontcolor={0}, tooltip={1}",
                quote(WARNING_COLOR),
                quote(why)
            ),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} -> {} [label={}{warning}];",
            picture.vertices[edge.from].id,
            picture.vertices[edge.to].id,
            quote(&edge.label)
        );
    }
    out.push_str("}\n");
    out
}
