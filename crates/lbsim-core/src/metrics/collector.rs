//! Collects per-test and per-bucket facts as the run goes, in memory that
//! grows with buckets, never with events, and with tests only up to a
//! bound: each distribution keeps one float per test up to
//! [`super::EXACT_SAMPLES`] tests and a fixed-size histogram past it
//! (see [`super::series`] for which figures are then approximate).

use super::samples::Sampler;
use super::series::Series;
use super::stats::{jain_index, sample_stddev, Percentiles};
use super::view::PoolView;
use super::{Distributions, Metrics, TimeSeries, WorkerRow};
use crate::balancer::model::Outcome;
use crate::balancer::{Assignment, TestRecord};
use crate::sim::{SimTime, MICROS_PER_SEC};

/// At most this many buckets per time series over the submission window;
/// longer windows get wider buckets.
pub(super) const MAX_BUCKETS: u64 = 10_000;

/// Bounded slowdown's floor on run time (seconds): very short runs would
/// otherwise turn a short wait into a huge ratio.
const SLOWDOWN_FLOOR_S: f64 = 1.0;

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    assignments: u32,
    first_latency_sum: f64,
    first_assignments: u32,
    completions: u32,
    arrivals: u32,
    pending: Option<u64>,
    workers: Option<u64>,
}

/// The running tally of one simulation.
#[derive(Debug)]
pub struct Collector {
    bucket_us: u64,
    buckets: Vec<Bucket>,
    /// The index and time range (µs, end exclusive) of the bucket touched
    /// last: events come in time order, so most land in it and need no
    /// division to find it.
    current: (usize, std::ops::Range<u64>),
    submitted: u64,
    assigned: u64,
    counts: [u64; 5],
    latencies: Series,
    waits: Series,
    turnarounds: Series,
    slowdowns: Series,
    attempts_sum: u64,
    completed_by_worker: Vec<u64>,
    sampler: Sampler,
    workers_joined: u64,
    workers_drained: u64,
    workers_failed: u64,
    tests_moved: u64,
}

impl Collector {
    /// `window_s` is the submission window; it sets the bucket width.
    pub fn new(window_s: f64) -> Self {
        let width_s = ((window_s / MAX_BUCKETS as f64).ceil() as u64).max(1);
        Collector {
            bucket_us: width_s * MICROS_PER_SEC,
            buckets: Vec::new(),
            current: (0, 0..0),
            submitted: 0,
            assigned: 0,
            counts: [0; 5],
            latencies: Series::default(),
            waits: Series::default(),
            turnarounds: Series::default(),
            slowdowns: Series::default(),
            attempts_sum: 0,
            completed_by_worker: Vec::new(),
            sampler: Sampler::new(width_s * MICROS_PER_SEC),
            workers_joined: 0,
            workers_drained: 0,
            workers_failed: 0,
            tests_moved: 0,
        }
    }

    #[inline]
    fn bucket(&mut self, t: SimTime) -> &mut Bucket {
        if !self.current.1.contains(&t.0) {
            let i = (t.0 / self.bucket_us) as usize;
            if i >= self.buckets.len() {
                self.buckets.resize(i + 1, Bucket::default());
            }
            let start = i as u64 * self.bucket_us;
            self.current = (i, start..start.saturating_add(self.bucket_us));
        }
        &mut self.buckets[self.current.0]
    }

    /// Counts a submitted test.
    #[inline]
    pub fn on_submit(&mut self) {
        self.submitted += 1;
    }

    /// A submission's time, for the arrivals series.
    #[inline]
    pub fn on_arrival(&mut self, now: SimTime) {
        self.bucket(now).arrivals += 1;
    }

    /// The pool's resources after a scheduling pass (sampled once a bucket).
    #[inline]
    pub fn on_pool(&mut self, now: SimTime, balancer: &impl PoolView) {
        self.sampler.observe(now, balancer);
    }

    /// A worker joined during the run (the initial pool is not counted).
    pub fn on_join(&mut self) {
        self.workers_joined += 1;
    }

    /// A worker started to leave gracefully.
    pub fn on_drain(&mut self) {
        self.workers_drained += 1;
    }

    /// A worker crashed.
    pub fn on_fail(&mut self) {
        self.workers_failed += 1;
    }

    /// A running test was moved to another worker (stealing, rebalancing).
    pub(crate) fn on_move(&mut self) {
        self.tests_moved += 1;
    }

    /// An assignment; `first_latency_s` is set when it is the test's first.
    #[inline]
    pub fn on_assign(&mut self, a: &Assignment, first_latency_s: Option<f64>) {
        let b = self.bucket(a.time);
        b.assignments += 1;
        if let Some(l) = first_latency_s {
            b.first_latency_sum += l;
            b.first_assignments += 1;
            self.assigned += 1;
        }
    }

