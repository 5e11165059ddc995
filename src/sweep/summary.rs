//! The summary file: per axis point and metric, the mean over replications
//! with its 95 % confidence interval; with a `scheduler` axis, also the
//! paired difference against the baseline scheduler on the same seeds.
//!
//! It is computed from the results file, not from the runs, so a resumed
//! or merged file gets the same summary as one written in a single go.

use super::row::{fmt_float, line, split, Row, RUN_COLUMNS};
use super::stats::Estimate;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Columns of the summary file, after `point` and the axes.
pub(crate) const SUMMARY_COLUMNS: &[&str] = &[
    "metric",
    "n",
    "mean",
    "stddev",
    "ci95_low",
    "ci95_high",
    "baseline",
    "diff_mean",
    "diff_ci95_low",
    "diff_ci95_high",
];

/// A `--baseline` must be a value of the results' `scheduler` column; else
/// the summary's difference columns would be silently empty (exit 2).
pub(crate) fn check_baseline(header: &str, rows: &[Row], baseline: Option<&str>) -> Result<()> {
    let Some(baseline) = baseline else {
        return Ok(());
    };
    let bad = |m: String| Err(Error::invalid("--baseline", m));
    let names = split(header).map_err(|m| Error::invalid("--baseline", m))?;
    let Some(col) = names.iter().position(|n| n == "scheduler") else {
        return bad(format!(
            "'{baseline}' given, but the results have no scheduler axis"
        ));
    };
    let mut found: Vec<String> = Vec::new();
    for row in rows {
        let f = split(&row.line).unwrap_or_default();
        match f.get(col) {
            Some(v) if v == baseline => return Ok(()),
            Some(v) if !found.contains(v) => found.push(v.clone()),
            _ => {}
        }
    }
    bad(format!(
        "'{baseline}' is not a scheduler of the results (found: {})",
        found.join(", ")
    ))
}

/// One point's replications: (replication, seed, metric values).
struct Point {
    axes: Vec<String>,
    runs: Vec<(u64, String, Vec<f64>)>,
}

/// The summary of a results file, as CSV text; `None` if no point has two
/// replications (one run gives no interval). `baseline` overrides the
/// default baseline (the scheduler of the first point).
pub(crate) fn summarize(
    file: &str,
    header: &str,
    rows: &[Row],
    baseline: Option<&str>,
) -> Result<Option<String>> {
    let names = split(header).map_err(|m| Error::bad_line(file, 1, m))?;
    let pos = |n: &str| names.iter().position(|c| c == n);
    let (Some(rep_col), Some(key_col)) = (pos(RUN_COLUMNS[0]), pos("cell_key")) else {
        return Err(Error::bad_line(file, 1, "not a sweep file"));
    };
    let axis_names = &names[2..rep_col];
    let metrics = &names[key_col + 1..];
    let points = group(file, rows, rep_col, key_col)?;
    if points.values().all(|p| p.runs.len() < 2) {
        return Ok(None);
    }
    let sched = axis_names.iter().position(|n| n == "scheduler");
    let baseline = sched.and_then(|s| {
        baseline
            .map(str::to_string)
            .or_else(|| points.values().next().map(|p| p.axes[s].clone()))
    });
    // (other axis values, scheduler) → point, to find each point's baseline twin.
    let mut twins = BTreeMap::new();
    if let (Some(s), Some(b)) = (sched, &baseline) {
        for (id, p) in points.iter().filter(|(_, p)| p.axes[s] == *b) {
            twins.insert(without(&p.axes, s), *id);
        }
    }
    let mut out = String::new();
    let mut head = vec!["point".to_string()];
    head.extend(axis_names.iter().cloned());
    head.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    out.push_str(&line(&head));
    for (id, p) in &points {
        let twin = sched
            .filter(|s| Some(&p.axes[*s]) != baseline.as_ref())
            .and_then(|s| twins.get(&without(&p.axes, s)))
            .map(|twin| &points[twin]);
        for (m, metric) in metrics.iter().enumerate() {
            let xs: Vec<f64> = p.runs.iter().map(|r| r.2[m]).collect();
            let Some(e) = Estimate::of(&xs) else { continue };
            let mut f = vec![id.to_string()];
            f.extend(p.axes.iter().cloned());
            f.push(metric.clone());
            f.push(e.n.to_string());
            f.push(fmt_float(e.mean));
            f.push(fmt_float(e.stddev));
            f.extend(interval(e.ci95));
            f.push(baseline.clone().unwrap_or_default());
            match twin.and_then(|t| paired(p, t, m)) {
                Some(d) => {
                    f.push(fmt_float(d.mean));
                    f.extend(interval(d.ci95));
                }
                None => f.extend(["".to_string(), "".into(), "".into()]),
            }
            out.push_str(&line(&f));
        }
    }
    Ok(Some(out))
}

