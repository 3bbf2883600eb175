//! The plot for `docs/benchmarks.md`: throughput and one-way latency by payload size, raw
//! libzmq and Hermes, as an SVG file.

use std::path::Path;

use plotters::prelude::*;

use crate::options::{Scenario, Transport};
use crate::report::{Report, Row};

/// A series: its legend, its style and the figure it plots from a row.
type Line<S> = (&'static str, S, fn(&Row) -> f64);

/// Rows of one scenario and transport, by payload: the proxy over tcp when measured, otherwise
/// the first scenario with the most payload sizes.
fn series(report: &Report) -> Vec<&Row> {
    let pick = |scenario: Scenario, transport: Transport| -> Vec<&Row> {
        let mut rows: Vec<&Row> = report
            .rows
            .iter()
            .filter(|row| row.scenario == scenario && row.transport == transport)
            .collect();
        rows.sort_by_key(|row| row.payload_bytes);
        rows
    };
    let preferred = pick(Scenario::Proxy, Transport::Tcp);
    if preferred.len() >= 2 {
        return preferred;
    }
    report
        .rows
        .iter()
        .map(|row| pick(row.scenario, row.transport))
        .max_by_key(Vec::len)
        .unwrap_or_default()
}

/// Draws throughput (msg/s) and p50/p99 one-way latency against payload size.
///
/// # Errors
///
/// A message when the report has no rows or the file cannot be written.
pub fn draw(report: &Report, file: &Path) -> Result<(), String> {
    let rows = series(report);
    let first = rows
        .first()
        .ok_or("the report has no message-path rows to plot")?;
    let title = format!("{} over {}", first.scenario, first.transport);
    let fail = |err: &dyn std::fmt::Display| format!("cannot draw {}: {err}", file.display());
    let root = SVGBackend::new(file, (1100, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (left, right) = root.split_horizontally(550);
    let xs = |row: &Row| row.payload_bytes as f64;
    let x_min = rows.iter().map(|r| xs(r)).fold(f64::MAX, f64::min) / 1.5;
    let x_max = rows.iter().map(|r| xs(r)).fold(0.0, f64::max) * 1.5;

    let rate_max = rows
        .iter()
        .map(|r| {
            r.throughput
                .raw
                .msg_per_s
                .max(r.throughput.hermes.msg_per_s)
        })
        .fold(1.0, f64::max);
    let rate_min = rows
        .iter()
        .map(|r| {
            r.throughput
                .raw
                .msg_per_s
                .min(r.throughput.hermes.msg_per_s)
        })
        .fold(f64::MAX, f64::min)
        .max(1.0);
    let mut chart = ChartBuilder::on(&left)
        .caption(format!("Throughput, {title}"), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x_min..x_max).log_scale(),
            (rate_min / 2.0..rate_max * 2.0).log_scale(),
        )
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("payload bytes")
        .y_desc("messages per second")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| fail(&e))?;
    let lines: [Line<RGBColor>; 2] = [
        ("raw libzmq", BLUE, |r| r.throughput.raw.msg_per_s),
        ("hermes", RED, |r| r.throughput.hermes.msg_per_s),
    ];
    for (name, color, value) in lines {
        let points: Vec<(f64, f64)> = rows.iter().map(|r| (xs(r), value(r))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, color.filled())),
            )
            .map_err(|e| fail(&e))?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| fail(&e))?;

    let latency_max = rows
        .iter()
        .map(|r| r.latency.raw.p99_us.max(r.latency.hermes.p99_us))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&right)
        .caption(
            format!("One-way latency at {} msg/s, {title}", first.latency.rate),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..latency_max * 1.15)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("payload bytes")
        .y_desc("µs")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(|e| fail(&e))?;
    let lines: [Line<ShapeStyle>; 4] = [
        ("raw p50", BLUE.stroke_width(2), |r| r.latency.raw.p50_us),
        ("hermes p50", RED.stroke_width(2), |r| {
            r.latency.hermes.p50_us
        }),
        ("raw p99", BLUE.mix(0.5).stroke_width(1), |r| {
            r.latency.raw.p99_us
        }),
        ("hermes p99", RED.mix(0.5).stroke_width(1), |r| {
            r.latency.hermes.p99_us
        }),
    ];
    for (name, style, value) in lines {
        let points: Vec<(f64, f64)> = rows.iter().map(|r| (xs(r), value(r))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), style))
            .map_err(|e| fail(&e))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, style.filled())),
            )
            .map_err(|e| fail(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}
