//! Facts collected during a run, and their summary. Nothing here prints or
//! writes files.

mod collector;
mod histogram;
mod order_key;
mod samples;
mod select;
mod series;
mod stats;
mod view;

pub use collector::Collector;
pub use histogram::RELATIVE_ERROR;
pub use samples::MAX_HEAT_COLUMNS;
pub use series::EXACT_SAMPLES;
pub(crate) use stats::sample_stddev;
pub use stats::{percentile, Percentiles};
pub use view::PoolView;

use serde::{Deserialize, Serialize};

/// The run's summary: the reference's 14 fields first, with the meanings
/// documented in the README, then lbsim's extensions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Tests submitted.
    pub total_tests: u64,
    /// % of submitted tests that were scheduled (assigned to a worker).
    pub success_rate: f64,
    /// Mean scheduling latency, seconds: first assignment − submission.
    pub avg_latency: f64,
    /// Longest scheduling latency, seconds.
    pub max_latency: f64,
    /// Shortest scheduling latency, seconds.
    pub min_latency: f64,
    /// Assignments per simulated second in the busiest bucket.
    pub peak_throughput: f64,
    /// Assignments per simulated second over the run.
    pub avg_throughput: f64,
    /// Sample standard deviation of per-worker assignment counts (how evenly work spread).
    pub worker_assignment_stddev: f64,
    /// Max − min of per-worker assignment counts.
    pub worker_assignment_range: u64,
    /// Fraction of the workers ever in the pool that received at least one test.
    pub worker_utilization: f64,
    /// Mean attempts per assigned test, the successful one included.
    pub avg_scheduling_attempts: f64,
    /// Active workers at the end.
    pub final_worker_count: u64,
    /// Tests still pending at the end.
    pub pending_tests: u64,
    /// Tests ever assigned.
    pub assigned_tests: u64,
    // --- extensions ---
    /// Tests that ended completed.
    pub completed_tests: u64,
    /// Tests that ended failed (their retries spent).
    pub failed_tests: u64,
    /// Tests refused at submission (no worker shape could hold them).
    pub rejected_tests: u64,
    /// Tests still running at the end.
    pub running_tests: u64,
    /// Tests sent back to pending at least once (a worker left or failed).
    pub requeued_tests: u64,
    /// completed / (completed + failed), %.
    pub completion_success_rate: f64,
    /// Completions per simulated second in the busiest bucket.
    pub peak_completion_throughput: f64,
    /// Completions per simulated second over the run.
    pub avg_completion_throughput: f64,
    /// Distributions over the tests. `avg` and `max` are always exact;
    /// p50, p95 and p99 are exact up to [`EXACT_SAMPLES`] values and within
    /// [`RELATIVE_ERROR`] past that (from a bounded histogram).
    pub latency: Percentiles,
    /// Total time pending.
    pub wait: Percentiles,
    /// Finish − submission.
    pub turnaround: Percentiles,
    /// Turnaround / max(run, 1 s), at least 1: a ratio.
    pub slowdown: Percentiles,
    /// Jain's index over per-worker assignments (1: perfectly even).
    pub jain_fairness: f64,
    /// CPU-seconds used / offered.
    pub cpu_utilization: f64,
    /// Memory-seconds used / offered.
    pub memory_utilization: f64,
    /// CUDA-device-seconds used / offered.
    pub cuda_utilization: f64,
    /// Workers that joined during the run (churn).
    pub workers_joined: u64,
    /// Workers that started to leave gracefully (drained).
    pub workers_drained: u64,
    /// Workers that failed (their tests were requeued).
    pub workers_failed: u64,
    /// Runs moved by work stealing or rebalancing.
    pub tests_moved: u64,
}

