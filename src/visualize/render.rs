//! Drawing a chart's data table as SVG with plotters (SVG backend only: no
//! system fonts, text stays text). Colours are the Okabe–Ito palette, which
//! stays distinguishable with the common forms of colour blindness; the
//! heat map uses viridis, which is also readable in grey.

use super::figure::{Body, Chart, Heat, Panel};
use crate::error::{Error, Result};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

/// Okabe–Ito: blue, orange, bluish green, vermillion, reddish purple, sky
/// blue, yellow, black.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

const WIDTH: u32 = 960;
const PANEL_HEIGHT: u32 = 300;
const TITLE_HEIGHT: u32 = 40;

fn err(e: impl std::fmt::Display) -> Error {
    Error::Run(format!("drawing a chart failed: {e}"))
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart) -> Result<String> {
    let rows = match &chart.body {
        Body::Panels(p) => p.len().max(1) as u32,
        Body::Heat(h) => (h.rows.len() as u32 / 12).clamp(1, 4),
    };
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, TITLE_HEIGHT + rows * PANEL_HEIGHT))
            .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(&chart.title, ("sans-serif", 18).into_font())
            .map_err(err)?;
        match &chart.body {
            Body::Panels(panels) => {
                let shared = shared_x(panels);
                for (area, p) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
                    draw_panel(area, p, shared)?;
                }
            }
            Body::Heat(h) => draw_heat(&root, h)?,
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        (0.0, 1.0)
    } else if hi - lo < 1e-9 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

fn draw_panel(area: &Area, p: &Panel, shared: Option<(f64, f64)>) -> Result<()> {
    if p.bars.is_empty() {
        draw_lines(area, p, shared.unwrap_or_else(|| x_range(p)))
    } else {
        draw_bars(area, p)
    }
}

fn x_range(p: &Panel) -> (f64, f64) {
    let xs = p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0));
    let xs = xs.chain(p.bands.iter().flat_map(|b| [b.start, b.end]));
    range(xs.chain(p.marks.iter().map(|m| m.at)))
}

/// Line panels over simulated time share one x range, so they line up.
fn shared_x(panels: &[Panel]) -> Option<(f64, f64)> {
    let lines: Vec<&Panel> = panels.iter().filter(|p| p.bars.is_empty()).collect();
    let first = lines.first()?;
    if lines.len() < 2
        || !first.x_label.contains("time")
        || lines.iter().any(|p| p.x_label != first.x_label)
    {
        return None;
    }
    let ranges: Vec<(f64, f64)> = lines.iter().map(|p| x_range(p)).collect();
    Some(range(ranges.iter().flat_map(|r| [r.0, r.1])))
}

fn draw_lines(area: &Area, p: &Panel, (x0, x1): (f64, f64)) -> Result<()> {
    let (_, y1) = range(p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1)));
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * 1.1 };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, 0.0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let band_style = RGBColor(0, 0, 0).mix(0.10).filled();
    for b in &p.bands {
        chart
            .draw_series([Rectangle::new([(b.start, 0.0), (b.end, y1)], band_style)])
            .map_err(err)?;
    }
    for m in &p.marks {
        let colour = if m.label.contains("join") {
            PALETTE[2]
        } else {
            PALETTE[3]
        };
        chart
            .draw_series([PathElement::new(
                vec![(m.at, 0.0), (m.at, y1)],
                colour.mix(0.6),
            )])
            .map_err(err)?;
    }
    for (i, s) in p.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let points = if s.step {
            staircase(&s.points)
        } else {
            s.points.clone()
        };
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(err)?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// A CDF rises at each value and stays flat until the next.
fn staircase(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push((x, points[i - 1].1));
        }
        out.push((x, y));
    }
    out
}

