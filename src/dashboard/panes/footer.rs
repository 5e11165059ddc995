//! The footer: the keys, or the filter being typed.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::dashboard::keys::UiState;
use crate::dashboard::state::{DashboardState, Source};
use crate::dashboard::theme::Theme;

const SIM_KEYS: &[(&str, &str)] = &[
    ("space", "pause"),
    ("s", "step"),
    ("n", "+1s"),
    ("+/-", "speed"),
    ("tab", "pane"),
    ("/", "filter"),
    ("o", "sort"),
    ("?", "help"),
    ("q", "quit"),
];
const MONITOR_KEYS: &[(&str, &str)] = &[
    ("tab", "pane"),
    ("/", "filter"),
    ("o", "sort"),
    ("?", "help"),
    ("q", "quit"),
];

pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    state: &DashboardState,
    ui: &UiState,
    theme: &Theme,
) {
    let line = if ui.editing_filter {
        Line::from(vec![
            Span::styled(" filter workers: ", theme.title),
            Span::styled(format!("{}_", ui.filter), theme.value),
            Span::styled("   enter keeps, esc clears", theme.dim),
        ])
    } else {
        keys_line(state, ui, theme)
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn keys_line<'a>(state: &DashboardState, ui: &UiState, theme: &Theme) -> Line<'a> {
    let keys = match (&state.source, state.is_finished()) {
        (Source::Simulation(_), false) => SIM_KEYS,
        _ => MONITOR_KEYS,
    };
    let mut spans = Vec::new();
    for (key, what) in keys {
        spans.push(Span::styled(format!(" {key}"), theme.value));
        spans.push(Span::styled(format!(":{what}"), theme.label));
    }
    if !ui.filter.is_empty() {
        spans.push(Span::styled(
            format!(" [filter '{}', esc clears]", ui.filter),
            theme.warn,
        ));
    }
    Line::from(spans)
}