/// Throughput and latency per time bucket (a bucket is one simulated second
/// unless the run is longer than `MAX_BUCKETS` seconds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    /// Seconds per bucket (1 unless the run is longer than `MAX_BUCKETS` seconds).
    pub(crate) bucket_seconds: u64,
    /// `[bucket start s, tests scheduled per second]`.
    pub throughput: Vec<(u64, f64)>,
    /// `[bucket start s, mean scheduling latency of tests first assigned in it]`
    /// (buckets with no first assignment are left out).
    pub latency: Vec<(u64, f64)>,
    /// `[bucket start s, tests completed per second]`.
    pub completions: Vec<(u64, f64)>,
    /// `[bucket start s, pending tests at the bucket's end]`.
    pub pending: Vec<(u64, u64)>,
    /// `[bucket start s, active workers at the bucket's end]`.
    pub workers: Vec<(u64, u64)>,
    /// `[bucket start s, tests submitted per second]`.
    // Absent from files of lbsim before these samples: read as empty.
    #[serde(default)]
    pub arrivals: Vec<(u64, f64)>,
    #[serde(flatten)]
    /// The resource samples, written beside the others in the same object.
    pub resources: ResourceSeries,
}

/// The pool's resources over time, sampled at the first scheduling pass in
/// each bucket (the pool only changes at passes, so a bucket without one
/// keeps the last sample). For charts; fractions 0–1.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
// Absent from files of lbsim before these samples: read as empty.
#[serde(default)]
pub struct ResourceSeries {
    /// `[bucket start s, memory in use / memory of the workers online]`.
    pub memory_utilization: Vec<(u64, f64)>,
    /// `[bucket start s, CUDA devices in use / devices online]`.
    pub cuda_utilization: Vec<(u64, f64)>,
    /// `[bucket start s, memory free while tests were pending / memory online]`:
    /// capacity the queue could not use (fragmented or the wrong shape).
    pub stranded_memory: Vec<(u64, f64)>,
    /// Each worker's busy fraction per column, for the heat map.
    pub worker_busy: WorkerBusy,
}

/// Each worker's busy fraction (time running at least one test) per column
/// of a heat map, for the first `MAX_HEAT_WORKERS` workers and at most
/// `MAX_HEAT_COLUMNS` columns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerBusy {
    /// Simulated seconds per column.
    pub column_seconds: f64,
    /// Worker ids, one per row of `busy`.
    pub workers: Vec<String>,
    /// `busy[row][column]`; null where the worker was not in the pool.
    pub busy: Vec<Vec<Option<f64>>>,
}

/// Whole distributions, for charts that need more than five percentiles
/// (a real latency CDF): `[quantile, simulated seconds]` at the quantiles
/// 0, 0.01, …, 1 (101 points) of every test's value, nearest-rank like
/// [`Percentiles`] (the points at 0.5, 0.95 and 0.99 are p50, p95 and p99).
/// Filled at the end of every run from the samples the metrics come from:
/// exact while a distribution holds at most [`EXACT_SAMPLES`] values, past
/// that from a histogram within [`RELATIVE_ERROR`] (the points at 0 and 1
/// stay exact; see `series`). A distribution with no samples is empty, and a document whose
/// distributions are all empty (an older lbsim's) leaves them out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Distributions {
    /// Scheduling latency of every test assigned at least once.
    pub latency: Vec<(f64, f64)>,
    /// Time from submission to the start of the last run.
    pub wait: Vec<(f64, f64)>,
    /// Time from submission to the final state.
    pub turnaround: Vec<(f64, f64)>,
}

impl Distributions {
    /// True when no distribution holds a point.
    pub fn is_empty(&self) -> bool {
        self.latency.is_empty() && self.wait.is_empty() && self.turnaround.is_empty()
    }
}

/// One row of the per-worker table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerRow {
    /// The worker's id, as the outputs name it.
    pub id: String,
    /// Its memory, GB.
    pub memory_gb: f64,
    /// Its CUDA devices.
    pub cuda_devices: u32,
    /// Its CPU cores.
    pub cpu_cores: u32,
    /// When it joined, simulated seconds.
    pub joined_at: f64,
    /// When it left, if it did.
    pub left_at: Option<f64>,
    /// Its state at the end.
    pub status: crate::balancer::model::WorkerStatus,
    /// Tests assigned to it (a requeued test counts again).
    pub assignments: u64,
    /// Tests it completed.
    pub completed: u64,
    /// Its memory-seconds used / offered while in the pool.
    pub memory_utilization: f64,
    /// Fraction of its time in the pool running at least one test.
    pub(crate) busy_fraction: f64,
}
