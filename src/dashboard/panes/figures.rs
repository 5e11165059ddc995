//! The key figures: tests by state, latency, throughput, workers by phase.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{pair, short};
use crate::dashboard::state::DashboardState;
use crate::dashboard::theme::Theme;
use crate::dashboard::workers::{phase_counts, Phase};

pub(crate) fn render(frame: &mut Frame, area: Rect, state: &DashboardState, theme: &Theme) {
    let lines = vec![
        tests_line(state, theme),
        speed_line(state, theme),
        workers_line(state, theme),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn tests_line<'a>(state: &DashboardState, theme: &Theme) -> Line<'a> {
    let c = &state.counts;
    // Leased but not started yet: shown with the running ones.
    let running = if c.assigned > 0 {
        format!("{}+{}", c.running, c.assigned)
    } else {
        c.running.to_string()
    };
    let flag = |n: u64, style| if n > 0 { style } else { theme.value };
    let parts = [
        ("submitted ", c.submitted.to_string(), theme.value),
        ("pending ", c.pending.to_string(), theme.value),
        ("running ", running, theme.value),
        ("completed ", c.completed.to_string(), theme.good),
        ("failed ", c.failed.to_string(), flag(c.failed, theme.bad)),
        (
            "rejected ",
            c.rejected.to_string(),
            flag(c.rejected, theme.warn),
        ),
    ];
    // A coordinator's own final states, shown once they happen (a
    // simulation has none, and keeps its line).
    let more = [
        ("cancelled ", c.cancelled, theme.value),
        ("timed out ", c.timed_out, theme.bad),
    ];
    let more = more
        .into_iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(label, n, style)| (label, n.to_string(), style));
    let mut spans = vec![Span::raw(" ")];
    for (label, value, style) in parts.into_iter().chain(more) {
        spans.push(Span::styled(label, theme.label));
        spans.push(Span::styled(format!("{value} "), style));
    }
    Line::from(spans)
}

fn speed_line<'a>(state: &DashboardState, theme: &Theme) -> Line<'a> {
    let f = &state.figures;
    let seconds = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.3}s "));
    let mut spans = vec![Span::styled(" last minute: ", theme.title)];
    spans.extend(pair("latency avg ", seconds(f.latency_avg_s), theme));
    spans.extend(pair("p95 ", seconds(f.latency_p95_s), theme));
    spans.extend(pair(
        "| throughput ",
        format!("{}/s", short(f.throughput_minute)),
        theme,
    ));
    spans.extend(pair(
        " (now ",
        format!("{}/s", short(f.throughput_now)),
        theme,
    ));
    spans.push(Span::styled(")", theme.label));
    Line::from(spans)
}

fn workers_line<'a>(state: &DashboardState, theme: &Theme) -> Line<'a> {
    let mut counts = phase_counts(&state.workers);
    for (phase, n) in Phase::ALL.into_iter().zip(counts.iter_mut()) {
        if phase == Phase::Offline {
            *n += state.unlisted_offline;
        }
    }
    let mut spans = vec![Span::styled(" workers ", theme.title)];
    for (phase, n) in Phase::ALL.into_iter().zip(counts) {
        let style = match phase {
            Phase::Failed if n > 0 => theme.bad,
            Phase::Warming | Phase::Cooling | Phase::Draining if n > 0 => theme.warn,
            _ => theme.value,
        };
        spans.push(Span::styled(format!("{n} "), style));
        spans.push(Span::styled(format!("{}  ", phase.label()), theme.label));
    }
    Line::from(spans)
}
