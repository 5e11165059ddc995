//! A chart over the rolling window: one bar per time bucket (eighth-block
//! precision), the y scale on the left, and a strip under the bars marking
//! spike windows (`~`) and pool changes (`+` join, `v` drain, `x` failure).

use std::collections::VecDeque;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::Frame;

use super::{duration, pane_block, short};

/// The y-axis labels' column (the plot starts after it).
pub(crate) const AXIS_WIDTH: u16 = AXIS;
use crate::dashboard::series::Series;
use crate::dashboard::state::{Mark, MarkKind, SpikeWindow};
use crate::dashboard::theme::Theme;

/// Eighths of a cell, bottom up.
const BARS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
/// The y-axis labels' column.
const AXIS: u16 = 7;

/// What one chart shows.
pub(crate) struct ChartSpec<'a> {
    pub(crate) title: &'a str,
    pub(crate) series: &'a Series,
    pub(crate) spikes: &'a [SpikeWindow],
    pub(crate) marks: &'a VecDeque<Mark>,
    pub(crate) focused: bool,
    /// Buckets to show at most (the same for charts side by side, so their
    /// time axes line up).
    pub(crate) columns: u16,
}

pub(crate) fn render(frame: &mut Frame, area: Rect, spec: &ChartSpec, theme: &Theme) {
    let title = format!(
        "{} ({} buckets)",
        spec.title,
        duration(spec.series.bucket_s())
    );
    let block = pane_block(title, spec.focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 || inner.width <= AXIS + 1 {
        return;
    }
    let plot = Rect {
        x: inner.x + AXIS,
        width: (inner.width - AXIS).min(spec.columns),
        height: inner.height - 1,
        ..inner
    };
    let points = spec.series.points();
    let shown = &points[points.len().saturating_sub(usize::from(plot.width))..];
    let max = shown.iter().filter_map(|p| p.1).fold(0.0, f64::max);
    let top = if max > 0.0 { max } else { 1.0 };
    let buf = frame.buffer_mut();
    let label = |s: String| format!("{s:>w$} ", w = usize::from(AXIS - 1));
    buf.set_string(inner.x, plot.y, label(short(top)), theme.dim);
    buf.set_string(inner.x, plot.bottom() - 1, label("0".into()), theme.dim);
    if let Some(first) = shown.first() {
        let start = label(axis_time(first.0));
        buf.set_string(inner.x, plot.bottom(), start, theme.dim);
    }
    for (i, &(start, value)) in shown.iter().enumerate() {
        let x = plot.x + i as u16;
        let end = start + spec.series.bucket_s();
        let in_spike = spec
            .spikes
            .iter()
            .any(|s| s.start_s < end && start < s.end_s);
        let style = if in_spike { theme.spike } else { theme.bar };
        if let Some(v) = value {
            draw_bar(buf, x, plot, v / top, style);
        }
        let (glyph, style) = strip_glyph(spec.marks, start, end, in_spike, theme);
        buf.set_string(x, plot.bottom(), glyph, style);
    }
}

/// A time short enough for the axis column: `1h02m` past an hour.
fn axis_time(s: f64) -> String {
    if s >= 3600.0 {
        let m = (s / 60.0) as u64;
        format!("{}h{:02}m", m / 60, m % 60)
    } else {
        duration(s)
    }
}

/// A column filled from the bottom to `fraction` of the plot's height; any
/// value above zero shows at least one eighth.
fn draw_bar(buf: &mut Buffer, x: u16, plot: Rect, fraction: f64, style: Style) {
    let rows = u32::from(plot.height);
    let mut eighths = (fraction.clamp(0.0, 1.0) * f64::from(rows * 8)).round() as u32;
    if fraction > 0.0 {
        eighths = eighths.max(1);
    }
    for r in 0..rows {
        let fill = eighths.saturating_sub(r * 8).min(8) as usize;
        if fill > 0 {
            let y = plot.bottom() - 1 - r as u16;
            buf.set_string(x, y, BARS[fill], style);
        }
    }
}

/// The strip's glyph for the bucket `[start, end)`: the gravest pool change
/// in it, else the spike or the plain axis.
fn strip_glyph(
    marks: &VecDeque<Mark>,
    start: f64,
    end: f64,
    in_spike: bool,
    theme: &Theme,
) -> (&'static str, Style) {
    let from = marks.partition_point(|m| m.t_s < start);
    let gravest = marks
        .range(from..)
        .take_while(|m| m.t_s < end)
        .map(|m| m.kind)
        .max();
    match gravest {
        Some(MarkKind::Failure) => ("x", theme.bad),
        Some(MarkKind::Drain) => ("v", theme.warn),
        Some(MarkKind::Join) => ("+", theme.good),
        None if in_spike => ("~", theme.spike),
        None => ("─", theme.dim),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strip_shows_the_gravest_change_in_a_bucket() {
        let theme = Theme::mono();
        let marks: VecDeque<Mark> = [
            (1.0, MarkKind::Join),
            (1.5, MarkKind::Failure),
            (3.0, MarkKind::Drain),
        ]
        .into_iter()
        .map(|(t_s, kind)| Mark { t_s, kind })
        .collect();
        assert_eq!(strip_glyph(&marks, 1.0, 2.0, false, &theme).0, "x");
        assert_eq!(strip_glyph(&marks, 2.0, 3.0, true, &theme).0, "~");
        assert_eq!(strip_glyph(&marks, 3.0, 4.0, true, &theme).0, "v");
        assert_eq!(strip_glyph(&marks, 4.0, 5.0, false, &theme).0, "─");
    }
}
