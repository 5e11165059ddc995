//! Comparing runs: two decision logs or two results files side by side
//! (`lbsim diff`), and one configuration run twice (`lbsim check-determinism`).
//! This is the tool for gating a change on its scheduling effect.

mod decisions;
mod determinism;
mod results;

pub(crate) use decisions::read_decisions;
pub use decisions::Decision;
pub use determinism::{check_determinism, Divergence, Verdict};

use crate::error::{Error, Result};
use std::fmt::Write;
use std::path::Path;

/// One metric of both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    /// The metric's name, as in the results JSON.
    pub name: String,
    /// Its value in A (`None`: A lacks it).
    pub a: Option<f64>,
    /// Its value in B (`None`: B lacks it).
    pub b: Option<f64>,
}

impl MetricRow {
    /// Change from A to B in percent: 0 when equal, infinite when A is 0
    /// (or missing) and B is not.
    pub(crate) fn change_pct(&self) -> f64 {
        match (self.a, self.b) {
            (Some(a), Some(b)) if a == b => 0.0,
            (Some(a), Some(b)) if a != 0.0 => (b - a) / a.abs() * 100.0,
            _ => f64::INFINITY,
        }
    }
}

/// The first decision that differs, as each side has it (`None`: that log
/// had already ended).
#[derive(Clone, Debug, PartialEq)]
pub struct FirstDivergence {
    /// 1-based position in the logs.
    pub index: u64,
    /// A's decision there.
    pub a: Option<Decision>,
    /// B's decision there.
    pub b: Option<Decision>,
}

/// What `diff` found.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// "decision log" or "results".
    pub kind: &'static str,
    /// Decisions (test and its n-th assignment) whose time or worker differ,
    /// or that only one side has; `None` for results files.
    pub differing: Option<(u64, u64)>,
    /// Where the decision logs first differ; `None` if they agree (or for results files).
    pub first: Option<FirstDivergence>,
    /// Every metric of both sides.
    pub metrics: Vec<MetricRow>,
}

impl Comparison {
    /// True when every difference is within `tolerance_pct` percent: the
    /// share of differing decisions, and each metric's change.
    pub fn is_within(&self, tolerance_pct: f64) -> bool {
        let decisions_ok = self.differing.is_none_or(|(d, total)| {
            d == 0 || (total > 0 && d as f64 / total as f64 * 100.0 <= tolerance_pct)
        });
        decisions_ok
            && self
                .metrics
                .iter()
                .all(|m| m.change_pct().abs() <= tolerance_pct)
    }

    /// The report `diff` prints.
    pub fn render(&self, a: &str, b: &str, tolerance_pct: f64) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "diff ({}): A = {a}, B = {b}", self.kind);
        if let Some((d, total)) = self.differing {
            let share = if total == 0 {
                0.0
            } else {
                d as f64 / total as f64 * 100.0
            };
            let _ = writeln!(t, "decisions differing: {d} of {total} ({share:.3} %)");
        }
        match &self.first {
            Some(f) => {
                let _ = writeln!(t, "first divergence: decision #{}", f.index);
                let _ = writeln!(t, "  A: {}", Decision::describe(f.a.as_ref()));
                let _ = writeln!(t, "  B: {}", Decision::describe(f.b.as_ref()));
            }
            None if self.differing.is_some() => {
                let _ = writeln!(t, "first divergence: none");
            }
            None => {}
        }
        let width = self.metrics.iter().map(|m| m.name.len()).max().unwrap_or(6);
        let _ = writeln!(
            t,
            "{:<width$}  {:>16}  {:>16}  {:>10}",
            "metric", "A", "B", "change"
        );
        for m in &self.metrics {
            let _ = writeln!(
                t,
                "{:<width$}  {:>16}  {:>16}  {:>10}",
                m.name,
                number(m.a),
                number(m.b),
                percent(m.change_pct())
            );
        }
        let verdict = if self.is_within(tolerance_pct) {
            "within"
        } else {
            "beyond"
        };
        let _ = writeln!(t, "{verdict} tolerance of {tolerance_pct} %");
        t
    }
}

fn number(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        Some(x) => format!("{x:.6}"),
    }
}

fn percent(p: f64) -> String {
    if p.is_infinite() {
        "new".into()
    } else {
        let p = if p == 0.0 { 0.0 } else { p };
        format!("{p:+.3} %")
    }
}

/// Compares two files of the same kind: decision logs (CSV) or results
/// JSON, told apart by their first character.
pub fn diff_files(a: &Path, b: &Path) -> Result<Comparison> {
    let text_a = read(a)?;
    let text_b = read(b)?;
    let is_json = |t: &str| t.trim_start().starts_with('{');
    match (is_json(&text_a), is_json(&text_b)) {
        (true, true) => results::compare(a, &text_a, b, &text_b),
        (false, false) => {
            let da = read_decisions(&a.display().to_string(), &text_a)?;
            let db = read_decisions(&b.display().to_string(), &text_b)?;
            Ok(decisions::compare(&da, &db))
        }
        (json_a, _) => Err(Error::bad_file(
            b.display().to_string(),
            "whole file",
            format!(
                "is {} but {} is {}",
                if json_a {
                    "not results JSON"
                } else {
                    "results JSON"
                },
                a.display(),
                if json_a {
                    "results JSON"
                } else {
                    "a decision log"
                }
            ),
        )),
    }
}

/// A missing, unreadable or binary input is bad input (exit 2), never
/// the exit 1 that means "differ beyond tolerance".
fn read(path: &Path) -> Result<String> {
    crate::input::read_text(path, crate::input::InputKind::Compared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_is_relative_to_a() {
        let row = |a, b| MetricRow {
            name: "m".into(),
            a,
            b,
        };
        assert_eq!(row(Some(2.0), Some(3.0)).change_pct(), 50.0);
        assert_eq!(row(Some(-2.0), Some(-3.0)).change_pct(), -50.0);
        assert_eq!(row(Some(0.0), Some(0.0)).change_pct(), 0.0);
        assert!(row(Some(0.0), Some(1.0)).change_pct().is_infinite());
        assert!(row(None, Some(1.0)).change_pct().is_infinite());
    }

    #[test]
    fn tolerance_covers_decisions_and_metrics() {
        let c = Comparison {
            kind: "decision log",
            differing: Some((1, 100)),
            first: None,
            metrics: vec![MetricRow {
                name: "m".into(),
                a: Some(100.0),
                b: Some(102.0),
            }],
        };
        assert!(!c.is_within(0.0));
        assert!(!c.is_within(1.5));
        assert!(c.is_within(2.0));
        let text = c.render("a", "b", 2.0);
        assert!(text.contains("decisions differing: 1 of 100 (1.000 %)"));
        assert!(text.contains("+2.000 %"));
        assert!(text.ends_with("within tolerance of 2 %\n"));
    }
}
