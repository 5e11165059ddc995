//! The charts of many runs: a benchmark grid (JSON) or a sweep (CSV).
//! Repeated cells (several seeds) are averaged.

use super::figure::{Body, Chart, Panel, Scale, Series};
use super::run::cdf_chart;
use super::style::nth_colour;
use super::{compare_data, compare_view};
use crate::balancer::policy::SchedulerName;
use crate::report::{BenchmarkDoc, BenchmarkRow};
use std::collections::BTreeMap;

/// Mean y per x for each group, groups and x in sorted order; a group
/// named after a policy is drawn in that policy's colour and marker.
fn lines(points: impl Iterator<Item = (String, f64, f64)>) -> Vec<Series> {
    let mut groups: BTreeMap<String, Vec<(f64, f64, u32)>> = BTreeMap::new();
    for (group, x, y) in points {
        let g = groups.entry(group).or_default();
        match g.iter_mut().find(|p| p.0 == x) {
            Some(p) => {
                p.1 += y;
                p.2 += 1;
            }
            None => g.push((x, y, 1)),
        }
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (name, mut g))| {
            g.sort_by(|a, b| a.0.total_cmp(&b.0));
            let points = g
                .into_iter()
                .map(|(x, s, n)| (x, s / f64::from(n)))
                .collect();
            match SchedulerName::parse(&name) {
                Ok(policy) => Series::policy(name, policy, false, points),
                Err(_) => Series {
                    name,
                    step: false,
                    points,
                    colour: nth_colour(i),
                    marker: None,
                },
            }
        })
        .collect()
}

/// A count with thousands separated: `1,000,000`.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Counts of workers or tests that span a decade or more are drawn on a
/// log axis: on a linear one, 5–100 crowd against the left edge.
fn x_scale(x_label: &str, series: &[Series]) -> Scale {
    let counts = ["workers", "tests", "tests submitted"];
    let xs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let lo = xs().fold(f64::INFINITY, f64::min);
    let hi = xs().fold(0.0, f64::max);
    if counts.contains(&x_label) && lo > 0.0 && hi / lo >= 10.0 {
        Scale::Log
    } else {
        Scale::Linear
    }
}

fn panel(title: String, x: &str, y: &str, series: Vec<Series>) -> Panel {
    let mut p = Panel::new(&title, x, y);
    p.x_scale = x_scale(x, &series);
    p.series = series;
    p
}

/// Benchmark charts: which policy wins where (with two policies or
/// more), scalability against workers and tests, one line per policy, and
/// the latency CDF from the stored distributions (none from percentiles).
pub(super) fn bench_charts(doc: &BenchmarkDoc) -> (Vec<Chart>, Vec<String>) {
    let rows = &doc.benchmark_results[..];
    if rows.is_empty() {
        return (
            Vec::new(),
            vec!["benchmark: no rows in benchmark_results".into()],
        );
    }
    let (mut charts, mut notes) = comparison_charts(&compare_data::from_benchmark(rows));
    charts.push(Chart {
        name: "scalability".into(),
        title: "Scalability: p95 turnaround and p99 scheduling latency, one line per policy".into(),
        body: Body::Panels(scalability_panels(rows)),
    });
    match latency_cdf(rows) {
        Some(c) => charts.push(c),
        None => notes.push(
            "latency CDF: the file stores no latency distribution (written by an older lbsim), \
             and five percentiles are not one"
                .into(),
        ),
    }
    (charts, notes)
}

/// The comparison's charts, or a note when there is nothing to compare.
fn comparison_charts(c: &compare_data::Comparison) -> (Vec<Chart>, Vec<String>) {
    match c.policies[..] {
        [] => (Vec::new(), Vec::new()),
        [one] => (
            Vec::new(),
            vec![format!(
                "policy comparison: one policy ({}) in the file; `lbsim benchmark --full`, or \
                 grids of several policies merged, compare them",
                one.as_str()
            )],
        ),
        _ => compare_view::charts(c),
    }
}

