//! The worker heat strip: one cell per worker in id order, its glyph the
//! load band (░ ▒ ▓ █) or a letter for a worker that is not simply working
//! (W warming, C cooling, D draining, X failed, · gone), its colour the load.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::pane_block;
use crate::dashboard::keys::{Pane, UiState};
use crate::dashboard::state::DashboardState;
use crate::dashboard::theme::Theme;
use crate::dashboard::workers::{Phase, WorkerView};

const LEGEND: &str = "░<25% ▒<50 ▓<75 █>=75  W warm C cool D drain X fail · gone";

pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    state: &DashboardState,
    ui: &UiState,
    theme: &Theme,
) {
    let filter = ui.filter.to_lowercase();
    let shown: Vec<&WorkerView> = state
        .workers
        .iter()
        .filter(|w| w.matches(&filter))
        .collect();
    let inner = pane_block("", false, theme).inner(area);
    let rows = if inner.height >= 2 {
        inner.height - 1
    } else {
        inner.height
    };
    let cells = usize::from(inner.width) * usize::from(rows);
    let step = if shown.len() * 2 <= cells { 2 } else { 1 };
    let fits = cells / step;
    let mut title = format!("Workers ({}", shown.len());
    if !filter.is_empty() {
        title.push_str(&format!(" of {}, filter '{filter}'", state.workers.len()));
    }
    if shown.len() > fits {
        title.push_str(&format!(", {} not shown", shown.len() - fits + 1));
    }
    title.push(')');
    frame.render_widget(pane_block(title, ui.focus == Pane::Workers, theme), area);
    let buf = frame.buffer_mut();
    for (i, w) in shown.iter().enumerate().take(fits) {
        let (x, y) = (
            inner.x + ((i * step) % usize::from(inner.width)) as u16,
            inner.y + ((i * step) / usize::from(inner.width)) as u16,
        );
        let glyph = if i + 1 == fits && shown.len() > fits {
            "…"
        } else {
            glyph(w)
        };
        buf.set_string(x, y, glyph, theme.phase(w.phase, w.load_pct));
    }
    if inner.height >= 2 {
        legend(buf, inner, theme);
    }
}

fn legend(buf: &mut Buffer, inner: Rect, theme: &Theme) {
    buf.set_stringn(
        inner.x,
        inner.bottom() - 1,
        LEGEND,
        usize::from(inner.width),
        theme.dim,
    );
}

/// A worker's cell, readable without colour.
pub(crate) fn glyph(w: &WorkerView) -> &'static str {
    match w.phase {
        Phase::Active => match w.load_pct {
            p if p >= 75.0 => "█",
            p if p >= 50.0 => "▓",
            p if p >= 25.0 => "▒",
            _ => "░",
        },
        Phase::Warming => "W",
        Phase::Cooling => "C",
        Phase::Draining => "D",
        Phase::Failed => "X",
        Phase::Offline => "·",
    }
}
