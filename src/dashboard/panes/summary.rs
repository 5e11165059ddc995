//! The finished run's summary: the lines `lbsim stress` prints, kept on
//! screen until `q`.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::dashboard::theme::Theme;

/// Draws the summary at the top of `area`, as tall as its wrapped lines
/// need (at most `area`), so the panes below stay in view.
pub(crate) fn render(frame: &mut Frame, area: Rect, summary: &[String], theme: &Theme) {
    let text_width = usize::from(area.width.saturating_sub(2)).max(1);
    let rows: usize = summary
        .iter()
        .map(|l| l.chars().count().div_ceil(text_width).max(1))
        .sum();
    let area = Rect {
        height: area.height.min(rows as u16 + 2),
        ..area
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focused)
        .title(Line::from(" Run finished: q quits ").style(theme.focused));
    let lines: Vec<Line> = summary.iter().map(|l| Line::from(l.as_str())).collect();
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
