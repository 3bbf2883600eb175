//! SVG, laid out in-process by the `layout-rs` crate, so no Graphviz is needed.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::{Picture, Shape};

/// One font size throughout: layout-rs writes one CSS class per size from a hash map, so a
/// single size keeps the output byte-for-byte reproducible.
const FONT_SIZE: usize = 14;

fn color(name: &str) -> Color {
    Color::from_name(name).unwrap_or_else(|| Color::fast("black"))
}

/// The picture as an SVG document.
///
/// # Errors
///
/// A message if the layout engine fails (it panics on some inputs; that is caught).
pub fn render(picture: &Picture) -> Result<String, String> {
    if picture.vertices.is_empty() {
        return Ok(format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"240\" height=\"40\">\
             <text x=\"10\" y=\"25\">topology `{}` is empty</text></svg>\n",
            escape(&picture.name)
        ));
    }
    let picture = picture.clone();
    // Keep the engine's panic message off the terminal; the error says what happened.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(move || lay_out(&picture));
    std::panic::set_hook(hook);
    outcome.map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the layout engine failed".to_string())
    })
}

fn lay_out(picture: &Picture) -> String {
    let orientation = Orientation::LeftToRight;
    let mut graph = VisualGraph::new(orientation);
    let handles: Vec<_> = picture
        .vertices
        .iter()
        .map(|vertex| {
            let (shape, fill) = match vertex.shape {
                Shape::Node => (ShapeKind::new_box(&vertex.label), "#ffffff"),
                Shape::Proxy => (ShapeKind::new_double_circle(&vertex.label), "#e8f0fe"),
                Shape::Endpoint => (ShapeKind::new_box(&vertex.label), "#f1f3f4"),
            };
            let (line, width) = match vertex.warning {
                Some(_) => ("#d93025", 3),
                None if vertex.shape == Shape::Proxy => ("#3367d6", 2),
                None => ("#202124", 2),
            };
            let rounded = if vertex.shape == Shape::Node { 8 } else { 0 };
            let look = StyleAttr::new(color(line), width, Some(color(fill)), rounded, FONT_SIZE);
            let proxy = vertex.shape == Shape::Proxy;
            let mut size = get_shape_size(orientation.flip(), &shape, FONT_SIZE, proxy);
            if !proxy {
                // Room around the text, which the engine sizes boxes to exactly.
                size = Point::new(size.x + 24.0, size.y + 14.0);
            }
            graph.add_node(Element::create(shape, look, orientation, size))
        })
        .collect();
    for edge in &picture.edges {
        let (line_style, line) = match edge.warning {
            Some(_) => (LineStyleKind::Dashed, "#d93025"),
            None => (LineStyleKind::Normal, "#5f6368"),
        };
        let look = StyleAttr::new(color(line), 2, None, 0, FONT_SIZE);
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            line_style,
            &edge.label,
            &look,
            &None,
            &None,
        );
        graph.add_edge(arrow, handles[edge.from], handles[edge.to]);
    }
    let mut writer = SVGWriter::new();
    graph.do_it(false, false, false, &mut writer);
    writer.finalize()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
