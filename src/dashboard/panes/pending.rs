//! Pending tests by priority: one bar per priority, 1 (first served) to 5.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::pane_block;
use crate::dashboard::state::DashboardState;
use crate::dashboard::theme::Theme;

/// Eighths of a cell, left to right.
const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

pub(crate) fn render(frame: &mut Frame, area: Rect, state: &DashboardState, theme: &Theme) {
    let total: u64 = state.pending_by_priority.iter().sum();
    let block = pane_block(format!("Pending by priority ({total})"), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let max = state.pending_by_priority.iter().copied().max().unwrap_or(0);
    let count_width = max.to_string().len().max(3);
    let bar_width = usize::from(inner.width).saturating_sub(4 + count_width);
    let lines: Vec<Line> = state
        .pending_by_priority
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let bar = bar(n, max, bar_width);
            Line::from(vec![
                Span::styled(format!("P{} ", i + 1), theme.label),
                Span::styled(format!("{bar:<bar_width$}"), theme.bar),
                Span::styled(format!(" {n:>count_width$}"), theme.value),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `n` of `max` as a bar `width` cells long at most (eighth-cell precision;
/// any count above zero shows).
fn bar(n: u64, max: u64, width: usize) -> String {
    if max == 0 || width == 0 {
        return String::new();
    }
    let eighths = ((n as f64 / max as f64) * (width * 8) as f64).round() as usize;
    let eighths = if n > 0 { eighths.max(1) } else { 0 };
    let mut s = "█".repeat(eighths / 8);
    s.push_str(PARTS[eighths % 8]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_count() {
        assert_eq!(bar(10, 10, 4), "████");
        assert_eq!(bar(5, 10, 4), "██");
        assert_eq!(bar(1, 1000, 4), "▏");
        assert_eq!(bar(0, 10, 4), "");
        assert_eq!(bar(3, 0, 4), "");
    }
}
