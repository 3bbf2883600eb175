//! SVG, laid out in-process by the `layout-rs` crate, so no Graphviz is needed.
//!
//! layout-rs places the shapes; [`Canvas`] writes them. layout-rs's own SVG writer paints with
//! CSS Color 4 (`#rrggbbaa`, `transparent`) and SVG 2 (`fill="context-stroke"` arrow heads),
//! which browsers accept but renderers without them (cairosvg, older librsvg) draw black: a black
//! disc over every proxy's name. [`Canvas`] writes SVG 1.1 paint only: `#rrggbb` with
//! `fill-opacity`/`stroke-opacity` when a colour is translucent, `none` when it is invisible,
//! and one arrow-head marker per edge colour.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::{Picture, Shape};

/// One font size throughout.
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
    let mut canvas = Canvas::default();
    graph.do_it(false, false, false, &mut canvas);
    canvas.finish()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A colour as SVG 1.1 paint for `property` (`fill` or `stroke`): `none` when invisible,
/// `#rrggbb` (and an opacity when translucent) otherwise.
fn paint(property: &str, color: Option<Color>) -> String {
    let Some((rgb, alpha)) = color.map(rgb_and_alpha) else {
        return format!("{property}=\"none\"");
    };
    match alpha {
        0 => format!("{property}=\"none\""),
        255 => format!("{property}=\"#{rgb}\""),
        _ => format!(
            "{property}=\"#{rgb}\" {property}-opacity=\"{}\"",
            number(f64::from(alpha) / 255.0)
        ),
    }
}

/// `rrggbb` and the alpha of a colour (layout-rs keeps RGBA and shows it only as `#rrggbbaa`).
fn rgb_and_alpha(color: Color) -> (String, u8) {
    let web = color.to_web_color();
    let hex = web.trim_start_matches('#');
    let alpha = hex
        .get(6..8)
        .and_then(|alpha| u8::from_str_radix(alpha, 16).ok())
        .unwrap_or(255);
    (hex.get(..6).unwrap_or("000000").to_owned(), alpha)
}

/// A coordinate, at most two decimals, no trailing zeros.
fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// A layout-rs rendering backend writing SVG 1.1.
#[derive(Debug, Default)]
struct Canvas {
    /// The shapes, in drawing order.
    body: String,
    /// Clip paths, by handle.
    clips: Vec<String>,
    /// Arrow heads to define: at the end (rather than the start), colour, alpha.
    markers: BTreeSet<(bool, String, u8)>,
    /// Width the picture needs.
    width: f64,
    /// Height the picture needs.
    height: f64,
    /// Arrows drawn so far, for their ids.
    arrows: usize,
}

impl Canvas {
    /// Grows the picture to hold `point + extent`, with a margin.
    fn grow(&mut self, point: Point, extent: Point) {
        self.width = self.width.max(point.x + extent.x + 5.0);
        self.height = self.height.max(point.y + extent.y + 5.0);
    }

    /// The id of the arrow-head marker for `color`, at the `end` or the start of a line.
    fn marker(&mut self, end: bool, color: Color) -> String {
        let (rgb, alpha) = rgb_and_alpha(color);
        let id = marker_id(end, &rgb, alpha);
        self.markers.insert((end, rgb, alpha));
        id
    }

    /// The document.
    fn finish(self) -> String {
        let mut out = String::new();
        let (width, height) = (number(self.width), number(self.height));
        let _ = writeln!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" \
             xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" \
             width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
        );
        out.push_str("<defs>\n");
        for (end, rgb, alpha) in &self.markers {
            let id = marker_id(*end, rgb, *alpha);
            let (reference, points) = if *end {
                (10, "0 0, 10 3.5, 0 7")
            } else {
                (0, "10 0, 10 7, 0 3.5")
            };
            let fill = match alpha {
                0 => "fill=\"none\"".to_owned(),
                255 => format!("fill=\"#{rgb}\""),
                _ => format!(
                    "fill=\"#{rgb}\" fill-opacity=\"{}\"",
                    number(f64::from(*alpha) / 255.0)
                ),
            };
            let _ = writeln!(
                out,
                "<marker id=\"{id}\" markerWidth=\"10\" markerHeight=\"7\" refX=\"{reference}\" \
                 refY=\"3.5\" orient=\"auto\"><polygon points=\"{points}\" {fill}/></marker>"
            );
        }
        for clip in &self.clips {
            out.push_str(clip);
        }
        out.push_str("</defs>\n");
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }

    /// `<g {properties}>` around `element` when there are properties.
    fn push(&mut self, properties: Option<String>, element: &str) {
        match properties {
            Some(properties) => {
                let _ = writeln!(self.body, "<g {properties}>{element}</g>");
            }
            None => {
                let _ = writeln!(self.body, "{element}");
            }
        }
    }
}

/// The id of the arrow head at the `end` or the start of a line of colour `rgb` and `alpha`.
fn marker_id(end: bool, rgb: &str, alpha: u8) -> String {
    let side = if end { "end" } else { "start" };
    format!("arrow-{side}-{rgb}{alpha:02x}")
}