    /// The state after a scheduling pass (the last one in a bucket wins).
    #[inline]
    pub fn on_state(&mut self, now: SimTime, pending: usize, active_workers: usize) {
        let b = self.bucket(now);
        b.pending = Some(pending as u64);
        b.workers = Some(active_workers as u64);
    }

    /// A test reached its final state (or the run ended around it).
    pub fn on_final(&mut self, r: &TestRecord) {
        let slot = match r.outcome {
            Outcome::Completed => 0,
            Outcome::Failed => 1,
            Outcome::Rejected => 2,
            Outcome::Pending => 3,
            Outcome::Running => 4,
        };
        self.counts[slot] += 1;
        if let Some(l) = r.latency_s() {
            self.latencies.push(l);
            self.attempts_sum += u64::from(r.attempts);
        }
        if r.outcome != Outcome::Rejected {
            self.waits.push(r.waited_us as f64 / MICROS_PER_SEC as f64);
        }
        if let (Some(turnaround), Some(start), Some(end)) =
            (r.turnaround_s(), r.started_at, r.finished_at)
        {
            self.turnarounds.push(turnaround);
            let run = (end - start).as_secs_f64().max(SLOWDOWN_FLOOR_S);
            self.slowdowns.push((turnaround / run).max(1.0));
        }
        if r.outcome == Outcome::Completed {
            if let Some(f) = r.finished_at {
                self.bucket(f).completions += 1;
            }
            if let Some(w) = r.worker {
                let i = w.0 as usize;
                if i >= self.completed_by_worker.len() {
                    self.completed_by_worker.resize(i + 1, 0);
                }
                self.completed_by_worker[i] += 1;
            }
        }
    }

    /// The summary, the time series, the worker table and the
    /// distributions at the end of the run.
    pub fn finish(
        mut self,
        balancer: &impl PoolView,
        end: SimTime,
    ) -> (Metrics, TimeSeries, Vec<WorkerRow>, Distributions) {
        let mut series = self.series(end);
        let sampler = std::mem::replace(&mut self.sampler, Sampler::new(self.bucket_us));
        series.resources = sampler.finish(balancer, end, series.throughput.len());
        let workers = self.worker_rows(balancer, end);
        // The metrics' percentiles come from the same selection as the
        // distributions' points, so the points at 0.5, 0.95 and 0.99 are
        // those figures.
        let (latency, latency_points) = self.latencies.percentiles_and_points();
        let (wait, wait_points) = self.waits.percentiles_and_points();
        let (turnaround, turnaround_points) = self.turnarounds.percentiles_and_points();
        let metrics = self.metrics(balancer, end, &series, [latency, wait, turnaround]);
        let distributions = Distributions {
            latency: latency_points,
            wait: wait_points,
            turnaround: turnaround_points,
        };
        (metrics, series, workers, distributions)
    }

    /// The run's summary: the reference's fields, then lbsim's, with the
    /// latency, wait and turnaround percentiles already worked out.
    fn metrics(
        &self,
        balancer: &impl PoolView,
        end: SimTime,
        series: &TimeSeries,
        [latency, wait, turnaround]: [Percentiles; 3],
    ) -> Metrics {
        let run_s = end.as_secs_f64().max(1e-9);
        let spread = Spread::of(balancer);
        let [completed, failed, rejected, pending, running] = self.counts;
        let (cap, use_) = utilisation(balancer, end);
        let peak = |xs: &[(u64, f64)]| xs.iter().map(|p| p.1).fold(0.0, f64::max);
        let assignments: u64 = self.buckets.iter().map(|b| u64::from(b.assignments)).sum();
        Metrics {
            total_tests: self.submitted,
            success_rate: pct(self.assigned, self.submitted),
            // Latencies are never negative, so the maximum is at least 0
            // (0 when there are none).
            avg_latency: latency.avg,
            max_latency: latency.max.max(0.0),
            min_latency: self.latencies.min().unwrap_or(0.0),
            peak_throughput: peak(&series.throughput),
            avg_throughput: assignments as f64 / run_s,
            worker_assignment_stddev: spread.stddev,
            worker_assignment_range: spread.range,
            worker_utilization: spread.used_fraction,
            avg_scheduling_attempts: if self.latencies.len() == 0 {
                0.0
            } else {
                self.attempts_sum as f64 / self.latencies.len() as f64
            },
            final_worker_count: balancer.active_workers() as u64,
            pending_tests: pending,
            assigned_tests: self.assigned,
            completed_tests: completed,
            failed_tests: failed,
            rejected_tests: rejected,
            running_tests: running,
            requeued_tests: balancer.requeued(),
            completion_success_rate: pct(completed, completed + failed),
            peak_completion_throughput: peak(&series.completions),
            avg_completion_throughput: completed as f64 / run_s,
            latency,
            wait,
            turnaround,
            slowdown: self.slowdowns.percentiles(),
            jain_fairness: spread.jain,
            cpu_utilization: ratio(use_[0], cap[0]),
            memory_utilization: ratio(use_[1], cap[1]),
            cuda_utilization: ratio(use_[2], cap[2]),
            workers_joined: self.workers_joined,
            workers_drained: self.workers_drained,
            workers_failed: self.workers_failed,
            tests_moved: self.tests_moved,
        }
    }

