//! The benchmark suite's outputs: the reference's JSON document
//! (`benchmark_results`, `full_suite`) and the printed table.

use crate::balancer::policy::SchedulerName;
use crate::metrics::Metrics;
use serde::Serialize;
use std::fmt::Write;

/// One cell of the grid, as the reference wrote it (plus the scheduler).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchmarkRow {
    pub workers: u32,
    pub tests: u64,
    pub duration: f64,
    pub scheduler: SchedulerName,
    pub metrics: Metrics,
}

/// The whole suite's document. `timestamp` stays null: a wall-clock date
/// would make two identical runs differ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchmarkDoc<'a> {
    pub benchmark_results: &'a [BenchmarkRow],
    pub timestamp: Option<String>,
    pub full_suite: bool,
    pub seed: u64,
    pub lbsim_version: &'static str,
}

impl<'a> BenchmarkDoc<'a> {
    pub fn new(rows: &'a [BenchmarkRow], full_suite: bool, seed: u64) -> Self {
        BenchmarkDoc {
            benchmark_results: rows,
            timestamp: None,
            full_suite,
            seed,
            lbsim_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The table header (printed before the first row, so `--full` shows
/// progress as it goes).
pub fn table_header() -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:>7} {:>8} {:<18} {:>9} {:>11} {:>11} {:>8}",
        "workers", "tests", "scheduler", "peak/s", "avg lat s", "p99 lat s", "success"
    );
    t
}

/// One table row.
pub fn table_row(r: &BenchmarkRow) -> String {
    format!(
        "{:>7} {:>8} {:<18} {:>9.0} {:>11.3} {:>11.3} {:>7.1}%\n",
        r.workers,
        r.tests,
        r.scheduler.as_str(),
        r.metrics.peak_throughput,
        r.metrics.avg_latency,
        r.metrics.latency.p99,
        r.metrics.success_rate
    )
}
