//! The policy comparison behind the benchmark report: for each cell of a
//! benchmark grid or a sweep (a point of every axis but the scheduler),
//! each policy's p95 turnaround, p95 scheduling latency and Jain fairness,
//! and how far each is from the best policy of that cell.
//!
//! Built from the rows alone, so the same file always gives the same
//! comparison; repeated (cell, policy) rows (seeds, replications, merged
//! files) are averaged.

use crate::balancer::policy::{SchedulerName, SCHEDULERS};
use crate::report::BenchmarkRow;
use std::collections::BTreeMap;

/// What a policy is judged on, in the order the report shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Criterion {
    TurnaroundP95,
    LatencyP95,
    Fairness,
}

impl Criterion {
    pub(crate) const ALL: [Criterion; 3] = [
        Criterion::TurnaroundP95,
        Criterion::LatencyP95,
        Criterion::Fairness,
    ];

    /// The name in tables and titles.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Criterion::TurnaroundP95 => "p95 turnaround",
            Criterion::LatencyP95 => "p95 scheduling latency",
            Criterion::Fairness => "Jain fairness",
        }
    }

    /// The sweep CSV column it is read from.
    pub(crate) fn column(self) -> &'static str {
        match self {
            Criterion::TurnaroundP95 => "turnaround_p95",
            Criterion::LatencyP95 => "latency_p95",
            Criterion::Fairness => "jain_fairness",
        }
    }

    /// Times: lower is better; fairness: higher is better.
    pub(crate) fn lower_is_better(self) -> bool {
        !matches!(self, Criterion::Fairness)
    }

    /// Values below this count as this much when taking a ratio: a time
    /// under 1 ms (an idle pool's zero latency) is as good as 1 ms, so a
    /// best of 0 s does not make every other policy infinitely worse.
    fn floor(self) -> f64 {
        1e-3
    }

    fn of(self, r: &BenchmarkRow) -> f64 {
        match self {
            Criterion::TurnaroundP95 => r.metrics.turnaround.p95,
            Criterion::LatencyP95 => r.metrics.latency.p95,
            Criterion::Fairness => r.metrics.jain_fairness,
        }
    }
}

/// One policy's figures in one cell, averaged over its runs there.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// By [`Criterion::ALL`] order.
    pub(crate) values: [f64; 3],
    /// Share of tests scheduled (percent), when the file has it.
    pub(crate) success_rate: Option<f64>,
    /// Rows averaged.
    pub(crate) runs: u32,
}

/// One cell: every axis value but the scheduler.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cell {
    /// `workers`, `tests` when the grid has them (the sort keys).
    pub(crate) workers: Option<f64>,
    pub(crate) tests: Option<f64>,
    /// Every axis as `name=value`, for tables.
    pub(crate) label: String,
    /// The values of the axes other than workers and tests (`bursts`).
    pub(crate) rest: String,
    /// By `Comparison::policies` index; `None`: the policy did not run here.
    pub(crate) entries: Vec<Option<Entry>>,
}

/// Policies × cells.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Comparison {
    /// The policies in the file, in `SCHEDULERS` order.
    pub(crate) policies: Vec<SchedulerName>,
    /// Ordered by workers, then tests, then label.
    pub(crate) cells: Vec<Cell>,
    /// The names of the axes in `Cell::rest` (`arrivals.type`).
    pub(crate) rest_axes: String,
}

/// Two figures this close (relative) are a tie.
const TIE: f64 = 1e-9;

fn ties(a: f64, b: f64) -> bool {
    (a - b).abs() <= TIE * a.abs().max(b.abs()).max(1.0)
}

impl Comparison {
    /// The index of `policy` among `policies`.
    fn column(&self, policy: SchedulerName) -> Option<usize> {
        self.policies.iter().position(|&p| p == policy)
    }