fn group(
    file: &str,
    rows: &[Row],
    rep_col: usize,
    key_col: usize,
) -> Result<BTreeMap<usize, Point>> {
    let mut points: BTreeMap<usize, Point> = BTreeMap::new();
    for row in rows {
        let f = split(&row.line).map_err(|m| Error::bad_line(file, row.line_no, m))?;
        let num = |i: usize| {
            f[i].parse::<f64>().map_err(|_| {
                Error::bad_line(file, row.line_no, format!("'{}' is not a number", f[i]))
            })
        };
        let point: usize = num(1)? as usize;
        let values = (key_col + 1..f.len())
            .map(num)
            .collect::<Result<Vec<_>>>()?;
        let rep = num(rep_col)? as u64;
        let seed = f[rep_col + 1].clone();
        points
            .entry(point)
            .or_insert_with(|| Point {
                axes: f[2..rep_col].to_vec(),
                runs: Vec::new(),
            })
            .runs
            .push((rep, seed, values));
    }
    for p in points.values_mut() {
        p.runs.sort_by_key(|r| r.0);
    }
    Ok(points)
}

/// Paired difference of metric `m`, over replications both points ran on
/// the same seed.
fn paired(p: &Point, base: &Point, m: usize) -> Option<Estimate> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (rep, seed, values) in &p.runs {
        if let Some(twin) = base.runs.iter().find(|r| r.0 == *rep && r.1 == *seed) {
            a.push(values[m]);
            b.push(twin.2[m]);
        }
    }
    Estimate::paired(&a, &b)
}

fn without(values: &[String], skip: usize) -> Vec<String> {
    let mut v = values.to_vec();
    v.remove(skip);
    v
}

fn interval(ci: Option<(f64, f64)>) -> [String; 2] {
    match ci {
        Some((lo, hi)) => [fmt_float(lo), fmt_float(hi)],
        None => [String::new(), String::new()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::row::ResultsFile;

    const RESULTS: &str = "cell,point,scheduler,replication,seed,cell_key,x\n\
        0,0,a,0,42,k0,10\n1,0,a,1,43,k1,20\n2,0,a,2,44,k2,30\n\
        3,1,b,0,42,k3,12\n4,1,b,1,43,k4,22\n5,1,b,2,44,k5,32\n";

    #[test]
    fn means_intervals_and_paired_differences() {
        let f = ResultsFile::parse(RESULTS, "r.csv").unwrap();
        let s = summarize("r.csv", f.header.as_deref().unwrap(), &f.rows, None)
            .unwrap()
            .unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(
            lines[0],
            "point,scheduler,metric,n,mean,stddev,ci95_low,ci95_high,baseline,diff_mean,diff_ci95_low,diff_ci95_high"
        );
        // mean 20, s = 10, half-width = t(2) · 10/√3 = 4.302653 · 5.773503 = 24.841377.
        assert_eq!(
            lines[1],
            "0,a,x,3,20.000000,10.000000,-4.841377,44.841377,a,,,"
        );
        // b is a + 2 on every seed: the paired interval is exactly [2, 2].
        assert_eq!(
            lines[2],
            "1,b,x,3,22.000000,10.000000,-2.841377,46.841377,a,2.000000,2.000000,2.000000"
        );
        let s = summarize("r.csv", f.header.as_deref().unwrap(), &f.rows, Some("b"))
            .unwrap()
            .unwrap();
        assert!(s
            .lines()
            .nth(1)
            .unwrap()
            .ends_with(",b,-2.000000,-2.000000,-2.000000"));
    }
}
