//! Reading a results file defensively: every field is optional, because
//! results come from several commands and several versions of lbsim. What
//! is missing only removes the charts that need it.

use crate::error::{Error, Result};
use serde_json::Value;

/// What kind of results a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// One run (`lbsim stress --output`, a scenario run).
    Stress,
    /// A benchmark grid: `{"benchmark_results": [...]}`.
    Benchmark,
    /// One run with load spikes: a top-level `"spikes"` list.
    Spike,
    /// A sweep CSV: one row per cell.
    Sweep,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stress => "stress",
            Kind::Benchmark => "benchmark",
            Kind::Spike => "spike",
            Kind::Sweep => "sweep",
        }
    }
}

/// A parsed results file.
#[derive(Clone, Debug)]
pub enum Results {
    Json(Value),
    Csv(Vec<String>, Vec<Vec<String>>),
}

fn not_results(file: &str, why: &str) -> Error {
    Error::bad_file(
        file,
        "top level",
        format!(
            "not an lbsim results file ({why}; expected a JSON object with 'metrics' or \
             'benchmark_results', or a sweep CSV with a 'seed' column)"
        ),
    )
}

/// Parses `text` (named `file` in errors) and tells its kind.
pub fn parse(file: &str, text: &str) -> Result<(Results, Kind)> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => {
            let kind = detect_json(&v).ok_or_else(|| not_results(file, "no 'metrics' object"))?;
            return Ok((Results::Json(v), kind));
        }
        // Broken JSON gets serde's line and column; anything else may be a CSV.
        Err(e) if text.trim_start().starts_with('{') => {
            return Err(Error::bad_file(
                file,
                format!("line {} column {}", e.line(), e.column()),
                format!("invalid JSON: {e}"),
            ));
        }
        Err(_) => {}
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| not_results(file, "neither JSON nor CSV"))?
        .iter()
        .map(str::to_string)
        .collect();
    if !header.iter().any(|h| h == "seed") {
        return Err(not_results(file, "no JSON and no 'seed' column"));
    }
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Error::bad_line(file, i + 2, e.to_string()))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok((Results::Csv(header, rows), Kind::Sweep))
}

/// Benchmark if it has `benchmark_results`; spike if it has a non-empty
/// `spikes` list; stress if it has `metrics`; otherwise not results.
pub fn detect_json(v: &Value) -> Option<Kind> {
    if v.get("benchmark_results").is_some_and(Value::is_array) {
        return Some(Kind::Benchmark);
    }
    if !v.get("metrics").is_some_and(Value::is_object) {
        return None;
    }
    let spikes = v.get("spikes").and_then(Value::as_array);
    Some(if spikes.is_some_and(|s| !s.is_empty()) {
        Kind::Spike
    } else {
        Kind::Stress
    })
}

/// A number at a `/`-separated path (`metrics/latency/p99`).
pub fn num(v: &Value, path: &str) -> Option<f64> {
    v.pointer(&format!("/{path}")).and_then(Value::as_f64)
}

/// A `[[t, y], ...]` series at `path`, if present and well formed.
pub fn pairs(v: &Value, path: &str) -> Option<Vec<(f64, f64)>> {
    let items = v.pointer(&format!("/{path}"))?.as_array()?;
    items
        .iter()
        .map(|p| {
            let p = p.as_array()?;
            Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
        })
        .collect()
}

/// A load spike window, seconds.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Spike {
    pub start: f64,
    pub end: f64,
    pub multiplier: f64,
}

pub fn spikes(v: &Value) -> Vec<Spike> {
    v.get("spikes")
        .and_then(Value::as_array)
        .map(|xs| {
            xs.iter()
                .filter_map(|s| {
                    Some(Spike {
                        start: s.get("start")?.as_f64()?,
                        end: s.get("end")?.as_f64()?,
                        multiplier: s.get("multiplier").and_then(Value::as_f64).unwrap_or(1.0),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Worker joins (after the start) and departures, from the workers table.
pub fn worker_events(v: &Value) -> (Vec<f64>, Vec<f64>) {
    let (mut joins, mut leaves) = (Vec::new(), Vec::new());
    for w in v
        .get("workers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(j) = w
            .get("joined_at")
            .and_then(Value::as_f64)
            .filter(|&j| j > 0.0)
        {
            joins.push(j);
        }
        if let Some(l) = w.get("left_at").and_then(Value::as_f64) {
            leaves.push(l);
        }
    }
    joins.sort_by(f64::total_cmp);
    leaves.sort_by(f64::total_cmp);
    (joins, leaves)
}

/// One benchmark cell.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchRow {
    pub workers: f64,
    pub tests: f64,
    pub scheduler: String,
    pub metrics: Value,
}

pub fn bench_rows(v: &Value) -> Vec<BenchRow> {
    v.get("benchmark_results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some(BenchRow {
                workers: r.get("workers")?.as_f64()?,
                tests: r.get("tests")?.as_f64()?,
                scheduler: r
                    .get("scheduler")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_string(),
                metrics: r.get("metrics").cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_are_detected_from_the_keys() {
        let kind = |v: Value| detect_json(&v);
        assert_eq!(
            kind(json!({"benchmark_results": []})),
            Some(Kind::Benchmark)
        );
        assert_eq!(kind(json!({"metrics": {}})), Some(Kind::Stress));
        assert_eq!(
            kind(json!({"metrics": {}, "spikes": []})),
            Some(Kind::Stress)
        );
        let spike = json!({"metrics": {}, "spikes": [{"start": 1, "end": 2}]});
        assert_eq!(kind(spike), Some(Kind::Spike));
        assert_eq!(kind(json!({"name": "x"})), None);
        assert_eq!(kind(json!([1, 2])), None);
    }

    #[test]
    fn a_file_that_is_not_results_is_a_bad_file() {
        for text in [
            "{\"a\": 1}",
            "hello\nworld\n",
            "{oops",
            "[]",
            "[package]\nname = 1\n",
            "",
        ] {
            let err = parse("x.json", text).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{text}: {err}");
            assert!(err.to_string().starts_with("x.json: "), "{err}");
        }
        let (_, kind) = parse("s.csv", "scheduler,seed,avg_latency\nround_robin,1,0.5\n").unwrap();
        assert_eq!(kind, Kind::Sweep);
    }

    #[test]
    fn malformed_series_and_spikes_are_skipped_not_fatal() {
        let v = json!({"time_series": {"a": [[0, 1.5], [1, 2]], "b": [[0]], "c": 3},
                       "spikes": [{"start": 5, "end": 9, "multiplier": 3}, {"start": "x"}]});
        assert_eq!(
            pairs(&v, "time_series/a"),
            Some(vec![(0.0, 1.5), (1.0, 2.0)])
        );
        assert_eq!(pairs(&v, "time_series/b"), None);
        assert_eq!(pairs(&v, "time_series/c"), None);
        assert_eq!(pairs(&v, "time_series/d"), None);
        assert_eq!(spikes(&v).len(), 1);
        assert_eq!(spikes(&v)[0].multiplier, 3.0);
    }
}