impl RenderBackend for Canvas {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        properties: Option<String>,
        clip: Option<ClipHandle>,
    ) {
        self.grow(xy, size);
        let clip = clip.map_or_else(String::new, |clip| {
            format!(" clip-path=\"url(#clip{clip})\"")
        });
        let element = format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" {} {} stroke-width=\"{}\"{clip}/>",
            number(xy.x),
            number(xy.y),
            number(size.x),
            number(size.y),
            look.rounded,
            paint("fill", look.fill_color),
            paint("stroke", Some(look.line_color)),
            look.line_width,
        );
        self.push(properties, &element);
    }

    fn draw_line(
        &mut self,
        start: Point,
        stop: Point,
        look: &StyleAttr,
        properties: Option<String>,
    ) {
        let element = format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {} stroke-width=\"{}\"/>",
            number(start.x),
            number(start.y),
            number(stop.x),
            number(stop.y),
            paint("stroke", Some(look.line_color)),
            look.line_width,
        );
        self.push(properties, &element);
    }

    fn draw_circle(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        properties: Option<String>,
    ) {
        self.grow(xy, size);
        let element = format!(
            "<ellipse cx=\"{}\" cy=\"{}\" rx=\"{}\" ry=\"{}\" {} {} stroke-width=\"{}\"/>",
            number(xy.x),
            number(xy.y),
            number(size.x / 2.0),
            number(size.y / 2.0),
            paint("fill", look.fill_color),
            paint("stroke", Some(look.line_color)),
            look.line_width,
        );
        self.push(properties, &element);
    }

    fn draw_text(&mut self, xy: Point, text: &str, look: &StyleAttr) {
        // As layout-rs sizes and places text: one `1em` line after another, centred on `xy`.
        self.grow(xy, Point::new(10.0, text.len() as f64 * 10.0));
        let lines = 1 + text.lines().count();
        let top = xy.y - (lines * look.font_size) as f64 / 2.0;
        let mut spans = String::new();
        for line in text.lines() {
            let _ = write!(
                spans,
                "<tspan x=\"{}\" dy=\"1em\">{}</tspan>",
                number(xy.x),
                escape(line)
            );
        }
        let _ = writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-family=\"Times, serif\" font-size=\"{}\" \
             text-anchor=\"middle\" dominant-baseline=\"middle\">{spans}</text>",
            number(xy.x),
            number(top),
            look.font_size,
        );
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        dashed: bool,
        head: (bool, bool),
        look: &StyleAttr,
        properties: Option<String>,
        text: &str,
    ) {
        // `path` is the exit vector of the first point, then the entry vector of each next one:
        // a cubic Bézier, then smooth continuations.
        let [(from, from_control), (to, to_control), rest @ ..] = path else {
            return;
        };
        for (point, control) in path {
            self.grow(*point, Point::zero());
            self.grow(*control, Point::zero());
        }
        let mut d = format!(
            "M {} {} C {} {}, {} {}, {} {}",
            number(from.x),
            number(from.y),
            number(from_control.x),
            number(from_control.y),
            number(to.x),
            number(to.y),
            number(to_control.x),
            number(to_control.y),
        );
        for (point, control) in rest {
            let _ = write!(
                d,
                " S {} {}, {} {}",
                number(point.x),
                number(point.y),
                number(control.x),
                number(control.y)
            );
        }
        let mut extra = String::new();
        if dashed {
            extra.push_str(" stroke-dasharray=\"5,5\"");
        }
        if head.0 {
            let _ = write!(
                extra,
                " marker-start=\"url(#{})\"",
                self.marker(false, look.line_color)
            );
        }
        if head.1 {
            let _ = write!(
                extra,
                " marker-end=\"url(#{})\"",
                self.marker(true, look.line_color)
            );
        }
        let id = format!("arrow{}", self.arrows);
        self.arrows += 1;
        let element = format!(
            "<path id=\"{id}\" d=\"{d}\" fill=\"none\" {} stroke-width=\"{}\"{extra}/>",
            paint("stroke", Some(look.line_color)),
            look.line_width,
        );
        self.push(properties, &element);
        if !text.is_empty() {
            let _ = writeln!(
                self.body,
                "<text font-family=\"Times, serif\" font-size=\"{}\"><textPath xlink:href=\"#{id}\" \
                 startOffset=\"50%\" text-anchor=\"middle\">{}</textPath></text>",
                look.font_size,
                escape(text)
            );
        }
    }

    fn create_clip(&mut self, xy: Point, size: Point, rounded_px: usize) -> ClipHandle {
        let handle = self.clips.len();
        self.clips.push(format!(
            "<clipPath id=\"clip{handle}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
             rx=\"{rounded_px}\"/></clipPath>\n",
            number(xy.x),
            number(xy.y),
            number(size.x),
            number(size.y),
        ));
        handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_colours_paint_none_and_translucent_ones_get_an_opacity() {
        assert_eq!(paint("fill", None), "fill=\"none\"");
        assert_eq!(paint("fill", Some(Color::transparent())), "fill=\"none\"");
        assert_eq!(
            paint("stroke", Some(Color::new(0x3367_d6ff))),
            "stroke=\"#3367d6\""
        );
        assert_eq!(
            paint("fill", Some(Color::new(0xe8f0_fe80))),
            "fill=\"#e8f0fe\" fill-opacity=\"0.5\""
        );
    }

    #[test]
    fn coordinates_keep_two_decimals_at_most() {
        assert_eq!(number(53.591_784_338_896_02), "53.59");
        assert_eq!(number(147.0), "147");
        assert_eq!(number(206.5), "206.5");
        assert_eq!(number(-0.001), "0");
    }
}
