//! Two results files compared metric by metric: every number under
//! `metrics` (nested ones named with dots, e.g. `latency.p95`).

use super::{Comparison, MetricRow};
use crate::error::{Error, Result};
use indexmap::IndexMap;
use serde_json::Value;
use std::path::Path;

pub fn compare(a: &Path, text_a: &str, b: &Path, text_b: &str) -> Result<Comparison> {
    let ma = metrics_of(a, text_a)?;
    let mb = metrics_of(b, text_b)?;
    let mut rows: Vec<MetricRow> = ma
        .iter()
        .map(|(name, x)| MetricRow {
            name: name.clone(),
            a: Some(*x),
            b: mb.get(name).copied(),
        })
        .collect();
    rows.extend(
        mb.iter()
            .filter(|(name, _)| !ma.contains_key(*name))
            .map(|(name, y)| MetricRow {
                name: name.clone(),
                a: None,
                b: Some(*y),
            }),
    );
    Ok(Comparison {
        kind: "results",
        differing: None,
        first: None,
        metrics: rows,
    })
}

/// The numeric leaves of `metrics`, in file order.
fn metrics_of(path: &Path, text: &str) -> Result<IndexMap<String, f64>> {
    let bad = |location: String, message: String| {
        Error::bad_file(path.display().to_string(), location, message)
    };
    let v: Value = serde_json::from_str(text).map_err(|e| {
        bad(
            format!("line {} column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    let metrics = v.get("metrics").filter(|m| m.is_object()).ok_or_else(|| {
        bad(
            "metrics".into(),
            "not a results file: no metrics object".into(),
        )
    })?;
    let mut out = IndexMap::new();
    flatten("", metrics, &mut out);
    Ok(out)
}

fn flatten(prefix: &str, v: &Value, out: &mut IndexMap<String, f64>) {
    match v {
        Value::Number(n) => {
            if let Some(x) = n.as_f64() {
                out.insert(prefix.to_string(), x);
            }
        }
        Value::Object(map) => {
            for (k, child) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, child, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_metrics_are_flattened_and_missing_ones_shown() {
        let a = r#"{"metrics": {"total_tests": 10, "latency": {"p50": 1.5}, "note": "x"}}"#;
        let b = r#"{"metrics": {"total_tests": 12, "latency": {"p50": 1.5}, "extra": 1}}"#;
        let c = compare(Path::new("a"), a, Path::new("b"), b).unwrap();
        let names: Vec<&str> = c.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["total_tests", "latency.p50", "extra"]);
        assert_eq!(c.metrics[0].change_pct(), 20.0);
        assert_eq!(c.metrics[2].a, None);
        assert!(!c.is_within(25.0), "a metric only B has is a difference");
    }

    #[test]
    fn bad_json_names_file_and_place() {
        let err = compare(Path::new("a.json"), "{", Path::new("b"), "{}").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("a.json: line 1 column 1: not valid JSON"));
        let err = compare(Path::new("a.json"), "{}", Path::new("b"), "{}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.json: metrics: not a results file: no metrics object"
        );
    }
}
