//! Colours and emphasis, with a monochrome variant for `NO_COLOR`: every
//! distinction the screen makes is also made by a glyph or by emphasis, so
//! the monochrome theme loses nothing but colour.

use std::ffi::OsStr;

use ratatui::style::{Color, Modifier, Style};

use super::workers::Phase;

/// The styles the panes use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub(crate) is_color: bool,
    pub(crate) header: Style,
    pub(crate) title: Style,
    pub(crate) focused: Style,
    pub(crate) label: Style,
    pub(crate) value: Style,
    pub(crate) dim: Style,
    pub(crate) good: Style,
    pub(crate) warn: Style,
    pub(crate) bad: Style,
    pub(crate) bar: Style,
    pub(crate) spike: Style,
}

impl Theme {
    pub fn color() -> Theme {
        Theme {
            is_color: true,
            header: Style::new().fg(Color::Black).bg(Color::Cyan),
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            focused: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            label: Style::new().fg(Color::Gray),
            value: Style::new().fg(Color::White).add_modifier(Modifier::BOLD),
            dim: Style::new().fg(Color::DarkGray),
            good: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            bad: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            bar: Style::new().fg(Color::Green),
            spike: Style::new().fg(Color::Magenta),
        }
    }

    /// No colour at all: emphasis only.
    pub fn mono() -> Theme {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme {
            is_color: false,
            header: Style::new().add_modifier(Modifier::REVERSED),
            title: bold,
            focused: Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            label: plain,
            value: bold,
            dim: Style::new().add_modifier(Modifier::DIM),
            good: plain,
            warn: plain,
            bad: bold,
            bar: plain,
            spike: plain,
        }
    }

    /// Monochrome when `NO_COLOR` is set to anything but the empty string
    /// (no-color.org), colour otherwise.
    pub(crate) fn for_no_color(no_color: Option<&OsStr>) -> Theme {
        match no_color {
            Some(v) if !v.is_empty() => Theme::mono(),
            _ => Theme::color(),
        }
    }

    /// The theme the environment asks for.
    pub(crate) fn from_env() -> Theme {
        Theme::for_no_color(std::env::var_os("NO_COLOR").as_deref())
    }

    /// A load (percent) from calm to hot.
    pub(crate) fn load(&self, pct: f64) -> Style {
        if !self.is_color {
            return Style::new();
        }
        match pct {
            p if p >= 75.0 => Style::new().fg(Color::Red),
            p if p >= 50.0 => Style::new().fg(Color::Yellow),
            p if p >= 25.0 => Style::new().fg(Color::Green),
            _ => Style::new().fg(Color::Cyan),
        }
    }

    /// A worker's cell or row: its load's colour, unless it is not working.
    pub(crate) fn phase(&self, phase: Phase, load_pct: f64) -> Style {
        match phase {
            Phase::Failed => self.bad,
            Phase::Offline => self.dim,
            _ => self.load(load_pct),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_set_and_non_empty_means_monochrome() {
        assert!(Theme::for_no_color(None).is_color);
        assert!(Theme::for_no_color(Some(OsStr::new(""))).is_color);
        assert!(!Theme::for_no_color(Some(OsStr::new("1"))).is_color);
    }

    #[test]
    fn the_monochrome_theme_sets_no_colour_anywhere() {
        let t = Theme::mono();
        let styles = [
            t.header,
            t.title,
            t.focused,
            t.label,
            t.value,
            t.dim,
            t.good,
            t.warn,
            t.bad,
            t.bar,
            t.spike,
            t.load(90.0),
            t.phase(Phase::Failed, 0.0),
            t.phase(Phase::Active, 10.0),
        ];
        for s in styles {
            assert_eq!((s.fg, s.bg), (None, None), "{s:?}");
        }
    }
}
