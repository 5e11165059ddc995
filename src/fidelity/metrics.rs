//! The key metrics of a live run beside the model's, with the model's
//! relative error: the one table `lbsim load` and `lbsim fidelity` print
//! and write. Errors are `(model − live) / |live|`, in percent.

use crate::engine::RunOutput;
use serde::Serialize;
use std::fmt::Write;

/// One metric on both sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct MetricError {
    /// The results JSON's path of it (`turnaround.p95`, `avg_throughput`).
    pub(crate) name: &'static str,
    pub(crate) live: f64,
    pub(crate) model: f64,
    /// Relative error of the model, percent; `null` when the live value is
    /// 0 and the model's is not.
    pub(crate) error_pct: Option<f64>,
    /// True for the metrics a tolerance gates (the others are context).
    pub(crate) gated: bool,
}

/// (name, gated, how to read it). Gated: the figures a user compares; the
/// others are context. `avg_scheduling_attempts` is left out: the service
/// records runs, not the passes a test waited through, so live it is
/// always 1.
type Read = fn(&RunOutput) -> f64;

const KEY: &[(&str, bool, Read)] = &[
    ("turnaround.avg", true, |o| o.metrics.turnaround.avg),
    ("turnaround.p95", true, |o| o.metrics.turnaround.p95),
    ("wait.avg", false, |o| o.metrics.wait.avg),
    ("wait.p95", false, |o| o.metrics.wait.p95),
    ("latency.avg", false, |o| o.metrics.latency.avg),
    ("latency.p99", true, |o| o.metrics.latency.p99),
    ("avg_throughput", true, |o| o.metrics.avg_throughput),
    ("avg_completion_throughput", false, |o| {
        o.metrics.avg_completion_throughput
    }),
    ("success_rate", true, |o| o.metrics.success_rate),
    ("completion_success_rate", false, |o| {
        o.metrics.completion_success_rate
    }),
    ("completed_tests", false, |o| {
        o.metrics.completed_tests as f64
    }),
    ("failed_tests", false, |o| o.metrics.failed_tests as f64),
    ("makespan", false, |o| o.run.end_time),
];

/// Relative error of `model` against `live`, percent.
pub(crate) fn error_pct(live: f64, model: f64) -> Option<f64> {
    if live == model {
        Some(0.0)
    } else if live != 0.0 {
        Some((model - live) / live.abs() * 100.0)
    } else {
        None
    }
}

/// The key metrics of both runs.
pub(crate) fn key_metrics(live: &RunOutput, model: &RunOutput) -> Vec<MetricError> {
    KEY.iter()
        .map(|&(name, gated, get)| {
            let (l, m) = (round6(get(live)), round6(get(model)));
            MetricError {
                name,
                live: l,
                model: m,
                error_pct: error_pct(l, m).map(round6),
                gated,
            }
        })
        .collect()
}

fn round6(x: f64) -> f64 {
    let r = (x * 1e6).round() / 1e6;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// The largest error among the gated metrics (infinite when one is
/// undefined).
pub(crate) fn worst_gated(rows: &[MetricError]) -> f64 {
    rows.iter()
        .filter(|r| r.gated)
        .map(|r| r.error_pct.map_or(f64::INFINITY, f64::abs))
        .fold(0.0, f64::max)
}

/// The side-by-side table; `model` names the model's column.
pub(crate) fn render(rows: &[MetricError], model: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<26}  {:>12}  {:>12}  {:>9}",
        "metric", "live", model, "error"
    );
    for r in rows {
        let err = r
            .error_pct
            .map_or_else(|| "n/a".to_string(), |e| format!("{:+.1} %", e + 0.0));
        let _ = writeln!(
            t,
            "{:<26}  {:>12}  {:>12}  {:>9}",
            r.name,
            number(r.live),
            number(r.model),
            err
        );
    }
    t
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e12 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_relative_to_live_and_undefined_from_zero() {
        assert!((error_pct(10.0, 11.0).unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(error_pct(0.0, 0.0), Some(0.0));
        assert_eq!(error_pct(0.0, 1.0), None);
        assert_eq!(error_pct(-2.0, -1.0), Some(50.0));
        let rows = vec![
            MetricError {
                name: "a",
                live: 1.0,
                model: 1.02,
                error_pct: Some(2.0),
                gated: true,
            },
            MetricError {
                name: "b",
                live: 1.0,
                model: 2.0,
                error_pct: Some(100.0),
                gated: false,
            },
        ];
        assert_eq!(worst_gated(&rows), 2.0);
        let text = render(&rows, "predicted");
        assert!(text.contains("+2.0 %"), "{text}");
    }
}