fn draw_bars(area: &Area, p: &Panel) -> Result<()> {
    let n = p.bars.len();
    let (_, y1) = range(p.bars.iter().map(|b| b.value));
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * 1.15 };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..y1)
        .map_err(err)?;
    let labels: Vec<&str> = p.bars.iter().map(|b| b.label.as_str()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(p.y_label.as_str())
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let label_font = ("sans-serif", 13).into_font();
    let value_font = ("sans-serif", 12).into_font();
    for (i, b) in p.bars.iter().enumerate() {
        let x = i as f64;
        let colour = PALETTE[i % PALETTE.len()];
        chart
            .draw_series([Rectangle::new(
                [(x - 0.35, 0.0), (x + 0.35, b.value)],
                colour.filled(),
            )])
            .map_err(err)?;
        let value = Text::new(
            format_value(b.value),
            (x - 0.3, b.value + y1 * 0.06),
            value_font.clone(),
        );
        let label = Text::new(
            labels[i].to_string(),
            (x - 0.35, -y1 * 0.04),
            label_font.clone(),
        );
        chart.draw_series([value]).map_err(err)?;
        chart.plotting_area().draw(&label).map_err(err)?;
    }
    Ok(())
}

/// Three significant figures, no exponent for everyday values.
pub fn format_value(v: f64) -> String {
    // Whole numbers and large values: no decimals.
    if (v.fract() == 0.0 && v.abs() < 1e15) || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn draw_heat(area: &Area, h: &Heat) -> Result<()> {
    let columns = h.cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let x1 = columns as f64 * h.column_seconds;
    let n = h.rows.len();
    let (main, legend) = area.split_horizontally(WIDTH - 90);
    let mut chart = ChartBuilder::on(&main)
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(100)
        .build_cartesian_2d(0.0..x1, -0.5..n as f64 - 0.5)
        .map_err(err)?;
    let rows = &h.rows;
    let label = |y: &f64| {
        let i = y.round() as usize;
        if (y - y.round()).abs() < 1e-9 && y.round() >= 0.0 && i < rows.len() {
            rows[i].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(h.x_label.as_str())
        .y_desc("worker")
        .y_labels(n.min(25))
        .y_label_formatter(&label)
        .draw()
        .map_err(err)?;
    let missing = RGBColor(225, 225, 225).filled();
    for (r, row) in h.cells.iter().enumerate() {
        let cells = row.iter().enumerate().map(|(c, v)| {
            let x = c as f64 * h.column_seconds;
            let style = v.map_or(missing, |v| ViridisRGB::get_color(v).filled());
            let y = r as f64;
            Rectangle::new([(x, y - 0.5), (x + h.column_seconds, y + 0.5)], style)
        });
        chart.draw_series(cells).map_err(err)?;
    }
    draw_colour_scale(&legend)
}

/// A vertical viridis bar from 0 % (bottom) to 100 % busy (top), with
/// its labels drawn as plain text.
fn draw_colour_scale(area: &Area) -> Result<()> {
    let (top, bottom, left) = (40, 80, 10);
    let height = area.dim_in_pixel().1 as i32 - top - bottom;
    let font = ("sans-serif", 12).into_font();
    for i in 0..height {
        let v = 1.0 - f64::from(i) / f64::from(height.max(1));
        let colour = ViridisRGB::get_color(v).filled();
        area.draw(&Rectangle::new(
            [(left, top + i), (left + 18, top + i + 1)],
            colour,
        ))
        .map_err(err)?;
    }
    for (text, y) in [
        ("100 %", top),
        ("50 %", top + height / 2),
        ("0 %", top + height),
    ] {
        area.draw(&Text::new(text, (left + 22, y - 6), font.clone()))
            .map_err(err)?;
    }
    area.draw(&Text::new("busy", (left, top - 22), font.clone()))
        .map_err(err)?;
    let grey = RGBColor(225, 225, 225).filled();
    area.draw(&Rectangle::new(
        [(left, top + height + 20), (left + 18, top + height + 34)],
        grey,
    ))
    .map_err(err)?;
    area.draw(&Text::new("absent", (left + 22, top + height + 20), font))
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase_holds_each_level_until_the_next_value() {
        let s = staircase(&[(0.0, 0.0), (1.0, 0.5), (3.0, 1.0)]);
        assert_eq!(
            s,
            [(0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (3.0, 0.5), (3.0, 1.0)]
        );
    }

    #[test]
    fn values_are_short() {
        assert_eq!(format_value(1234.5), "1234");
        assert_eq!(format_value(12.345), "12.35");
        assert_eq!(format_value(0.01234), "0.012");
        assert_eq!(format_value(0.0), "0");
    }
}
