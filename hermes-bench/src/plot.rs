//! The plots for `docs/benchmarks.md`, as SVG files: throughput and one-way latency by payload
//! size, raw libzmq and Hermes; and one-way latency under load, by share of each path's
//! maximum rate.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::options::{Scenario, Transport};
use crate::report::{LoadPoint, Report, Row};

/// A series: its legend, its style and the figure it plots from a row (or a load point).
type Line<S, T = Row> = (&'static str, S, fn(&T) -> f64);

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

/// Draws throughput (msg/s) and p50/p99 one-way latency against payload size to `file` and,
/// when the report has latency-under-load figures, latency against load to
/// [`load_file`]`(file)`.
///
/// # Errors
///
/// A message when the report has no rows or a file cannot be written.
pub fn draw(report: &Report, file: &Path) -> Result<(), String> {
    draw_by_size(report, file)?;
    if report.rows.iter().any(|row| !row.load.is_empty()) {
        draw_load(report, &load_file(file))?;
    }
    Ok(())
}

/// Where [`draw`] puts the latency-under-load plot: beside `file`, `-load` added to its stem
/// (`benchmarks.svg` → `benchmarks-load.svg`).
pub fn load_file(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "bench".into(), |stem| stem.to_string_lossy());
    let extension = file
        .extension()
        .map_or_else(|| "svg".into(), |ext| ext.to_string_lossy());
    file.with_file_name(format!("{stem}-load.{extension}"))
}

/// One-way latency p50 and p99 against load, raw and Hermes, a panel per row measured under
/// load (three panels a line, in report order).
fn draw_load(report: &Report, file: &Path) -> Result<(), String> {
    let rows: Vec<&Row> = report
        .rows
        .iter()
        .filter(|row| !row.load.is_empty())
        .collect();
    let fail = |err: &dyn std::fmt::Display| format!("cannot draw {}: {err}", file.display());
    let columns = rows.len().clamp(1, 3);
    let lines = rows.len().div_ceil(columns);
    let size = (380 * columns as u32, 40 + 300 * lines as u32);
    let root = SVGBackend::new(file, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let root = root
        .titled(
            "One-way latency under load: raw and Hermes at the same rate, \
             % of the slower side's maximum",
            ("sans-serif", 18),
        )
        .map_err(|e| fail(&e))?;
    let panels = root.split_evenly((lines, columns));
    for (panel, row) in panels.iter().zip(&rows) {
        let highest = row
            .load
            .iter()
            .map(|p| p.raw.p99_us.max(p.hermes.p99_us))
            .fold(1.0, f64::max);
        let lowest = row
            .load
            .iter()
            .map(|p| p.raw.p50_us.min(p.hermes.p50_us))
            .fold(f64::MAX, f64::min)
            .max(0.1);
        // The rate that 100 % stands for, from the highest load measured.
        let full_rate = row
            .load
            .iter()
            .max_by_key(|p| p.percent)
            .map_or(0.0, |p| p.rate as f64 * 100.0 / f64::from(p.percent.max(1)));
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!(
                    "{} {} {} (100 % = {:.0}k msg/s)",
                    row.scenario,
                    row.transport,
                    payload_name(row.payload_bytes),
                    full_rate / 1000.0
                ),
                ("sans-serif", 14),
            )
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..100.0, (lowest / 1.5..highest * 1.5).log_scale())
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("% of maximum rate")
            .y_desc("µs")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(|e| fail(&e))?;
        let series: [Line<ShapeStyle, LoadPoint>; 4] = [
            ("raw p50", BLUE.stroke_width(2), |p| p.raw.p50_us),
            ("hermes p50", RED.stroke_width(2), |p| p.hermes.p50_us),
            ("raw p99", BLUE.mix(0.5).stroke_width(1), |p| p.raw.p99_us),
            ("hermes p99", RED.mix(0.5).stroke_width(1), |p| {
                p.hermes.p99_us
            }),
        ];
        for (name, style, value) in series {
            let points: Vec<(f64, f64)> = row
                .load
                .iter()
                .map(|p| (f64::from(p.percent), value(p).max(0.1)))
                .collect();
            line_with_dots(&mut chart, name, style, points).map_err(|e| fail(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .label_font(("sans-serif", 11))
            .draw()
            .map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

/// Draws `points` as a line in `style` with a dot of `style` at each, labelled `name` in the
/// legend: every series of both plots.
fn line_with_dots<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    name: &str,
    style: ShapeStyle,
    points: Vec<(f64, f64)>,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(points.clone(), style))
        .map_err(|e| e.to_string())?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, style.filled())),
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// `64 B`, `1 KiB`, `64 KiB`.
fn payload_name(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// Throughput (msg/s) and p50/p99 one-way latency against payload size.
fn draw_by_size(report: &Report, file: &Path) -> Result<(), String> {
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
    let lines: [Line<ShapeStyle>; 2] = [
        ("raw libzmq", BLUE.stroke_width(2), |r| {
            r.throughput.raw.msg_per_s
        }),
        ("hermes", RED.stroke_width(2), |r| {
            r.throughput.hermes.msg_per_s
        }),
    ];
    for (name, style, value) in lines {
        let points: Vec<(f64, f64)> = rows.iter().map(|r| (xs(r), value(r))).collect();
        line_with_dots(&mut chart, name, style, points).map_err(|e| fail(&e))?;
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
        line_with_dots(&mut chart, name, style, points).map_err(|e| fail(&e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_load_plot_goes_beside_the_size_plot() {
        assert_eq!(
            load_file(Path::new("docs/images/benchmarks.svg")),
            Path::new("docs/images/benchmarks-load.svg")
        );
        assert_eq!(load_file(Path::new("bench")), Path::new("bench-load.svg"));
    }
}