    /// The best figure of `c` in `cell` among the policies that ran there.
    pub(crate) fn best(&self, cell: &Cell, c: Criterion) -> Option<f64> {
        let i = index(c);
        let values = cell.entries.iter().flatten().map(|e| e.values[i]);
        let values = values.filter(|v| v.is_finite());
        if c.lower_is_better() {
            values.reduce(f64::min)
        } else {
            values.reduce(f64::max)
        }
    }

    /// The policies at the best figure of `c` in `cell` (several on a tie).
    pub(crate) fn winners(&self, cell: &Cell, c: Criterion) -> Vec<SchedulerName> {
        let Some(best) = self.best(cell, c) else {
            return Vec::new();
        };
        let i = index(c);
        (self.policies.iter().zip(&cell.entries))
            .filter(|(_, e)| e.as_ref().is_some_and(|e| ties(e.values[i], best)))
            .map(|(&p, _)| p)
            .collect()
    }

    /// How many times worse than the cell's best `policy` is on `c`: 1 for
    /// the best, more for the others (`worse / best` for times, `best /
    /// worse` for fairness; values under 1 ms or 0.001 count as that).
    pub(crate) fn ratio(&self, cell: &Cell, policy: SchedulerName, c: Criterion) -> Option<f64> {
        let entry = cell.entries.get(self.column(policy)?)?.as_ref()?;
        let best = self.best(cell, c)?;
        let v = entry.values[index(c)];
        if !v.is_finite() {
            return None;
        }
        let (v, best) = (v.max(c.floor()), best.max(c.floor()));
        Some(if c.lower_is_better() {
            v / best
        } else {
            best / v
        })
    }
}

/// The position of `c` in [`Criterion::ALL`].
pub(super) fn index(c: Criterion) -> usize {
    Criterion::ALL.iter().position(|&x| x == c).unwrap_or(0)
}

/// Sums of one (cell, policy)'s runs.
#[derive(Default)]
struct Sums {
    values: [f64; 3],
    success: Option<f64>,
    runs: u32,
}

impl Sums {
    fn add(&mut self, values: [f64; 3], success: Option<f64>) {
        for (s, v) in self.values.iter_mut().zip(values) {
            *s += v;
        }
        self.success = match (self.success, success) {
            (Some(a), Some(b)) => Some(a + b),
            (None, b) if self.runs == 0 => b,
            _ => None,
        };
        self.runs += 1;
    }

    fn mean(&self) -> Entry {
        let n = f64::from(self.runs.max(1));
        Entry {
            values: self.values.map(|v| v / n),
            success_rate: self.success.map(|s| s / n),
            runs: self.runs,
        }
    }
}

/// A cell's identity while grouping: sort keys, the label, the rest.
type CellKey = (Option<OrdF>, Option<OrdF>, String, String);

