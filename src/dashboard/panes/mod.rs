//! One file per pane. Each draws into the area the layout gave it, from the
//! model and the view state, and never reads a clock.

pub mod busiest;
pub mod chart;
pub mod events;
pub mod figures;
pub mod footer;
pub mod header;
pub mod heat;
pub mod help;
pub mod pending;
pub mod summary;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use super::theme::Theme;

/// A pane's frame: a rule along the top carrying its title; heavy and
/// highlighted when the pane has the focus (visible without colour).
pub(crate) fn pane_block<'a>(
    title: impl Into<Line<'a>>,
    focused: bool,
    theme: &Theme,
) -> Block<'a> {
    let (border, style, title_style) = if focused {
        (BorderType::Thick, theme.focused, theme.focused)
    } else {
        (BorderType::Plain, theme.dim, theme.title)
    };
    Block::new()
        .borders(Borders::TOP)
        .border_type(border)
        .border_style(style)
        .title(title.into().style(title_style))
}

/// A popup over `area`, `width` × `height` at most, centred.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A label and its value, the way the figures and header show them.
pub(crate) fn pair<'a>(label: &'a str, value: String, theme: &Theme) -> [Span<'a>; 2] {
    [
        Span::styled(label, theme.label),
        Span::styled(value, theme.value),
    ]
}

/// A number short enough for an axis label or a figure: 3 significant
/// digits or so.
pub(crate) fn short(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        "-".into()
    } else if a >= 10_000.0 {
        format!("{:.0}k", x / 1000.0)
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Seconds as `1h02m03s`, `4m05s` or `6.0s`.
pub(crate) fn duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "-".into();
    }
    let whole = s as u64;
    let (h, m, sec) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 {
        format!("{h}h{m:02}m{sec:02}s")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{s:.1}s")
    }
}

/// Spans styled alike.
pub fn styled(text: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(text.into(), style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_are_short() {
        assert_eq!(short(0.8123), "0.81");
        assert_eq!(short(12.34), "12.3");
        assert_eq!(short(1234.0), "1234");
        assert_eq!(short(123_456.0), "123k");
        assert_eq!(duration(5.26), "5.3s");
        assert_eq!(duration(245.0), "4m05s");
        assert_eq!(duration(3723.0), "1h02m03s");
    }
}