/// p95 turnaround and p99 latency against workers (at the most tests)
/// and against tests (at the most workers), one line per policy.
/// (Throughput is not drawn: the arrival rate sets it, the same for every
/// policy, so its lines lay on top of each other and told nothing.)
fn scalability_panels(rows: &[BenchmarkRow]) -> Vec<Panel> {
    let max_tests = rows.iter().map(|r| r.tests).max().unwrap_or(0);
    let max_workers = rows.iter().map(|r| r.workers).max().unwrap_or(0);
    let turnaround = |r: &BenchmarkRow| r.metrics.turnaround.p95;
    let p99 = |r: &BenchmarkRow| r.metrics.latency.p99;
    let against_workers = |y: &dyn Fn(&BenchmarkRow) -> f64| {
        lines(
            (rows.iter().filter(|r| r.tests == max_tests))
                .map(|r| (r.scheduler.as_str().to_string(), f64::from(r.workers), y(r))),
        )
    };
    let against_tests = |y: &dyn Fn(&BenchmarkRow) -> f64| {
        lines(
            (rows.iter().filter(|r| r.workers == max_workers))
                .map(|r| (r.scheduler.as_str().to_string(), r.tests as f64, y(r))),
        )
    };
    let seconds = "seconds (s)";
    let (tests, workers) = (thousands(max_tests), thousands(u64::from(max_workers)));
    vec![
        panel(
            format!("p95 turnaround against workers ({tests} tests)"),
            "workers",
            seconds,
            against_workers(&turnaround),
        ),
        panel(
            format!("p99 scheduling latency against workers ({tests} tests)"),
            "workers",
            seconds,
            against_workers(&p99),
        ),
        panel(
            format!("p95 turnaround against tests ({workers} workers)"),
            "tests submitted",
            seconds,
            against_tests(&turnaround),
        ),
        panel(
            format!("p99 scheduling latency against tests ({workers} workers)"),
            "tests submitted",
            seconds,
            against_tests(&p99),
        ),
    ]
}

/// The cell whose policies' p95 latency differs most, by ratio (then the
/// largest),
/// among cells with a stored distribution; its CDF, one line per policy.
fn latency_cdf(rows: &[BenchmarkRow]) -> Option<Chart> {
    let stored: Vec<&BenchmarkRow> = rows
        .iter()
        .filter(|r| r.latency_quantiles.len() > 1)
        .collect();
    let mut cells: BTreeMap<(u32, u64), Vec<&BenchmarkRow>> = BTreeMap::new();
    for r in stored {
        let cell = cells.entry((r.workers, r.tests)).or_default();
        if !cell.iter().any(|x| x.scheduler == r.scheduler) {
            cell.push(r);
        }
    }
    // How many times the slowest policy's p95 is the fastest's (times
    // under 1 ms as 1 ms, as in the comparison).
    let spread = |rs: &[&BenchmarkRow]| {
        let p95 = rs.iter().map(|r| r.metrics.latency.p95.max(1e-3));
        p95.clone().fold(f64::MIN, f64::max) / p95.fold(f64::MAX, f64::min)
    };
    let ((workers, tests), mut picked) = cells.into_iter().max_by(|a, b| {
        let size = |k: &(u32, u64)| u64::from(k.0).saturating_mul(k.1);
        (spread(&a.1).total_cmp(&spread(&b.1))).then(size(&a.0).cmp(&size(&b.0)))
    })?;
    picked.sort_by_key(|r| r.scheduler as usize);
    let series = (picked.iter())
        .map(|r| {
            let last = (r.latency_quantiles.len() - 1) as f64;
            let points = (r.latency_quantiles.iter().enumerate())
                .map(|(i, &s)| (s, i as f64 * 100.0 / last));
            Series::policy(
                r.scheduler.as_str().into(),
                r.scheduler,
                true,
                points.collect(),
            )
        })
        .collect();
    let mut chart = cdf_chart(series, true);
    let cell = compare_data::bench_label(workers, tests);
    chart.title = if picked.len() > 1 {
        format!("Scheduling latency distribution (CDF): {cell}, where the policies differ most")
    } else {
        format!("Scheduling latency distribution (CDF): {cell}")
    };
    Some(chart)
}

