//! The busiest workers: a table in the chosen order, filtered like the
//! heat strip.

use ratatui::layout::{Constraint, Flex, Rect};
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::pane_block;
use crate::dashboard::keys::{Pane, UiState};
use crate::dashboard::state::DashboardState;
use crate::dashboard::theme::Theme;
use crate::dashboard::workers::{busiest, WorkerView};

/// The columns after the name: state, load, cpu, mem, gpu, run.
const WIDTHS: [u16; 6] = [8, 5, 4, 4, 4, 4];
/// The name column's width: the longest shown name, within these bounds.
const NAME_WIDTH: (usize, usize) = (6, 24);

pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    state: &DashboardState,
    ui: &UiState,
    theme: &Theme,
) {
    let rows = busiest(&state.workers, ui.sort, &ui.filter);
    let mut title = format!("Busiest workers (by {}", ui.sort.label());
    if !ui.filter.is_empty() {
        title.push_str(&format!(", {} match '{}'", rows.len(), ui.filter));
    }
    title.push(')');
    let block = pane_block(title, ui.focus == Pane::Workers, theme);
    let fit = usize::from(block.inner(area).height.saturating_sub(1));
    let header =
        Row::new(["worker", "state", "load", "cpu", "mem", "gpu", "run"]).style(theme.label);
    let shown = &rows[..fit.min(rows.len())];
    let longest = shown
        .iter()
        .map(|w| w.name.chars().count())
        .max()
        .unwrap_or(0);
    let name = longest.clamp(NAME_WIDTH.0, NAME_WIDTH.1) as u16;
    let widths = std::iter::once(name).chain(WIDTHS).map(Constraint::Length);
    let body = shown.iter().map(|w| row(w, theme));
    let table = Table::new(body, widths)
        .flex(Flex::Start)
        .header(header)
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
}

fn row<'a>(w: &WorkerView, theme: &Theme) -> Row<'a> {
    let pct = |x: f64| Cell::from(format!("{:>3.0}%", x));
    Row::new(vec![
        Cell::from(w.name.clone()),
        Cell::from(w.phase.label()).style(theme.phase(w.phase, w.load_pct)),
        Cell::from(format!("{:>4.0}%", w.load_pct)).style(theme.load(w.load_pct)),
        pct(w.cpu_pct),
        pct(w.memory_pct),
        pct(w.gpu_pct),
        Cell::from(format!("{:>4}", w.running)),
    ])
}