    fn series(&self, end: SimTime) -> TimeSeries {
        let width = self.bucket_us / MICROS_PER_SEC;
        let n = ((end.0 / self.bucket_us) as usize + 1).max(self.buckets.len());
        let mut s = TimeSeries {
            bucket_seconds: width,
            ..TimeSeries::default()
        };
        let (mut pending, mut workers) = (0, 0);
        for i in 0..n {
            let b = self.buckets.get(i).copied().unwrap_or_default();
            let t = i as u64 * width;
            s.throughput
                .push((t, f64::from(b.assignments) / width as f64));
            s.completions
                .push((t, f64::from(b.completions) / width as f64));
            s.arrivals.push((t, f64::from(b.arrivals) / width as f64));
            if b.first_assignments > 0 {
                s.latency
                    .push((t, b.first_latency_sum / f64::from(b.first_assignments)));
            }
            // Buckets with no pass carry the last known state forward.
            pending = b.pending.unwrap_or(pending);
            workers = b.workers.unwrap_or(workers);
            s.pending.push((t, pending));
            s.workers.push((t, workers));
        }
        s
    }

    fn worker_rows(&self, balancer: &impl PoolView, end: SimTime) -> Vec<WorkerRow> {
        balancer
            .workers()
            .iter()
            .map(|w| {
                let alive = (w.left_at.unwrap_or(end) - w.joined_at).0;
                WorkerRow {
                    id: w.id.to_string(),
                    memory_gb: w.spec.memory_gb,
                    cuda_devices: w.spec.cuda_devices,
                    cpu_cores: w.spec.cpu_cores,
                    joined_at: w.joined_at.as_secs_f64(),
                    left_at: w.left_at.map(SimTime::as_secs_f64),
                    status: w.status,
                    assignments: w.assignments,
                    completed: self
                        .completed_by_worker
                        .get(w.id.0 as usize)
                        .copied()
                        .unwrap_or(0),
                    memory_utilization: ratio(
                        w.usage.memory_mib_us as f64,
                        w.spec.memory_mib as f64 * alive as f64,
                    ),
                    busy_fraction: ratio(w.usage.busy_us as f64, alive as f64),
                }
            })
            .collect()
    }
}

/// How assignments spread over the workers (every worker ever registered).
struct Spread {
    stddev: f64,
    /// Most minus fewest assignments (0 with no workers).
    range: u64,
    /// Fraction of workers given at least one test.
    used_fraction: f64,
    jain: f64,
}

impl Spread {
    fn of(balancer: &impl PoolView) -> Spread {
        let per_worker: Vec<f64> = balancer
            .workers()
            .iter()
            .map(|w| w.assignments as f64)
            .collect();
        let used = per_worker.iter().filter(|&&a| a > 0.0).count();
        let (max_a, min_a) = per_worker.iter().fold((0u64, u64::MAX), |(mx, mn), &a| {
            (mx.max(a as u64), mn.min(a as u64))
        });
        let none = per_worker.is_empty();
        Spread {
            stddev: sample_stddev(&per_worker),
            range: if none { 0 } else { max_a - min_a },
            used_fraction: if none {
                0.0
            } else {
                used as f64 / per_worker.len() as f64
            },
            jain: jain_index(&per_worker),
        }
    }
}

/// Used and offered resource·time over the pool: [cpu, memory, cuda].
fn utilisation(balancer: &impl PoolView, end: SimTime) -> ([f64; 3], [f64; 3]) {
    let mut cap = [0.0; 3];
    let mut used = [0.0; 3];
    for w in balancer.workers() {
        let alive = (w.left_at.unwrap_or(end) - w.joined_at).0 as f64;
        cap[0] += f64::from(w.spec.cpu_cores) * alive;
        cap[1] += w.spec.memory_mib as f64 * alive;
        cap[2] += f64::from(w.spec.cuda_devices) * alive;
        used[0] += w.usage.cores_us as f64;
        used[1] += w.usage.memory_mib_us as f64;
        used[2] += w.usage.cuda_us as f64;
    }
    (cap, used)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}