/// An f64 that sorts (`total_cmp`), for cell keys.
#[derive(Clone, Copy, Debug, PartialEq)]
struct OrdF(f64);
impl Eq for OrdF {}
impl PartialOrd for OrdF {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// Groups `(cell key, policy, values, success)` into a comparison.
fn build(
    points: impl Iterator<Item = (CellKey, SchedulerName, [f64; 3], Option<f64>)>,
    rest_axes: String,
) -> Comparison {
    let mut groups: BTreeMap<CellKey, BTreeMap<usize, Sums>> = BTreeMap::new();
    for (key, policy, values, success) in points {
        let slot = groups.entry(key).or_default();
        slot.entry(policy as usize)
            .or_default()
            .add(values, success);
    }
    let mut seen: Vec<usize> = groups.values().flat_map(|g| g.keys().copied()).collect();
    seen.sort_unstable();
    seen.dedup();
    let policies: Vec<SchedulerName> = seen.iter().map(|&i| SCHEDULERS[i].name).collect();
    let cells = groups
        .into_iter()
        .map(|((w, t, label, rest), g)| Cell {
            workers: w.map(|x| x.0),
            tests: t.map(|x| x.0),
            label,
            rest,
            entries: seen.iter().map(|i| g.get(i).map(Sums::mean)).collect(),
        })
        .collect();
    Comparison {
        policies,
        cells,
        rest_axes,
    }
}

/// The comparison of a benchmark grid's rows.
pub(super) fn from_benchmark(rows: &[BenchmarkRow]) -> Comparison {
    build(
        rows.iter().map(|r| {
            let (w, t) = (f64::from(r.workers), r.tests as f64);
            let key = (
                Some(OrdF(w)),
                Some(OrdF(t)),
                bench_label(r.workers, r.tests),
                String::new(),
            );
            let values = Criterion::ALL.map(|c| c.of(r));
            (key, r.scheduler, values, Some(r.metrics.success_rate))
        }),
        String::new(),
    )
}

/// "20 workers × 500 tests".
pub(super) fn bench_label(workers: u32, tests: u64) -> String {
    format!(
        "{} workers × {} tests",
        super::grid::thousands(u64::from(workers)),
        super::grid::thousands(tests)
    )
}

/// Columns of a sweep CSV that are not axes of a cell.
const NOT_AXES: [&str; 5] = ["cell", "point", "scheduler", "replication", "cell_key"];

/// The comparison of a sweep CSV's rows, or why there is none. The axes
/// are the columns before `seed` (but `cell`, `point`, `scheduler`,
/// `replication`); rows whose policy or figures do not parse are left out
/// and counted in the note.
pub(super) fn from_sweep(
    header: &[String],
    rows: &[Vec<String>],
) -> Result<(Comparison, Option<String>), String> {
    let col = |name: &str| header.iter().position(|h| h == name);
    let scheduler = col("scheduler").ok_or("the sweep has no 'scheduler' column")?;
    let seed = col("seed").unwrap_or(header.len());
    let figures: Vec<usize> = Criterion::ALL
        .iter()
        .map(|c| col(c.column()).ok_or(format!("the sweep has no '{}' column", c.column())))
        .collect::<Result<_, _>>()?;
    let axes: Vec<usize> = (0..seed)
        .filter(|&i| !NOT_AXES.contains(&header[i].as_str()))
        .collect();
    let rest: Vec<usize> = (axes.iter().copied())
        .filter(|&i| !["workers", "tests"].contains(&header[i].as_str()))
        .collect();
    let rest_axes: Vec<&str> = rest.iter().map(|&i| header[i].as_str()).collect();
    let success = col("success_rate");
    let num = |r: &Vec<String>, i: usize| r.get(i).and_then(|c| c.trim().parse::<f64>().ok());
    let mut left_out = 0;
    let mut points = Vec::new();
    for r in rows {
        let policy = r
            .get(scheduler)
            .and_then(|s| SchedulerName::parse(s.trim()).ok());
        let values = [num(r, figures[0]), num(r, figures[1]), num(r, figures[2])];
        let (Some(policy), [Some(a), Some(b), Some(c)]) = (policy, values) else {
            left_out += 1;
            continue;
        };
        let axis = |name: &str| {
            col(name)
                .filter(|i| axes.contains(i))
                .and_then(|i| num(r, i))
                .map(OrdF)
        };
        let label: Vec<String> = axes
            .iter()
            .map(|&i| format!("{}={}", header[i], r.get(i).map_or("", |v| v.trim())))
            .collect();
        let value = |i: usize| r.get(i).map_or("", |v| v.trim());
        let others: Vec<&str> = rest.iter().map(|&i| value(i)).collect();
        let key = (
            axis("workers"),
            axis("tests"),
            label.join(", "),
            others.join(", "),
        );
        points.push((key, policy, [a, b, c], success.and_then(|i| num(r, i))));
    }
    let note = (left_out > 0).then(|| {
        format!("policy comparison: {left_out} sweep rows left out (a scheduler lbsim does not know, or a figure that is not a number)")
    });
    Ok((build(points.into_iter(), rest_axes.join(", ")), note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visualize::fixtures::metrics;
    use SchedulerName::{Fifo, RoundRobin as Rr};

    fn row(
        s: SchedulerName,
        workers: u32,
        tests: u64,
        turnaround: f64,
        latency: f64,
        jain: f64,
    ) -> BenchmarkRow {
        let mut m = metrics(1.0, 1.0);
        (m.turnaround.p95, m.latency.p95, m.jain_fairness) = (turnaround, latency, jain);
        BenchmarkRow {
            workers,
            tests,
            duration: 10.0,
            scheduler: s,
            metrics: m,
            latency_quantiles: Vec::new(),
        }
    }

    #[test]
    fn cells_go_by_workers_then_tests_and_ratios_are_to_the_best() {
        let rows = [
            row(Rr, 20, 100, 4.0, 0.0, 0.5),
            row(Fifo, 5, 1000, 9.0, 2.0, 0.9),
            row(Fifo, 20, 100, 2.0, 0.0, 1.0),
            row(Rr, 5, 1000, 3.0, 4.0, 0.9),
            row(Rr, 5, 1000, 5.0, 4.0, 0.9),
        ];
        let c = from_benchmark(&rows);
        assert_eq!(c.policies, [Rr, Fifo], "SCHEDULERS order");
        let labels: Vec<&str> = c.cells.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            ["5 workers × 1,000 tests", "20 workers × 100 tests"]
        );
        let (small, big) = (&c.cells[0], &c.cells[1]);
        assert_eq!(small.entries[0].as_ref().unwrap().runs, 2, "averaged");
        assert_eq!(c.ratio(small, Rr, Criterion::TurnaroundP95), Some(1.0));
        assert_eq!(c.ratio(small, Fifo, Criterion::TurnaroundP95), Some(2.25));
        assert_eq!(c.winners(small, Criterion::LatencyP95), [Fifo]);
        assert_eq!(c.ratio(big, Rr, Criterion::Fairness), Some(2.0));
        // Both at 0 s latency: a tie, each 1× the best.
        assert_eq!(c.winners(big, Criterion::LatencyP95), [Rr, Fifo]);
        assert_eq!(c.ratio(big, Rr, Criterion::LatencyP95), Some(1.0));
        assert_eq!(c.winners(small, Criterion::Fairness), [Rr, Fifo]);
    }

    #[test]
    fn a_sweep_groups_by_its_axes_and_averages_replications() {
        let header: Vec<String> = [
            "cell",
            "point",
            "scheduler",
            "workers",
            "replication",
            "seed",
            "latency_p95",
            "turnaround_p95",
            "jain_fairness",
        ]
        .map(String::from)
        .to_vec();
        let rows: Vec<Vec<String>> = [
            ["0", "0", "fifo", "10", "0", "1", "1", "10", "0.5"],
            ["1", "0", "fifo", "10", "1", "2", "3", "20", "0.7"],
            ["2", "1", "round_robin", "10", "0", "1", "1", "12", "0.9"],
            ["3", "2", "nope", "10", "0", "1", "1", "1", "1"],
            ["4", "3", "fifo", "5", "0", "1", "x", "1", "1"],
        ]
        .iter()
        .map(|r| r.map(String::from).to_vec())
        .collect();
        let (c, note) = from_sweep(&header, &rows).unwrap();
        assert!(note.unwrap().contains("2 sweep rows left out"));
        assert_eq!(c.cells.len(), 1);
        assert_eq!(c.cells[0].label, "workers=10");
        assert_eq!((c.cells[0].rest.as_str(), c.rest_axes.as_str()), ("", ""));
        let fifo = c.cells[0].entries[c.column(Fifo).unwrap()]
            .as_ref()
            .unwrap();
        assert_eq!(fifo.values, [15.0, 2.0, 0.6]);
        assert_eq!(c.winners(&c.cells[0], Criterion::TurnaroundP95), [Rr]);
        let err = from_sweep(&header[..6], &rows).unwrap_err();
        assert_eq!(err, "the sweep has no 'turnaround_p95' column");
    }
}