/// Sweep charts: which policy wins where (a sweep over two policies or
/// more), then its metrics against the first axis. A sweep CSV holds
/// percentiles, not distributions: no CDF is drawn from it.
pub(super) fn sweep_charts(header: &[String], rows: &[Vec<String>]) -> (Vec<Chart>, Vec<String>) {
    let (mut charts, mut notes) = match compare_data::from_sweep(header, rows) {
        Ok((c, note)) => {
            let (charts, mut notes) = comparison_charts(&c);
            notes.extend(note);
            (charts, notes)
        }
        Err(why) => (Vec::new(), vec![format!("policy comparison: {why}")]),
    };
    let (more, more_notes) = metric_charts(header, rows);
    charts.extend(more);
    notes.extend(more_notes);
    (charts, notes)
}

/// Each metric column against the first numeric axis, one line per
/// scheduler (or one line), averaged over seeds and other axes.
fn metric_charts(header: &[String], rows: &[Vec<String>]) -> (Vec<Chart>, Vec<String>) {
    let seed = header.iter().position(|h| h == "seed").unwrap_or(0);
    let number = |r: &Vec<String>, i: usize| r.get(i).and_then(|c| c.trim().parse::<f64>().ok());
    let numeric = |i: usize| !rows.is_empty() && rows.iter().all(|r| number(r, i).is_some());
    let group = header.iter().position(|h| h == "scheduler");
    let Some(x) = (0..seed).find(|&i| Some(i) != group && numeric(i)) else {
        return (
            Vec::new(),
            vec!["sweep: no numeric axis column before 'seed'".into()],
        );
    };
    let panels: Vec<Panel> = (seed + 1..header.len())
        .filter(|&i| numeric(i))
        .take(6)
        .map(|m| {
            let points = rows.iter().filter_map(|r| {
                let g = group
                    .and_then(|g| r.get(g).cloned())
                    .unwrap_or_else(|| "all".into());
                Some((g, number(r, x)?, number(r, m)?))
            });
            panel(
                format!("{} against {}", header[m], header[x]),
                &header[x],
                &header[m],
                lines(points),
            )
        })
        .collect();
    if panels.is_empty() {
        return (
            Vec::new(),
            vec!["sweep: no numeric metric column after 'seed'".into()],
        );
    }
    let chart = Chart {
        name: "sweep".into(),
        title: format!("Sweep: metrics against {}, mean over seeds", header[x]),
        body: Body::Panels(panels),
    };
    (vec![chart], Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::policy::SchedulerName;
    use crate::visualize::fixtures::metrics;

    /// A cell with its p95 turnaround and p99 latency set.
    fn row(s: SchedulerName, workers: u32, tests: u64, turnaround: f64, p99: f64) -> BenchmarkRow {
        let mut metrics = metrics(10.0, p99);
        metrics.turnaround.p95 = turnaround;
        BenchmarkRow {
            workers,
            tests,
            duration: 10.0,
            scheduler: s,
            metrics,
            latency_quantiles: Vec::new(),
        }
    }

    fn panels<'a>(charts: &'a [Chart], name: &str) -> &'a [Panel] {
        match &charts.iter().find(|c| c.name == name).unwrap().body {
            Body::Panels(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scalability_has_one_line_per_policy_at_the_largest_other_axis() {
        use SchedulerName::{PerformanceBased as Pb, RoundRobin as Rr};
        let rows = [
            row(Rr, 5, 100, 1.0, 0.2),
            row(Rr, 10, 100, 2.0, 0.1),
            row(Rr, 10, 100, 4.0, 0.3),
            row(Rr, 5, 50, 9.0, 9.0),
            row(Pb, 5, 100, 1.5, 0.05),
        ];
        let (charts, notes) = bench_charts(&BenchmarkDoc::new(&rows, false, 1));
        let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["policy_comparison", "best_policy_map", "scalability"]
        );
        // No stored distribution: no CDF, and the report says why.
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("latency CDF: the file stores no latency distribution"));
        let p = panels(&charts, "scalability");
        assert_eq!(p.len(), 4, "no throughput panels");
        assert_eq!(p[0].title, "p95 turnaround against workers (100 tests)");
        let names: Vec<&str> = p[0].series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["performance_based", "round_robin"]);
        // Two rr cells at 10 workers are averaged; the 50-test cell is not on this line.
        assert_eq!(p[0].series[1].points, [(5.0, 1.0), (10.0, 3.0)]);
        assert_eq!(p[1].series[1].points, [(5.0, 0.2), (10.0, 0.2)]);
        // Against tests, at the most workers (10): only rr has cells there.
        assert_eq!(p[2].series.len(), 1);
        assert_eq!(p[2].series[0].points, [(100.0, 3.0)]);
        let (charts, notes) = bench_charts(&BenchmarkDoc::new(&[], false, 1));
        assert!(charts.is_empty() && notes.len() == 1);
    }

    #[test]
    fn the_cdf_is_the_stored_quantiles_of_the_cell_where_policies_differ_most() {
        use SchedulerName::{Fifo, RoundRobin as Rr};
        let quantiles = |scale: f64| (0..=100).map(|i| f64::from(i) * scale).collect();
        let mut rows = [
            row(Rr, 5, 100, 1.0, 0.2),
            row(Fifo, 5, 100, 1.0, 0.2),
            row(Rr, 50, 1000, 1.0, 0.2),
            row(Fifo, 50, 1000, 1.0, 0.2),
        ];
        rows[1].metrics.latency.p95 = 7.0;
        for (r, scale) in rows.iter_mut().zip([1.0, 2.0, 3.0, 3.0]) {
            r.latency_quantiles = quantiles(scale);
        }
        let (charts, _) = bench_charts(&BenchmarkDoc::new(&rows, false, 1));
        let chart = charts.iter().find(|c| c.name == "latency_cdf").unwrap();
        assert_eq!(
            chart.title,
            "Scheduling latency distribution (CDF): 5 workers × 100 tests, where the policies differ most"
        );
        let p = panels(&charts, "latency_cdf");
        let names: Vec<&str> = p[0].series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["round_robin", "fifo"], "SCHEDULERS order");
        let fifo = &p[0].series[1];
        assert!(fifo.step);
        assert_eq!(fifo.points.len(), 101);
        assert_eq!(
            (fifo.points[7], fifo.points[100]),
            ((14.0, 7.0), (200.0, 100.0))
        );
    }

    #[test]
    fn counts_in_titles_have_thousands_separated() {
        let shown: Vec<String> = [0, 999, 1_000, 10_000, 1_000_000].map(thousands).to_vec();
        assert_eq!(shown, ["0", "999", "1,000", "10,000", "1,000,000"]);
    }

    #[test]
    fn sweep_metrics_are_averaged_over_seeds() {
        let header: Vec<String> = ["scheduler", "workers", "seed", "avg_latency", "note"]
            .map(String::from)
            .to_vec();
        let rows: Vec<Vec<String>> = [
            ["rr", "5", "1", "1.0", "a"],
            ["rr", "5", "2", "3.0", "b"],
            ["rr", "10", "1", "0.5", "c"],
        ]
        .iter()
        .map(|r| r.map(String::from).to_vec())
        .collect();
        let (charts, _) = sweep_charts(&header, &rows);
        let Body::Panels(p) = &charts[0].body else {
            panic!()
        };
        assert_eq!(p.len(), 1, "the text column is not plotted");
        assert_eq!(p[0].series[0].points, [(5.0, 2.0), (10.0, 0.5)]);
    }
}
