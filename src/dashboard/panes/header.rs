//! The header: what runs (or what is watched), and whether it moves.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{duration, short};
use crate::dashboard::keys::{Speed, UiState};
use crate::dashboard::state::{DashboardState, MonitorHeader, PollState, SimHeader, Source};
use crate::dashboard::theme::Theme;

pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    state: &DashboardState,
    ui: &UiState,
    theme: &Theme,
) {
    let (left, right) = match &state.source {
        Source::Simulation(h) => sim_text(h, state.is_finished(), ui),
        Source::Monitor(h) => monitor_text(h),
    };
    // The state (paused, finished, poll failed) matters most: the left part
    // gives way to it on a narrow screen.
    let room = usize::from(area.width).saturating_sub(right.chars().count());
    let left: String = if left.chars().count() > room {
        let mut cut: String = left.chars().take(room.saturating_sub(2)).collect();
        cut.push_str("… ");
        cut
    } else {
        left
    };
    let pad = room.saturating_sub(left.chars().count());
    let line = Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, theme.header.add_modifier(Modifier::BOLD)),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme.header), area);
}

fn sim_text(h: &SimHeader, finished: bool, ui: &UiState) -> (String, String) {
    // What changes comes first: a narrow screen cuts the end of the line.
    let left = format!(
        " lbsim {} | t {} of {} | {} | {} | seed {} ",
        h.label,
        duration(h.now_s),
        duration(h.horizon_s),
        speed(ui.speed),
        h.scheduler,
        h.seed,
    );
    let state = if finished {
        "FINISHED"
    } else if ui.paused {
        "|| PAUSED"
    } else {
        "> running"
    };
    (left, format!("{state} "))
}

fn monitor_text(h: &MonitorHeader) -> (String, String) {
    let scheduler = if h.scheduler.is_empty() {
        "-"
    } else {
        h.scheduler.as_str()
    };
    let left = format!(
        " lbsim monitor | up {} | {} | {} ",
        duration(h.uptime_s),
        scheduler,
        h.url
    );
    let right = match &h.last_poll {
        PollState::Waiting => "connecting… ".to_owned(),
        PollState::Ok => format!("poll ok ({}) ", h.polls_ok),
        PollState::Failed { in_a_row, .. } => format!("POLL FAILED x{in_a_row} "),
    };
    (left, right)
}

/// `2x`, `0.25x`, `max`.
pub(crate) fn speed(speed: Speed) -> String {
    match speed {
        Speed::Times(x) => {
            let s = short(x);
            let s = if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.')
            } else {
                &s
            };
            format!("{s}x")
        }
        Speed::Max => "max".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_read_without_trailing_zeros() {
        assert_eq!(speed(Speed::Times(2.0)), "2x");
        assert_eq!(speed(Speed::Times(0.25)), "0.25x");
        assert_eq!(speed(Speed::Times(0.5)), "0.5x");
        assert_eq!(speed(Speed::Times(100.0)), "100x");
        assert_eq!(speed(Speed::Max), "max");
    }
}
