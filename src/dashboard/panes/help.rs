//! The help overlay (`?`): every key, and how to read the glyphs.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::centered;
use crate::dashboard::theme::Theme;

const HELP: &[&str] = &[
    "space    pause / resume the simulation",
    "s        pause, then run one event",
    "n        pause, then run one simulated second",
    "+ / -    faster / slower (past the last step: max)",
    "tab      next pane (shift-tab: previous)",
    "/        filter workers by name or state",
    "         (enter keeps the filter, esc clears it)",
    "o        sort the busiest workers: load, running, name",
    "?        this help (esc or ? closes it)",
    "q        quit (ctrl-c too); the terminal is restored",
    "",
    "charts   ~ spike window  + join  v drain  x failure",
    "workers  ░ ▒ ▓ █ load under 25, 50, 75 %, and above",
    "         W warming  C cooling  D draining  X failed  · gone",
];

pub(crate) fn render(frame: &mut Frame, area: Rect, theme: &Theme) {
    let width = HELP.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16 + 4;
    let popup = centered(area, width, HELP.len() as u16 + 2);
    let lines: Vec<Line> = HELP.iter().map(|&l| Line::from(l)).collect();
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focused)
        .title(Line::from(" Keys ").style(theme.focused));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
