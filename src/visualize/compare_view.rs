//! The policy comparison of a benchmark grid or a sweep, as charts (a heat
//! map of policies × cells per criterion, and the winner per cell over
//! workers × tests) and as the report's tables (wins per policy, the best
//! policy per cell, every result with its distance from the best).

use super::axis::format_tick;
use super::compare_data::{index, Cell, Comparison, Criterion};
use super::compare_figure::{
    BestMap, HeatColumn, HeatPanel, MapPanel, MapPoint, PolicyHeat, PolicyKey,
};
use super::figure::{Body, Chart};
use super::html::{escape, percent, seconds};
use super::render::format_value;
use crate::balancer::policy::SchedulerName;
use std::fmt::Write;

/// Cells the heat map draws at most: two pixels a column.
const MAX_HEAT_COLUMNS: usize = 330;

/// The comparison's charts: the heat map (while its columns fit), and
/// the winners' map when every cell has a worker and a test count; and a
/// note for a chart left out.
pub(super) fn charts(c: &Comparison) -> (Vec<Chart>, Vec<String>) {
    let (mut out, mut notes) = (Vec::new(), Vec::new());
    if c.cells.len() <= MAX_HEAT_COLUMNS {
        out.push(heat_chart(c));
    } else {
        notes.push(format!(
            "policy comparison heat map: {} cells, more than the {MAX_HEAT_COLUMNS} it can draw (the tables have them all)",
            c.cells.len()
        ));
    }
    out.extend(best_map(c));
    (out, notes)
}

/// Column labels: workers as groups when every cell has a worker count;
/// within them tests, else the other axes' values, else the cell's number.
fn columns(c: &Comparison) -> (Vec<HeatColumn>, String, String) {
    let all = |f: fn(&Cell) -> bool| c.cells.iter().all(f);
    let grouped = all(|x| x.workers.is_some());
    let (by_tests, by_rest) = (all(|x| x.tests.is_some()), all(|x| !x.rest.is_empty()));
    let cols = (c.cells.iter().enumerate())
        .map(|(i, x)| HeatColumn {
            group: x
                .workers
                .filter(|_| grouped)
                .map_or_else(String::new, format_tick),
            label: match x.tests {
                Some(t) if by_tests => format_tick(t),
                _ if by_rest => x.rest.clone(),
                _ => (i + 1).to_string(),
            },
        })
        .collect();
    let group = if grouped { "workers" } else { "" };
    let label = if by_tests {
        "tests".to_string()
    } else if by_rest {
        c.rest_axes.clone()
    } else {
        "cell (numbered as in the tables)".to_string()
    };
    (cols, group.into(), label)
}

fn heat_chart(c: &Comparison) -> Chart {
    let (columns, group_label, column_label) = columns(c);
    let panels = Criterion::ALL
        .iter()
        .map(|&k| HeatPanel {
            title: format!("{}: times the cell's best (1 = best, outlined)", k.label()),
            ratio: (c.policies.iter())
                .map(|&p| c.cells.iter().map(|x| c.ratio(x, p, k)).collect())
                .collect(),
        })
        .collect();
    Chart {
        name: "policy_comparison".into(),
        title: "Which policy wins: each policy against the best in every cell".into(),
        body: Body::PolicyHeat(PolicyHeat {
            rows: c.policies.iter().map(|&p| PolicyKey::of(p)).collect(),
            columns,
            group_label,
            column_label,
            panels,
        }),
    }
}

fn best_map(c: &Comparison) -> Option<Chart> {
    if c.cells.is_empty()
        || c.cells
            .iter()
            .any(|x| x.workers.is_none() || x.tests.is_none())
    {
        return None;
    }
    let mut winners_anywhere: Vec<SchedulerName> = Vec::new();
    let panels = Criterion::ALL
        .iter()
        .map(|&k| MapPanel {
            title: format!("Best {} (grey: a tie)", k.label()),
            points: (c.cells.iter())
                .map(|x| {
                    let w = c.winners(x, k);
                    if let [one] = w[..] {
                        winners_anywhere.push(one);
                    }
                    MapPoint {
                        workers: x.workers.unwrap_or(0.0),
                        tests: x.tests.unwrap_or(0.0),
                        winners: w.iter().map(|p| p.as_str().to_string()).collect(),
                    }
                })
                .collect(),
        })
        .collect();
    let keys = (c.policies.iter())
        .filter(|p| winners_anywhere.contains(p))
        .map(|&p| PolicyKey::of(p))
        .collect();
    Some(Chart {
        name: "best_policy_map".into(),
        title: "The best policy per cell, over workers and tests".into(),
        body: Body::BestMap(BestMap { keys, panels }),
    })
}

/// A figure of `k` with its unit: seconds for times, percent for fairness.
fn figure(k: Criterion, v: f64) -> String {
    match k {
        Criterion::Fairness => percent(v * 100.0),
        _ => seconds(v),
    }
}

