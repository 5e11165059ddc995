//! Targets (`turnaround.p95<=30`): a metric, a direction and a bound.
//!
//! A metric is a path into the results JSON of one run (`lbsim scenario
//! --output`): `wait.avg` is looked up under `metrics` first, then from the
//! document's root (`run.end_time`), and must end at a number. Two metrics
//! are derived, since no results field holds them: `makespan` (the last
//! test's end minus the first submission) and `p_wait` (the share of tests
//! that waited at all, which Erlang C predicts for M/M/c). Paths are
//! checked against a real document before anything runs, so a typo is bad
//! input (exit 2) naming `--target` and the closest names.

use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;

/// The metrics computed from the tests themselves, not read from the file.
pub(crate) const DERIVED: [&str; 2] = ["makespan", "p_wait"];

/// Whether a target bounds its metric from above or below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Direction {
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">=")]
    AtLeast,
}

impl Direction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::AtMost => "<=",
            Direction::AtLeast => ">=",
        }
    }

    /// Whether `value` meets the bound.
    pub(crate) fn meets(self, value: f64, bound: f64) -> bool {
        match self {
            Direction::AtMost => value <= bound,
            Direction::AtLeast => value >= bound,
        }
    }
}

/// One `--target`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Target {
    /// The metric as the user wrote it (`wait.avg`, `makespan`).
    pub(crate) metric: String,
    #[serde(rename = "op")]
    pub(crate) direction: Direction,
    pub(crate) value: f64,
}

impl Target {
    /// Parses `METRIC<=X` or `METRIC>=X` (spaces allowed around each part).
    pub(crate) fn parse(text: &str) -> Result<Target> {
        let bad = |why: &str| Error::invalid("--target", format!("'{text}': {why}"));
        let (metric, direction, value) = if let Some((m, v)) = text.split_once("<=") {
            (m, Direction::AtMost, v)
        } else if let Some((m, v)) = text.split_once(">=") {
            (m, Direction::AtLeast, v)
        } else {
            return Err(bad("write METRIC<=VALUE or METRIC>=VALUE"));
        };
        let metric = metric.trim();
        if metric.is_empty() {
            return Err(bad("names no metric"));
        }
        let value: f64 = (value.trim().parse().ok())
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad("the bound is not a finite number"))?;
        Ok(Target {
            metric: metric.to_string(),
            direction,
            value,
        })
    }

    /// The `METRIC<=X` form, for tables and titles.
    pub(crate) fn label(&self) -> String {
        format!("{}{}{}", self.metric, self.direction.as_str(), self.value)
    }

    /// Checks the metric against a results document: a derived name, or a
    /// path that ends at a number. The error lists the closest names.
    pub(crate) fn check(&self, doc: &Value) -> Result<()> {
        if DERIVED.contains(&self.metric.as_str()) || lookup(doc, &self.metric).is_some() {
            return Ok(());
        }
        let names = metric_names(doc);
        let close = closest(&self.metric, &names, 5);
        Err(Error::invalid(
            "--target",
            format!(
                "unknown metric '{}' (closest: {}; see docs/reference.md#lbsim-plan)",
                self.metric,
                close.join(", ")
            ),
        ))
    }
}

/// The number at `path` (dots between keys) under `metrics`, else from the
/// document's root.
pub(crate) fn lookup(doc: &Value, path: &str) -> Option<f64> {
    let walk = |mut v: &Value| {
        for key in path.split('.') {
            v = v.as_object()?.get(key)?;
        }
        v.as_f64()
    };
    doc.get("metrics").and_then(walk).or_else(|| walk(doc))
}

/// Every numeric path of a document, those under `metrics` without the
/// prefix, plus the derived names; sorted.
pub(crate) fn metric_names(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = DERIVED.iter().map(|s| s.to_string()).collect();
    if let Some(m) = doc.get("metrics") {
        leaves(m, "", &mut out);
    }
    if let Some(run) = doc.get("run") {
        leaves(run, "run.", &mut out);
    }
    out.sort();
    out
}

fn leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Number(_) => out.push(prefix.trim_end_matches('.').to_string()),
        Value::Object(map) => {
            for (k, child) in map {
                leaves(child, &format!("{prefix}{k}."), out);
            }
        }
        _ => {}
    }
}

/// The `n` names nearest to `word` by edit distance (ties in name order).
fn closest(word: &str, names: &[String], n: usize) -> Vec<String> {
    let mut scored: Vec<(usize, &String)> = names.iter().map(|s| (distance(word, s), s)).collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, s)| s.clone()).collect()
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j] + 1).min(row[j + 1] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        serde_json::json!({
            "metrics": {"success_rate": 100.0, "wait": {"avg": 0.5, "p95": 2.0}},
            "run": {"end_time": 12.5, "end_reason": "all_final"}
        })
    }

    #[test]
    fn a_target_parses_both_directions_and_refuses_the_rest() {
        let t = Target::parse(" turnaround.p95 <= 30 ").unwrap();
        assert_eq!(
            (t.metric.as_str(), t.direction, t.value),
            ("turnaround.p95", Direction::AtMost, 30.0)
        );
        let t = Target::parse("success_rate>=99.5").unwrap();
        assert_eq!(t.direction, Direction::AtLeast);
        assert_eq!(t.label(), "success_rate>=99.5");
        for bad in ["wait.avg<30", "<=3", "wait.avg<=x", "wait.avg<=inf"] {
            let e = Target::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("invalid --target: '"), "{e}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn paths_resolve_under_metrics_then_from_the_root() {
        let d = doc();
        assert_eq!(lookup(&d, "wait.p95"), Some(2.0));
        assert_eq!(lookup(&d, "metrics.wait.avg"), Some(0.5));
        assert_eq!(lookup(&d, "run.end_time"), Some(12.5));
        assert_eq!(lookup(&d, "run.end_reason"), None);
        assert_eq!(lookup(&d, "wait"), None);
    }

    #[test]
    fn an_unknown_metric_names_the_flag_and_the_closest_names() {
        let d = doc();
        assert!(Target::parse("makespan<=600").unwrap().check(&d).is_ok());
        assert!(Target::parse("wait.avg<=1").unwrap().check(&d).is_ok());
        let e = Target::parse("wait.p59<=1").unwrap().check(&d).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "invalid --target: unknown metric 'wait.p59' (closest: wait.p95, wait.avg"
            ),
            "{text}"
        );
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("p_wait", "p_wait"), 0);
    }
}
