//! Two decision logs (the `--decisions` CSV) compared decision by decision.
//!
//! A decision is identified by its test and which assignment of that test
//! it is (a requeued test is assigned more than once); it differs when the
//! other log has it at another time, on another worker, or not at all. The
//! policy and score columns are not compared: two policies score on
//! different scales, and the decision is what matters.

use super::{Comparison, FirstDivergence, MetricRow};
use crate::error::{Error, Result};
use crate::metrics::sample_stddev;
use indexmap::IndexMap;

/// One row of a decision log.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The time as written (compared as text: both sides round the same way).
    pub time: String,
    /// The test's id, as written.
    pub test: String,
    /// The worker it went to, as written.
    pub worker: String,
}

impl Decision {
    fn same(&self, other: &Decision) -> bool {
        self.time == other.time && self.test == other.test && self.worker == other.worker
    }

    /// `t=12.000000 test-000016 → worker-0003`, or `(log ended)`.
    pub fn describe(d: Option<&Decision>) -> String {
        d.map_or_else(
            || "(log ended)".into(),
            |d| format!("t={} {} -> {}", d.time, d.test, d.worker),
        )
    }
}

/// Reads a decision log; the header must name `time`, `test` and `worker`.
pub(crate) fn read_decisions(file: &str, text: &str) -> Result<Vec<Decision>> {
    let bad = |line: usize, message: String| {
        Error::bad_file(file.to_string(), format!("line {line}"), message)
    };
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, h)| h.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let column = |name: &str| {
        header.iter().position(|h| *h == name).ok_or_else(|| {
            bad(
                1,
                format!("not a decision log: no '{name}' column (expected time,test,worker,…)"),
            )
        })
    };
    let (ct, cs, cw) = (column("time")?, column("test")?, column("worker")?);
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != header.len() {
            return Err(bad(
                i + 1,
                format!("expected {} fields, found {}", header.len(), cells.len()),
            ));
        }
        let time = cells[ct];
        if !time.parse::<f64>().is_ok_and(|t| t.is_finite() && t >= 0.0) {
            return Err(bad(
                i + 1,
                format!("time: '{time}' is not a time in seconds"),
            ));
        }
        if cells[cs].is_empty() || cells[cw].is_empty() {
            return Err(bad(i + 1, "test and worker must not be empty".into()));
        }
        out.push(Decision {
            time: time.to_string(),
            test: cells[cs].to_string(),
            worker: cells[cw].to_string(),
        });
    }
    Ok(out)
}

/// Decisions keyed by (test, n-th assignment of it).
fn keyed(log: &[Decision]) -> IndexMap<(&str, u32), &Decision> {
    let mut seen: IndexMap<&str, u32> = IndexMap::new();
    let mut out = IndexMap::with_capacity(log.len());
    for d in log {
        let n = seen.entry(d.test.as_str()).or_insert(0);
        *n += 1;
        out.insert((d.test.as_str(), *n), d);
    }
    out
}

pub(super) fn compare(a: &[Decision], b: &[Decision]) -> Comparison {
    let (ka, kb) = (keyed(a), keyed(b));
    let mut differing = ka
        .iter()
        .filter(|(k, d)| {
            kb.get(*k)
                .is_none_or(|e| e.time != d.time || e.worker != d.worker)
        })
        .count() as u64;
    differing += kb.keys().filter(|k| !ka.contains_key(*k)).count() as u64;
    let first = (0..a.len().max(b.len()))
        .find(|&i| match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => !x.same(y),
            _ => true,
        })
        .map(|i| FirstDivergence {
            index: i as u64 + 1,
            a: a.get(i).cloned(),
            b: b.get(i).cloned(),
        });
    let (ma, mb) = (summary(a), summary(b));
    let metrics = ma
        .into_iter()
        .zip(mb)
        .map(|((name, x), (_, y))| MetricRow {
            name: name.to_string(),
            a: Some(x),
            b: Some(y),
        })
        .collect();
    Comparison {
        kind: "decision log",
        differing: Some((differing, ka.len().max(kb.len()) as u64)),
        first,
        metrics,
    }
}

/// What a decision log alone says about a run.
fn summary(log: &[Decision]) -> Vec<(&'static str, f64)> {
    let mut per_worker: IndexMap<&str, u64> = IndexMap::new();
    let mut tests: IndexMap<&str, ()> = IndexMap::new();
    for d in log {
        *per_worker.entry(d.worker.as_str()).or_insert(0) += 1;
        tests.insert(d.test.as_str(), ());
    }
    let counts: Vec<f64> = per_worker.values().map(|&c| c as f64).collect();
    let range = match (
        counts.iter().cloned().reduce(f64::max),
        counts.iter().cloned().reduce(f64::min),
    ) {
        (Some(hi), Some(lo)) => hi - lo,
        _ => 0.0,
    };
    let last = log
        .iter()
        .filter_map(|d| d.time.parse::<f64>().ok())
        .fold(0.0, f64::max);
    vec![
        ("decisions", log.len() as f64),
        ("tests_assigned", tests.len() as f64),
        ("workers_used", per_worker.len() as f64),
        ("worker_assignment_stddev", sample_stddev(&counts)),
        ("worker_assignment_range", range),
        ("last_decision_time", last),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "time,test,worker,policy,score,candidates,attempt\n";

    fn log(rows: &str) -> Vec<Decision> {
        read_decisions("d.csv", &format!("{HEAD}{rows}")).unwrap()
    }

    #[test]
    fn one_moved_decision_is_found_exactly() {
        let a = log("0.0,test-0,worker-0,p,1,2,1\n1.0,test-1,worker-1,p,1,2,1\n2.0,test-2,worker-0,p,1,2,1\n");
        let b = log("0.0,test-0,worker-0,q,9,2,1\n1.0,test-1,worker-0,q,9,2,1\n2.0,test-2,worker-0,q,9,2,1\n");
        let c = compare(&a, &b);
        assert_eq!(c.differing, Some((1, 3)));
        let f = c.first.unwrap();
        assert_eq!(f.index, 2);
        assert_eq!(f.a.unwrap().worker, "worker-1");
        assert_eq!(f.b.unwrap().worker, "worker-0");
        let workers = &c.metrics[2];
        assert_eq!((workers.a, workers.b), (Some(2.0), Some(1.0)));
    }

    #[test]
    fn identical_logs_agree_and_a_missing_tail_counts() {
        let a = log("0.0,test-0,worker-0,p,1,2,1\n1.0,test-0,worker-1,p,1,2,2\n");
        let c = compare(&a, &a);
        assert_eq!((c.differing, c.first.clone()), (Some((0, 2)), None));
        assert!(c.is_within(0.0));
        let c = compare(&a, &a[..1]);
        assert_eq!(c.differing, Some((1, 2)));
        assert_eq!(c.first.unwrap().b, None);
    }

    #[test]
    fn malformed_logs_name_the_line() {
        let err = |text: &str| read_decisions("d.csv", text).unwrap_err().to_string();
        assert!(err("a,b\n").starts_with("d.csv: line 1: not a decision log"));
        assert_eq!(
            err(&format!("{HEAD}0.0,test-0,worker-0\n")),
            "d.csv: line 2: expected 7 fields, found 3"
        );
        assert_eq!(
            err(&format!("{HEAD}0.0,t,w,p,1,1,1\nsoon,t,w,p,1,1,1\n")),
            "d.csv: line 3: time: 'soon' is not a time in seconds"
        );
    }
}
