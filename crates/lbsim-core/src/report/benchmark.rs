//! The benchmark suite's outputs: the reference's JSON document
//! (`benchmark_results`, `full_suite`) and the printed table.

use super::json::{parse_json, read_json, write_json_file};
use crate::balancer::policy::SchedulerName;
use crate::error::Result;
use crate::metrics::Metrics;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

/// One cell of the grid, as the reference wrote it (plus the scheduler).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkRow {
    /// Workers in the pool.
    pub workers: u32,
    /// Tests submitted.
    pub tests: u64,
    /// The submission window, simulated seconds.
    pub duration: f64,
    /// The policy of this cell.
    pub scheduler: SchedulerName,
    /// The cell's run summary (as in a results file's `metrics`).
    pub metrics: Metrics,
    /// The cell's scheduling latency at the quantiles 0, 0.01, …, 1 (101
    /// values: the seconds of a results file's `distributions.latency`,
    /// without the quantiles, so a 504-cell `--full` file stays small), for
    /// the report's CDF (five percentiles are not a distribution). Empty
    /// when no test was assigned; absent in an older lbsim's file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latency_quantiles: Vec<f64>,
}

/// The whole suite's document (`lbsim benchmark --output`). Written from
/// borrowed rows; read back owned (`BenchmarkDoc<'static>`, see
/// [`BenchmarkDoc::read`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkDoc<'a> {
    /// One row per cell, in the order they ran.
    pub benchmark_results: Cow<'a, [BenchmarkRow]>,
    /// Always `null`: a wall-clock date would make two identical runs differ.
    pub timestamp: Option<String>,
    /// True for `--full` (every policy over the larger grid).
    pub full_suite: bool,
    /// The root seed of every cell.
    pub seed: u64,
    /// The lbsim version that wrote the file.
    pub lbsim_version: String,
}

impl<'a> BenchmarkDoc<'a> {
    /// The document of a finished grid (`full_suite`: the whole grid ran).
    pub fn new(rows: &'a [BenchmarkRow], full_suite: bool, seed: u64) -> Self {
        BenchmarkDoc {
            benchmark_results: Cow::Borrowed(rows),
            timestamp: None,
            full_suite,
            seed,
            lbsim_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Writes the file at `path`, whole or not at all.
    pub fn write_file(&self, path: &Path) -> Result<()> {
        write_json_file(path, self)
    }
}

impl BenchmarkDoc<'static> {
    /// Reads a benchmark file; one that is not a benchmark document is bad
    /// input naming the file and the field path.
    pub fn read(path: &Path) -> Result<BenchmarkDoc<'static>> {
        read_json(path)
    }

    /// [`BenchmarkDoc::read`] from text already read (`file` names it).
    pub fn parse(file: &str, text: &str) -> Result<BenchmarkDoc<'static>> {
        parse_json(file, text)
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
