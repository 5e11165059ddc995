//! Drawing a chart's data table as SVG with plotters (SVG backend only: no
//! system fonts, text stays text). Colours and markers come from the data
//! (`style` chooses them); the heat map uses viridis, which is also
//! readable in grey. Legends sit in a band right of the plot, never over
//! the lines, and every tick label is short (`axis::format_tick`).

use super::axis::{format_tick, Axis};
use super::figure::{Body, Chart, Heat, Key, LegendEntry, Panel, Scale};
use super::style::{nth_colour, Colour, Marker};
use crate::error::{Error, Result};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

pub(super) const WIDTH: u32 = 960;
const PANEL_HEIGHT: u32 = 300;
const TITLE_HEIGHT: u32 = 40;
/// Room right of the plot for half of the last x tick label.
const RIGHT_MARGIN: u32 = 28;
/// A legend line's height, and the legend band's width limits (pixels).
const LEGEND_LINE: i32 = 17;
const LEGEND_MIN_WIDTH: i32 = 110;
const LEGEND_MAX_WIDTH: i32 = 330;
/// Series with more points than this show their marker at every tenth
/// of the points only (a 101-point CDF: at 0, 10, … 100 %).
const ALL_MARKERS_UP_TO: usize = 24;

pub(super) fn err(e: impl std::fmt::Display) -> Error {
    Error::Run(format!("drawing a chart failed: {e}"))
}

