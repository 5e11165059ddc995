//! The event log pane: the latest events that fit, newest at the bottom.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::pane_block;
use crate::dashboard::events::{Event, EventKind};
use crate::dashboard::keys::{Pane, UiState};
use crate::dashboard::state::DashboardState;
use crate::dashboard::theme::Theme;

pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    state: &DashboardState,
    ui: &UiState,
    theme: &Theme,
) {
    let title = format!("Events ({})", state.events.total());
    let block = pane_block(title, ui.focus == Pane::Events, theme);
    let fit = usize::from(block.inner(area).height);
    let skip = state.events.len().saturating_sub(fit);
    let lines: Vec<Line> = state
        .events
        .iter()
        .skip(skip)
        .map(|e| line(e, theme))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn line<'a>(e: &'a Event, theme: &Theme) -> Line<'a> {
    let style = match e.kind {
        EventKind::WorkerFailed | EventKind::TestFailed => theme.bad,
        EventKind::Rejected | EventKind::Drain | EventKind::Offline | EventKind::Poll => theme.warn,
        EventKind::SpikeStart | EventKind::SpikeEnd => theme.spike,
        EventKind::Join | EventKind::RunEnd => theme.good,
        EventKind::Requeue => theme.label,
    };
    Line::from(vec![
        Span::styled(format!("{:>6.1} ", e.t_s), theme.dim),
        Span::styled(format!("{:<7} ", e.kind.label()), style),
        Span::raw(e.text.as_str()),
    ])
}
