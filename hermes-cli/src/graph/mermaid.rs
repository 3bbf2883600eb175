//! Mermaid flowcharts, which GitHub renders in Markdown.

use std::fmt::Write as _;

use super::{Picture, Shape};

/// Text inside a quoted Mermaid label: quotes become entity codes.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "#quot;"))
}

/// The picture as a `flowchart LR`.
pub fn render(picture: &Picture) -> String {
    let mut out = String::from("flowchart LR\n");
    let _ = writeln!(
        out,
        "  %% topology `{}`, drawn by `hermes graph`",
        picture.name
    );
    for warning in picture.warnings() {
        let _ = writeln!(out, "  %% warning: {warning}");
    }
    for vertex in &picture.vertices {
        let label = quote(&vertex.label);
        let shape = match vertex.shape {
            Shape::Node => format!("[{label}]"),
            Shape::Proxy => format!("{{{{{label}}}}}"),
            Shape::Endpoint => format!("([{label}])"),
        };
        let _ = writeln!(out, "  {}{shape}", vertex.id);
    }
    for edge in &picture.edges {
        let from = &picture.vertices[edge.from].id;
        let to = &picture.vertices[edge.to].id;
        let label = quote(&edge.label);
        if edge.warning.is_some() {
            let _ = writeln!(out, "  {from} -. {label} .-> {to}");
        } else {
            let _ = writeln!(out, "  {from} -- {label} --> {to}");
        }
    }
    out.push_str("  classDef proxy fill:#e8f0fe,stroke:#3367d6\n");
    out.push_str("  classDef endpoint fill:#f1f3f4,stroke:#5f6368\n");
    out.push_str("  classDef warning stroke:#d93025,stroke-width:2px,color:#d93025\n");
    for (class, shape) in [("proxy", Shape::Proxy), ("endpoint", Shape::Endpoint)] {
        let ids: Vec<&str> = picture
            .vertices
            .iter()
            .filter(|vertex| vertex.shape == shape)
            .map(|vertex| vertex.id.as_str())
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(out, "  class {} {class}", ids.join(","));
        }
    }
    let warned: Vec<&str> = picture
        .vertices
        .iter()
        .filter(|vertex| vertex.warning.is_some())
        .map(|vertex| vertex.id.as_str())
        .collect();
    if !warned.is_empty() {
        let _ = writeln!(out, "  class {} warning", warned.join(","));
    }
    let warned_edges: Vec<String> = picture
        .edges
        .iter()
        .enumerate()
        .filter(|(_, edge)| edge.warning.is_some())
        .map(|(index, _)| index.to_string())
        .collect();
    if !warned_edges.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:#d93025,color:#d93025",
            warned_edges.join(",")
        );
    }
    out
}