pub(super) fn rgb(c: Colour) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart) -> Result<String> {
    let height = match &chart.body {
        Body::Panels(p) => p.len().max(1) as u32 * PANEL_HEIGHT,
        Body::Heat(h) => (h.rows.len() as u32 / 12).clamp(1, 4) * PANEL_HEIGHT,
        Body::PolicyHeat(h) => super::heatmap::height(h),
        Body::BestMap(m) => super::best_map::height(m),
    };
    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (WIDTH, TITLE_HEIGHT + height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(&chart.title, ("sans-serif", 18).into_font())
            .map_err(err)?;
        match &chart.body {
            Body::Panels(panels) => {
                let shared = shared_x(panels);
                let key = legend_width(panels);
                for (area, p) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
                    draw_panel(area, p, shared, key)?;
                }
            }
            Body::Heat(h) => draw_heat(&root, h)?,
            Body::PolicyHeat(h) => super::heatmap::draw(&root, h)?,
            Body::BestMap(m) => super::best_map::draw(&root, m)?,
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// A linear coordinate with our own ticks (an [`Axis`]'s): plotters'
/// `with_key_points` would do, but its result takes no label formatter.
struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn of(axis: &Axis) -> Ticked {
        Ticked {
            inner: axis.plot_range().into(),
            ticks: axis.plot_ticks(),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    /// The ticks for the grid lines and labels; no light lines between.
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

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

fn draw_panel(area: &Area, p: &Panel, shared: Option<(f64, f64)>, key: i32) -> Result<()> {
    if p.bars.is_empty() {
        draw_lines(area, p, shared, key)
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

/// The panel's x axis: log when asked for and every value is positive.
pub fn x_axis(p: &Panel, shared: Option<(f64, f64)>) -> Axis {
    let (lo, hi) = shared.unwrap_or_else(|| x_range(p));
    if p.x_scale == Scale::Log && lo > 0.0 {
        Axis::log(lo, hi)
    } else {
        Axis::linear(lo, hi)
    }
}

/// The panel's y axis: its fixed range, else from 0 to above the data.
pub(crate) fn y_axis(p: &Panel) -> Axis {
    match p.y_range {
        Some((lo, hi)) => Axis::linear(lo, hi),
        None => {
            let ys = p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1));
            let (lo, hi) = (ys.filter(|y| y.is_finite()))
                .fold((0.0, 0.0), |(a, b): (f64, f64), y| (a.min(y), b.max(y)));
            Axis::from_zero(lo, hi)
        }
    }
}

/// A line panel; `key_width`: the legend band's width (pixels).
fn draw_lines(area: &Area, p: &Panel, shared: Option<(f64, f64)>, key_width: i32) -> Result<()> {
    let legend = p.legend();
    let (plot, key) = split_for_legend(area, &legend, key_width);
    let (x, y) = (x_axis(p, shared), y_axis(p));
    let mut chart = ChartBuilder::on(&plot)
        .caption(&p.title, ("sans-serif", 15))
        .margin(8)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(Ticked::of(&x), Ticked::of(&y))
        .map_err(err)?;
    let x_label = |v: &f64| format_tick(x.from_plot(*v));
    let y_label = |v: &f64| format_tick(*v);
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .bold_line_style(RGBColor(230, 230, 230))
        .draw()
        .map_err(err)?;
    let (y0, y1) = (y.lo, y.hi);
    for b in &p.bands {
        let style = BLACK.mix(0.10).filled();
        let corners = [(x.to_plot(b.start), y0), (x.to_plot(b.end), y1)];
        chart
            .draw_series([Rectangle::new(corners, style)])
            .map_err(err)?;
    }
    for m in &p.marks {
        let at = x.to_plot(m.at);
        let line = PathElement::new(vec![(at, y0), (at, y1)], rgb(m.colour).mix(0.6));
        chart.draw_series([line]).map_err(err)?;
    }
    let mut markers = Vec::new();
    for s in &p.series {
        let colour = rgb(s.colour);
        let points = if s.step {
            staircase(&s.points)
        } else {
            s.points.clone()
        };
        let plotted = points.iter().map(|&(a, b)| (x.to_plot(a), b));
        let plotted: Vec<(f64, f64)> = plotted.filter(|q| q.0.is_finite()).collect();
        chart
            .draw_series(LineSeries::new(plotted, colour.stroke_width(2)))
            .map_err(err)?;
        if let Some(marker) = s.marker {
            for &(a, b) in marker_points(&s.points) {
                markers.push((chart.backend_coord(&(x.to_plot(a), b)), s.colour, marker));
            }
        }
    }
    let base = area.get_base_pixel();
    for ((px, py), colour, marker) in markers {
        draw_marker(area, (px - base.0, py - base.1), colour, marker)?;
    }
    match key {
        Some(key) => draw_legend(&key, &legend),
        None => Ok(()),
    }
}

/// The points that carry a marker: all of a short series, else every
/// tenth of them (and the last).
fn marker_points(points: &[(f64, f64)]) -> Vec<&(f64, f64)> {
    if points.len() <= ALL_MARKERS_UP_TO {
        return points.iter().collect();
    }
    let every = (points.len() - 1).div_ceil(10);
    let mut picked: Vec<&(f64, f64)> = points.iter().step_by(every).collect();
    if !(points.len() - 1).is_multiple_of(every) {
        picked.extend(points.last());
    }
    picked
}

/// The legend band's width for a chart's line panels: one width for all,
/// wide enough for the longest label, so panels over the same x line up.
fn legend_width(panels: &[Panel]) -> i32 {
    let labels = (panels.iter())
        .filter(|p| p.bars.is_empty())
        .flat_map(|p| p.legend())
        .map(|e| e.label.chars().count() as i32);
    labels.max().map_or(0, |longest| {
        (longest * 13 / 2 + 44).clamp(LEGEND_MIN_WIDTH, LEGEND_MAX_WIDTH)
    })
}

/// The plot's part of a panel and, when it has a legend, the band of
/// `width` pixels right of it.
fn split_for_legend<'a>(
    area: &Area<'a>,
    legend: &[LegendEntry],
    width: i32,
) -> (Area<'a>, Option<Area<'a>>) {
    if width == 0 {
        return (area.clone(), None);
    }
    // Reserved even with no legend of its own, to line up with the others.
    let (plot, key) = area.split_horizontally(area.dim_in_pixel().0 as i32 - width);
    (plot, (!legend.is_empty()).then_some(key))
}

/// One line per entry: the key (line and marker, mark line or shaded
/// box), then the label.
fn draw_legend(area: &Area, legend: &[LegendEntry]) -> Result<()> {
    let font = ("sans-serif", 12).into_font();
    for (i, e) in legend.iter().enumerate() {
        let y = 34 + i as i32 * LEGEND_LINE;
        match e.key {
            Key::Line(c, marker) => {
                let line = PathElement::new(vec![(4, y), (28, y)], rgb(c).stroke_width(2));
                area.draw(&line).map_err(err)?;
                if let Some(m) = marker {
                    draw_marker(area, (16, y), c, m)?;
                }
            }
            Key::Mark(c) => {
                let style = rgb(c).mix(0.6).stroke_width(2);
                let line = PathElement::new(vec![(16, y - 7), (16, y + 7)], style);
                area.draw(&line).map_err(err)?;
            }
            Key::Band(c) => {
                let bx = Rectangle::new([(4, y - 6), (28, y + 6)], rgb(c).mix(0.10).filled());
                area.draw(&bx).map_err(err)?;
            }
        }
        let text = Text::new(e.label.clone(), (34, y - 7), font.clone());
        area.draw(&text).map_err(err)?;
    }
    Ok(())
}

/// A marker of about 9 pixels centred on `(x, y)` (pixels of `area`).
pub(super) fn draw_marker(
    area: &Area,
    (x, y): (i32, i32),
    colour: Colour,
    marker: Marker,
) -> Result<()> {
    use Marker::{
        Circle as Dot, Cross, Diamond, InvertedTriangle, OpenCircle, OpenDiamond,
        OpenInvertedTriangle, OpenSquare, OpenTriangle, Plus, Square, Triangle,
    };
    const R: i32 = 4;
    let c = rgb(colour);
    let at = |pts: &[(i32, i32)]| -> Vec<(i32, i32)> {
        pts.iter().map(|&(dx, dy)| (x + dx, y + dy)).collect()
    };
    let square = [(-R, -R), (R, -R), (R, R), (-R, R)];
    let triangle = [(0, -R - 1), (R + 1, R), (-R - 1, R)];
    let inverted = [(0, R + 1), (R + 1, -R), (-R - 1, -R)];
    let diamond = [(0, -R - 1), (R + 1, 0), (0, R + 1), (-R - 1, 0)];
    let shape: &[(i32, i32)] = match marker {
        Square | OpenSquare => &square,
        Triangle | OpenTriangle => &triangle,
        InvertedTriangle | OpenInvertedTriangle => &inverted,
        Diamond | OpenDiamond => &diamond,
        Dot => return area.draw(&Circle::new((x, y), R, c.filled())).map_err(err),
        OpenCircle => {
            let ring = Circle::new((x, y), R, c.stroke_width(2));
            return area.draw(&ring).map_err(err);
        }
        Plus | Cross => {
            let d = R + 1;
            let arms = if marker == Plus {
                [[(-d, 0), (d, 0)], [(0, -d), (0, d)]]
            } else {
                [[(-R, -R), (R, R)], [(-R, R), (R, -R)]]
            };
            for arm in arms {
                area.draw(&PathElement::new(at(&arm), c.stroke_width(2)))
                    .map_err(err)?;
            }
            return Ok(());
        }
    };
    let open = matches!(
        marker,
        OpenSquare | OpenTriangle | OpenInvertedTriangle | OpenDiamond
    );
    if open {
        let mut outline = at(shape);
        outline.push(outline[0]);
        area.draw(&PathElement::new(outline, c.stroke_width(2)))
            .map_err(err)
    } else {
        area.draw(&Polygon::new(at(shape), c.filled())).map_err(err)
    }
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
    let (_, top) = range(p.bars.iter().map(|b| b.value));
    // Headroom for the value printed above the tallest bar.
    let y = match p.y_range {
        Some((lo, hi)) => Axis::linear(lo, hi.max(top * 1.12)),
        None => Axis::from_zero(0.0, top.max(0.0) * 1.12),
    };
    let y1 = y.hi;
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 15))
        .margin(8)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(30)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), Ticked::of(&y))
        .map_err(err)?;
    let labels: Vec<&str> = p.bars.iter().map(|b| b.label.as_str()).collect();
    let y_label = |v: &f64| format_tick(*v);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(p.y_label.as_str())
        .y_label_formatter(&y_label)
        .bold_line_style(RGBColor(230, 230, 230))
        .draw()
        .map_err(err)?;
    let label_font = ("sans-serif", 13).into_font();
    let value_font = ("sans-serif", 12).into_font();
    for (i, b) in p.bars.iter().enumerate() {
        let x = i as f64;
        let colour = rgb(nth_colour(i));
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
pub(super) fn format_value(v: f64) -> String {
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
    let x_label = |v: &f64| format_tick(*v);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(h.x_label.as_str())
        .x_label_formatter(&x_label)
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
    fn long_series_show_a_marker_at_every_tenth_point() {
        let cdf: Vec<(f64, f64)> = (0..=100).map(|i| (f64::from(i), f64::from(i))).collect();
        let ys: Vec<f64> = marker_points(&cdf).iter().map(|p| p.1).collect();
        assert_eq!(ys, (0..=10).map(|i| f64::from(i * 10)).collect::<Vec<_>>());
        let odd: Vec<(f64, f64)> = (0..30).map(|i| (f64::from(i), 0.0)).collect();
        let xs: Vec<f64> = marker_points(&odd).iter().map(|p| p.0).collect();
        assert_eq!(
            xs,
            [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0, 29.0]
        );
        assert_eq!(marker_points(&cdf[..5]).len(), 5);
    }

    #[test]
    fn values_are_short() {
        assert_eq!(format_value(1234.5), "1234");
        assert_eq!(format_value(12.345), "12.35");
        assert_eq!(format_value(0.01234), "0.012");
        assert_eq!(format_value(0.0), "0");
    }
}