/// A policy's name with a swatch of its chart colour.
fn policy_cell(p: SchedulerName) -> String {
    let key = PolicyKey::of(p);
    let c = key.colour;
    format!(
        "<span style=\"color:#{:02x}{:02x}{:02x}\">■</span> {}",
        c.0,
        c.1,
        c.2,
        escape(&key.name)
    )
}

/// "round_robin 12.5 s (next: fifo ×1.20)", or the tie.
fn best_text(c: &Comparison, cell: &Cell, k: Criterion) -> String {
    let winners = c.winners(cell, k);
    let Some(best) = c.best(cell, k) else {
        return "–".into();
    };
    let shown = figure(k, best);
    let ran = cell.entries.iter().flatten().count();
    if winners.len() > 1 {
        let names: Vec<String> = winners.iter().map(|&p| policy_cell(p)).collect();
        return if winners.len() == ran && ran > 2 {
            format!("all {ran} tie at {shown}")
        } else {
            format!("tie at {shown}: {}", names.join(", "))
        };
    }
    let next = (c.policies.iter())
        .filter(|p| !winners.contains(p))
        .filter_map(|&p| Some((p, c.ratio(cell, p, k)?)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let mut s = format!(
        "{} {shown}",
        winners.first().map_or(String::new(), |&p| policy_cell(p))
    );
    if let Some((p, r)) = next {
        let _ = write!(s, " (next: {} ×{})", escape(p.as_str()), format_value(r));
    }
    s
}

/// The report's tables, as HTML: with one policy, only its results.
pub(super) fn tables(c: &Comparison) -> String {
    if c.policies.len() < 2 {
        return format!("<h2>All results</h2>\n{}", all_table(c));
    }
    let mut s = String::from("<h2>Which policy wins</h2>\n");
    s.push_str(
        "<p>Per cell, each policy against the best policy of that cell: ×1 is the best, ×2 twice \
         the best's p95 turnaround or latency (times under 1 ms count as 1 ms), or half its \
         fairness. Repeated runs of a cell are averaged.</p>\n",
    );
    s.push_str(&wins_table(c));
    s.push_str("<h2>Best policy per cell</h2>\n");
    s.push_str(&best_table(c));
    s.push_str("<h2>All results</h2>\n");
    s.push_str(&all_table(c));
    s
}

/// One line per criterion for the console: the policies that are best
/// in most cells first (a tie counts for each policy in it); none with
/// fewer than two policies.
pub(super) fn summary(c: &Comparison) -> Vec<String> {
    if c.policies.len() < 2 {
        return Vec::new();
    }
    let line = |k: Criterion| {
        let mut wins: Vec<(usize, SchedulerName)> = (c.policies.iter())
            .map(|&p| {
                (
                    c.cells
                        .iter()
                        .filter(|x| c.winners(x, k).contains(&p))
                        .count(),
                    p,
                )
            })
            .filter(|w| w.0 > 0)
            .collect();
        wins.sort_by_key(|w| std::cmp::Reverse(w.0));
        let shown: Vec<String> = (wins.iter())
            .map(|(n, p)| format!("{} {n}", p.as_str()))
            .collect();
        format!(
            "{}, cells won of {}: {} (a tie counts for each)",
            k.label(),
            c.cells.len(),
            shown.join(", ")
        )
    };
    Criterion::ALL.iter().map(|&k| line(k)).collect()
}

/// Cells won (alone or tied) per policy and criterion, and the geometric
/// mean of its ratios to the best over the cells it ran.
fn wins_table(c: &Comparison) -> String {
    let mut s = String::from("<table>\n<tr><th>policy</th>");
    for k in Criterion::ALL {
        let _ = write!(
            s,
            "<th>cells best on {0}</th><th>{0}, geometric mean ×best</th>",
            k.label()
        );
    }
    s.push_str("</tr>\n");
    for &p in &c.policies {
        let _ = write!(s, "<tr><td>{}</td>", policy_cell(p));
        for k in Criterion::ALL {
            let won = c
                .cells
                .iter()
                .filter(|x| c.winners(x, k).contains(&p))
                .count();
            let ratios: Vec<f64> = c.cells.iter().filter_map(|x| c.ratio(x, p, k)).collect();
            let mean = (!ratios.is_empty())
                .then(|| (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp());
            let mean = mean.map_or("–".into(), |m| format!("×{}", format_value(m)));
            let _ = write!(s, "<td>{won} of {}</td><td>{mean}</td>", c.cells.len());
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

fn best_table(c: &Comparison) -> String {
    let mut s = String::from("<table>\n<tr><th>#</th><th>cell</th>");
    for k in Criterion::ALL {
        let _ = write!(s, "<th>best {}</th>", k.label());
    }
    s.push_str("</tr>\n");
    for (i, cell) in c.cells.iter().enumerate() {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td>", i + 1, escape(&cell.label));
        for k in Criterion::ALL {
            let _ = write!(s, "<td>{}</td>", best_text(c, cell, k));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

fn all_table(c: &Comparison) -> String {
    let mut s = String::from(
        "<table>\n<tr><th>#</th><th>cell</th><th>policy</th><th>runs</th><th>scheduled</th>",
    );
    for k in Criterion::ALL {
        let _ = write!(s, "<th>{}</th><th>×best</th>", k.label());
    }
    s.push_str("</tr>\n");
    for (i, cell) in c.cells.iter().enumerate() {
        for (&p, e) in c.policies.iter().zip(&cell.entries) {
            let Some(e) = e else { continue };
            let scheduled = e.success_rate.map_or("–".into(), percent);
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{scheduled}</td>",
                i + 1,
                escape(&cell.label),
                policy_cell(p),
                e.runs
            );
            for k in Criterion::ALL {
                let ratio = c
                    .ratio(cell, p, k)
                    .map_or("–".into(), |r| format!("×{}", format_value(r)));
                let _ = write!(
                    s,
                    "<td>{}</td><td>{ratio}</td>",
                    figure(k, e.values[index(k)])
                );
            }
            s.push_str("</tr>\n");
        }
    }
    s.push_str("</table>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visualize::compare_data::Entry;
    use SchedulerName::{BestFit, Fifo, RoundRobin as Rr};

    fn entry(turnaround: f64, latency: f64) -> Option<Entry> {
        Some(Entry {
            values: [turnaround, latency, 1.0],
            success_rate: Some(100.0),
            runs: 1,
        })
    }

    fn comparison() -> Comparison {
        let cell = |label: &str, entries| Cell {
            workers: Some(5.0),
            tests: Some(100.0),
            label: label.into(),
            rest: String::new(),
            entries,
        };
        Comparison {
            policies: vec![Rr, BestFit, Fifo],
            cells: vec![
                cell(
                    "a",
                    vec![entry(2.0, 0.5), entry(3.0, 0.5), entry(5.0, 0.25)],
                ),
                cell("b", vec![entry(2.0, 0.0), None, entry(2.0, 0.0)]),
            ],
            rest_axes: String::new(),
        }
    }

    #[test]
    fn the_best_names_the_winner_and_the_runner_up_or_the_tie() {
        let c = comparison();
        let (a, b) = (&c.cells[0], &c.cells[1]);
        let text = best_text(&c, a, Criterion::TurnaroundP95);
        assert!(
            text.ends_with("</span> round_robin 2 s (next: best_fit ×1.50)"),
            "{text}"
        );
        let text = best_text(&c, a, Criterion::LatencyP95);
        assert!(
            text.ends_with("</span> fifo 250 ms (next: round_robin ×2)"),
            "{text}"
        );
        let text = best_text(&c, b, Criterion::TurnaroundP95);
        assert!(text.starts_with("tie at 2 s: <span"), "{text}");
        assert!(text.contains("round_robin") && text.contains("fifo"));
        let text = best_text(&c, a, Criterion::Fairness);
        assert_eq!(text, "all 3 tie at 100 %");
    }

    #[test]
    fn a_grid_too_wide_for_the_heat_map_gets_a_note_instead() {
        let mut c = comparison();
        let (charts_, notes) = charts(&c);
        let names: Vec<&str> = charts_.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(
            (names, notes.len()),
            (vec!["policy_comparison", "best_policy_map"], 0)
        );
        let one = c.cells[0].clone();
        c.cells = vec![one; MAX_HEAT_COLUMNS + 1];
        let (charts_, notes) = charts(&c);
        let names: Vec<&str> = charts_.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["best_policy_map"]);
        assert!(
            notes[0].starts_with("policy comparison heat map: 331 cells"),
            "{notes:?}"
        );
    }

    #[test]
    fn the_summary_ranks_policies_by_cells_won() {
        let lines = summary(&comparison());
        assert_eq!(
            lines,
            [
                "p95 turnaround, cells won of 2: round_robin 2, fifo 1 (a tie counts for each)",
                "p95 scheduling latency, cells won of 2: fifo 2, round_robin 1 (a tie counts for each)",
                "Jain fairness, cells won of 2: round_robin 2, fifo 2, best_fit 1 (a tie counts for each)",
            ]
        );
    }

    #[test]
    fn the_wins_table_counts_ties_for_every_policy_at_the_best() {
        let html = wins_table(&comparison());
        let rows: Vec<&str> = html.lines().filter(|l| l.starts_with("<tr><td>")).collect();
        assert_eq!(rows.len(), 3);
        // Round robin: best turnaround in both cells, geometric mean ×1.
        assert!(
            rows[0].contains("</span> round_robin</td><td>2 of 2</td><td>×1</td>"),
            "{}",
            rows[0]
        );
        // Best fit ran in one cell only: its mean is over that cell.
        assert!(
            rows[1].contains("<td>0 of 2</td><td>×1.50</td>"),
            "{}",
            rows[1]
        );
    }
}
