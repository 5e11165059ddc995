//! Draws the whole screen from the model and the view state: the panes in
//! the layout's places, then the summary and help overlays on top.

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Frame;
use ratatui::Terminal;

use super::keys::{Pane, UiState};
use super::layout::areas;
use super::panes::chart::{self, ChartSpec};
use super::panes::{busiest, events, figures, footer, header, heat, help, pending, summary};
use super::state::DashboardState;
use super::theme::Theme;

/// Draws one frame.
pub(crate) fn draw(frame: &mut Frame, state: &DashboardState, ui: &UiState, theme: &Theme) {
    let a = areas(frame.area());
    header::render(frame, a.header, state, ui, theme);
    figures::render(frame, a.figures, state, theme);
    let charts_focused = ui.focus == Pane::Charts;
    let columns = a
        .throughput
        .width
        .min(a.latency.width)
        .saturating_sub(chart::AXIS_WIDTH);
    let throughput = ChartSpec {
        title: "Throughput, completed/s",
        series: &state.throughput,
        spikes: &state.spikes,
        marks: &state.marks,
        focused: charts_focused,
        columns,
    };
    chart::render(frame, a.throughput, &throughput, theme);
    let latency = ChartSpec {
        title: "Latency, avg s",
        series: &state.latency,
        ..throughput
    };
    chart::render(frame, a.latency, &latency, theme);
    pending::render(frame, a.pending, state, theme);
    heat::render(frame, a.heat, state, ui, theme);
    busiest::render(frame, a.busiest, state, ui, theme);
    events::render(frame, a.events, state, ui, theme);
    footer::render(frame, a.footer, state, ui, theme);
    if let Some(lines) = &state.summary {
        summary::render(frame, a.body, lines, theme);
    }
    if ui.help {
        help::render(frame, frame.area(), theme);
    }
}

/// Draws one frame off-screen, `width` × `height`, and returns its cells.
pub fn draw_to_buffer(
    state: &DashboardState,
    ui: &UiState,
    theme: &Theme,
    width: u16,
    height: u16,
) -> Buffer {
    let mut terminal =
        Terminal::new(TestBackend::new(width, height)).expect("a test backend never fails");
    terminal
        .draw(|frame| draw(frame, state, ui, theme))
        .expect("a test backend never fails");
    terminal.backend().buffer().clone()
}

/// A buffer's text, one line per row, trailing spaces kept (for snapshots
/// and for tests that look for a word on screen).
pub fn buffer_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::keys::Speed;
    use crate::dashboard::status::parse;
    use crate::scenario::StressOptions;

    fn states() -> Vec<DashboardState> {
        let scenario = StressOptions::default().to_scenario().unwrap();
        let sim = DashboardState::for_simulation(&scenario, "a long label that will not fit");
        let mut monitor = DashboardState::for_monitor("http://[::1]:8080/very/long/path", 1.0);
        let text = include_str!("../../tests/fixtures/status_v1.json");
        monitor.on_status(&parse(text).unwrap());
        monitor.on_poll_failed("timed out");
        vec![sim, monitor]
    }

    /// A terminal can be any size: nothing may panic, however small.
    #[test]
    fn every_screen_size_draws_without_panicking() {
        let mut ui = UiState::new(Speed::Times(1.0));
        ui.help = true;
        ui.filter = "w".into();
        for state in states() {
            for (w, h) in [(1, 1), (2, 2), (10, 3), (30, 8), (79, 23), (200, 60)] {
                let text = buffer_text(&draw_to_buffer(&state, &ui, &Theme::color(), w, h));
                assert_eq!(text.lines().count(), usize::from(h));
            }
        }
    }

    #[test]
    fn the_state_shows_even_when_the_header_is_cut() {
        let ui = UiState::new(Speed::Max);
        let text = buffer_text(&draw_to_buffer(&states()[1], &ui, &Theme::mono(), 40, 24));
        let header = text.lines().next().unwrap();
        assert!(header.ends_with("POLL FAILED x1 "), "{header}");
        assert!(header.contains('…'), "{header}");
    }
}
