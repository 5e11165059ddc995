//! Two results files compared metric by metric: every number under
//! `metrics` (nested ones named with dots, e.g. `latency.p95`).

use super::{Comparison, MetricRow};
use crate::error::Result;
use crate::report::ResultsDoc;
use indexmap::IndexMap;
use serde_json::Value;
use std::path::Path;

pub(super) fn compare(a: &Path, text_a: &str, b: &Path, text_b: &str) -> Result<Comparison> {
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

/// The numeric leaves of the file's `metrics`, in file order. The file is
/// read as a [`ResultsDoc`]; the metrics are walked through their
/// serialised form, so a metric added to `Metrics` is compared with no
/// change here.
fn metrics_of(path: &Path, text: &str) -> Result<IndexMap<String, f64>> {
    let doc = ResultsDoc::parse(&path.display().to_string(), text)?;
    let metrics = serde_json::to_value(&doc.metrics).unwrap_or(Value::Null);
    let mut out = IndexMap::new();
    flatten("", &metrics, &mut out);
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
    use crate::engine::{self, NoObserver};
    use crate::scenario::StressOptions;

    fn doc() -> ResultsDoc {
        let scenario = StressOptions {
            tests: 40,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        ResultsDoc::from_run(&engine::run(&scenario, &mut NoObserver).unwrap())
    }

    #[test]
    fn every_metric_is_compared_nested_ones_by_dotted_name() {
        let a = doc();
        let mut b = a.clone();
        b.metrics.total_tests = 50;
        b.metrics.avg_throughput = a.metrics.avg_throughput * 1.5;
        let c = compare(Path::new("a"), &a.to_json(), Path::new("b"), &b.to_json()).unwrap();
        let names: Vec<&str> = c.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names[..2], ["total_tests", "success_rate"]);
        assert!(names.contains(&"latency.p95") && names.contains(&"slowdown.max"));
        assert_eq!(names.last(), Some(&"tests_moved"));
        let changed: Vec<&str> = (c.metrics.iter())
            .filter(|m| m.change_pct() != 0.0)
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(changed, ["total_tests", "avg_throughput"]);
        assert_eq!(c.metrics[0].change_pct(), 25.0);
        assert!(c.is_within(50.1) && !c.is_within(49.9));
    }

    #[test]
    fn a_file_that_is_not_results_names_file_and_place() {
        let err = compare(Path::new("a.json"), "{", Path::new("b"), "{}").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("a.json: line 1 column 1: not valid JSON"));
        let err = compare(Path::new("a.json"), "{}", Path::new("b"), "{}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.json: top level (line 1, column 2): missing field `lbsim_version`"
        );
        let text = doc()
            .to_json()
            .replacen("\"avg_latency\": ", "\"avg_latency\": \"", 1);
        let err = compare(Path::new("a.json"), &text, Path::new("b"), "{}").unwrap_err();
        assert!(err.to_string().starts_with("a.json: "), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
}
