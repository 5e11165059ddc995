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
pub use samples::{MAX_HEAT_COLUMNS, MAX_HEAT_WORKERS};
pub use series::EXACT_SAMPLES;
pub use stats::{jain_index, percentile, quantile_points, sample_stddev, Percentiles};
pub use view::PoolView;

use serde::{Deserialize, Serialize};

/// The run's summary: the reference's 14 fields first, with the meanings
/// documented in the README, then lbsim's extensions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub total_tests: u64,
    pub success_rate: f64,
    pub avg_latency: f64,
    pub max_latency: f64,
    pub min_latency: f64,
    pub peak_throughput: f64,
    pub avg_throughput: f64,
    pub worker_assignment_stddev: f64,
    pub worker_assignment_range: u64,
    pub worker_utilization: f64,
    pub avg_scheduling_attempts: f64,
    pub final_worker_count: u64,
    pub pending_tests: u64,
    pub assigned_tests: u64,
    // --- extensions ---
    pub completed_tests: u64,
    pub failed_tests: u64,
    pub rejected_tests: u64,
    pub running_tests: u64,
    pub requeued_tests: u64,
    pub completion_success_rate: f64,
    pub peak_completion_throughput: f64,
    pub avg_completion_throughput: f64,
    /// Distributions over the tests. `avg` and `max` are always exact;
    /// p50, p95 and p99 are exact up to [`EXACT_SAMPLES`] values and within
    /// [`RELATIVE_ERROR`] past that (from a bounded histogram).
    pub latency: Percentiles,
    pub wait: Percentiles,
    pub turnaround: Percentiles,
    pub slowdown: Percentiles,
    pub jain_fairness: f64,
    pub cpu_utilization: f64,
    pub memory_utilization: f64,
    pub cuda_utilization: f64,
    pub workers_joined: u64,
    pub workers_drained: u64,
    pub workers_failed: u64,
    pub tests_moved: u64,
}

/// Throughput and latency per time bucket (a bucket is one simulated second
/// unless the run is longer than `MAX_BUCKETS` seconds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    pub bucket_seconds: u64,
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
    pub worker_busy: WorkerBusy,
}

/// Each worker's busy fraction (time running at least one test) per column
/// of a heat map, for the first `MAX_HEAT_WORKERS` workers and at most
/// `MAX_HEAT_COLUMNS` columns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerBusy {
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
    pub id: String,
    pub memory_gb: f64,
    pub cuda_devices: u32,
    pub cpu_cores: u32,
    pub joined_at: f64,
    pub left_at: Option<f64>,
    pub status: crate::balancer::model::WorkerStatus,
    pub assignments: u64,
    pub completed: u64,
    pub memory_utilization: f64,
    pub busy_fraction: f64,
}
