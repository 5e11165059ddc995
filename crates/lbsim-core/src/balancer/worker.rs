//! One worker's live state: what it holds, how loaded it is, what it has done.

use super::leaf::{LeafData, RANK_KEYS};
use super::model::{
    LoadDrift, Shape, TestId, Thermal, Utilisation, WorkerId, WorkerSpec, WorkerStatus,
};
use crate::sim::SimTime;

/// No worker takes a new test above this effective load (the reference's
/// hard-coded capacity gate in `has_capacity_for`).
pub(crate) const CAPACITY_GATE: f64 = 0.9;

/// Performance levels while warming or cooling. The reference's formula
/// used a constant "elapsed" time, so its level was in effect these values.
pub(super) const WARMING_LEVEL: f64 = 0.8;
pub(super) const COOLING_LEVEL: f64 = 0.85;

/// Run-time history of one worker, normalised by each test's expected
/// duration so tests of any length and type are comparable. (The original
/// kept history per test type and, through an SQLite `:memory:` bug, never
/// kept it at all.)
///
/// The scores derived from it are kept beside the counts and recomputed by
/// `record`, its only writer: every index refresh reads all three, and a
/// worker's history changes once per run while its leaf is refreshed twice
/// or more (start, end, drift, thermal phases).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct History {
    samples: u64,
    successes: u64,
    /// Mean of actual / expected run time over successful runs.
    mean_time_ratio: f64,
    /// `parts()`, as of the last `record`.
    parts: Option<(f64, f64)>,
    /// `score()`, as of the last `record`.
    score: f64,
    /// The speed part of `priority_based`'s score (see `WorkerState::speed_score_at`).
    speed: f64,
    /// The balanced part of `priority_based`'s score.
    balanced: f64,
}

impl Default for History {
    fn default() -> Self {
        let mut h = History {
            samples: 0,
            successes: 0,
            mean_time_ratio: 0.0,
            parts: None,
            score: 0.0,
            speed: 0.0,
            balanced: 0.0,
        };
        h.derive();
        h
    }
}

impl History {
    pub fn record(&mut self, success: bool, time_ratio: f64) {
        self.samples += 1;
        if success {
            self.successes += 1;
            self.mean_time_ratio += (time_ratio - self.mean_time_ratio) / self.successes as f64;
        }
        self.derive();
    }

    /// Recomputes the derived scores from the counts.
    fn derive(&mut self) {
        self.parts = self.compute_parts();
        self.score = self.compute_score();
        self.speed = self.parts.map_or(0.5, |(s, t)| 0.2 * s + 0.6 * t);
        self.balanced = self.parts.map_or(0.5, |(s, t)| 0.3 * s + 0.3 * t);
    }

    /// Success rate and time score, or `None` with no samples.
    /// `time_score = clamp01(1 − (actual/expected − 1)/3)`, as in the reference.
    pub fn parts(&self) -> Option<(f64, f64)> {
        self.parts
    }

    fn compute_parts(&self) -> Option<(f64, f64)> {
        if self.samples == 0 {
            return None;
        }
        let success = self.successes as f64 / self.samples as f64;
        let time = if self.successes == 0 {
            0.0
        } else {
            (1.0 - (self.mean_time_ratio - 1.0) / 3.0).clamp(0.0, 1.0)
        };
        Some((success, time))
    }

    /// The reference's history score: 0.3·success + 0.3·time + 0.1·experience
    /// (at most 0.7), or 0.5 for a worker with no history.
    pub fn score(&self) -> f64 {
        self.score
    }

    fn compute_score(&self) -> f64 {
        if self.samples == 0 {
            return 0.5;
        }
        let success_rate = self.successes as f64 / self.samples as f64;
        let time_score = if self.successes == 0 {
            0.0
        } else {
            (1.0 - (self.mean_time_ratio - 1.0) / 3.0).clamp(0.0, 1.0)
        };
        let experience = (self.samples as f64 / 10.0).min(1.0);
        0.3 * success_rate + 0.3 * time_score + 0.1 * experience
    }
}

/// Resources a worker gave to tests, integrated over time (integer
/// MiB·µs and device·µs, so sums are exact and order-independent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub(crate) memory_mib_us: u128,
    pub(crate) cuda_us: u128,
    pub(crate) cores_us: u128,
    /// Time with at least one test running.
    pub(crate) busy_us: u64,
    /// When the worker last went from idle to busy (`None` while idle).
    pub busy_since: Option<SimTime>,
}

impl Usage {
    /// Books a run of `shape` that lasted `run_us` microseconds.
    pub fn add_run(&mut self, shape: &Shape, run_us: u64) {
        self.memory_mib_us += u128::from(shape.memory_mib) * u128::from(run_us);
        self.cuda_us += u128::from(shape.cuda_devices) * u128::from(run_us);
        self.cores_us += u128::from(shape.cpu_cores) * u128::from(run_us);
    }

    /// Ends a busy stretch at `now` (nothing if it was idle).
    pub fn close_busy(&mut self, now: SimTime) {
        if let Some(since) = self.busy_since.take() {
            self.busy_us += (now - since).0;
        }
    }
}

/// A worker as the balancer sees it.
#[derive(Clone, Debug)]
pub struct WorkerState {
    /// Its id (its place in join order).
    pub id: WorkerId,
    /// What it offers.
    pub spec: WorkerSpec,
    /// Whether it takes work, drains or is gone.
    pub status: WorkerStatus,
    /// When it registered.
    pub joined_at: SimTime,
    /// When it went offline (`None` while it is not).
    pub left_at: Option<SimTime>,
    /// Memory booked by its running tests, MiB.
    pub used_memory_mib: u64,
    /// CUDA devices booked by its running tests.
    pub used_cuda: u32,
    /// CPU cores booked by its running tests.
    pub used_cores: u32,
    /// Tests running here, in start order.
    pub running: Vec<TestId>,
    /// Load beyond what its runs cause (the environment).
    pub drift: LoadDrift,
    /// Its thermal phase.
    pub thermal: Thermal,
    /// How its past runs went (feeds the performance score).
    pub history: History,
    /// Tests ever assigned here.
    pub assignments: u64,
    /// Resource use over time, for the utilisation report.
    pub usage: Usage,
}

/// 1.0 normally, lower while warming or cooling.
#[inline]
pub(crate) fn performance_level_in(thermal: Thermal) -> f64 {
    match thermal {
        Thermal::Normal => 1.0,
        Thermal::Warming { .. } => WARMING_LEVEL,
        Thermal::Cooling { .. } => COOLING_LEVEL,
    }
}

impl WorkerState {
    /// A worker that joins at `now`, active and idle.
    pub fn new(id: WorkerId, spec: WorkerSpec, now: SimTime) -> Self {
        WorkerState {
            id,
            spec,
            status: WorkerStatus::Active,
            joined_at: now,
            left_at: None,
            used_memory_mib: 0,
            used_cuda: 0,
            used_cores: 0,
            running: Vec::new(),
            drift: LoadDrift::default(),
            thermal: Thermal::Normal,
            history: History::default(),
            assignments: 0,
            usage: Usage::default(),
        }
    }

    /// Books a test's resources and starts its run here.
    pub(super) fn start(&mut self, test: TestId, shape: &Shape, now: SimTime) {
        self.used_memory_mib += shape.memory_mib;
        self.used_cuda += shape.cuda_devices;
        self.used_cores += shape.cpu_cores;
        debug_assert!(
            self.used_memory_mib <= self.spec.memory_mib
                && self.used_cuda <= self.spec.cuda_devices
                && self.used_cores <= self.spec.cpu_cores,
            "{} is over capacity after {test}",
            self.id
        );
        if self.running.is_empty() {
            self.usage.busy_since = Some(now);
        }
        self.running.push(test);
    }

    /// Frees a test's resources; it ran here for `run_us`.
    pub(super) fn stop(&mut self, test: TestId, shape: &Shape, run_us: u64, now: SimTime) {
        self.used_memory_mib -= shape.memory_mib;
        self.used_cuda -= shape.cuda_devices;
        self.used_cores -= shape.cpu_cores;
        // The last run first: a lost worker's runs leave from the end, so
        // requeueing a worker with many runs stays linear.
        if self.running.last() == Some(&test) {
            self.running.pop();
        } else if let Some(pos) = self.running.iter().position(|&r| r == test) {
            self.running.remove(pos);
        }
        self.usage.add_run(shape, run_us);
        if self.running.is_empty() {
            self.usage.close_busy(now);
        }
    }

    /// Memory free for new tests, MiB.
    pub fn free_memory_mib(&self) -> u64 {
        self.spec.memory_mib.saturating_sub(self.used_memory_mib)
    }

    /// CUDA devices free.
    pub fn free_cuda(&self) -> u32 {
        self.spec.cuda_devices.saturating_sub(self.used_cuda)
    }

    /// CPU cores free.
    pub fn free_cores(&self) -> u32 {
        self.spec.cpu_cores.saturating_sub(self.used_cores)
    }

    /// Utilisation: what the running tests use, plus the environment's drift.
    pub fn utilisation(&self) -> Utilisation {
        self.utilisation_in(&self.drift)
    }

    /// Utilisation with `d` as the drift (see [`WorkerState::effective_load_in`]).
    #[inline]
    fn utilisation_in(&self, d: &LoadDrift) -> Utilisation {
        let frac = |used: f64, total: f64| if total > 0.0 { used / total } else { 0.0 };
        Utilisation {
            cpu: (frac(f64::from(self.used_cores), f64::from(self.spec.cpu_cores)) + d.cpu)
                .clamp(0.0, 1.0),
            memory: (frac(self.used_memory_mib as f64, self.spec.memory_mib as f64) + d.memory)
                .clamp(0.0, 1.0),
            gpu: (frac(f64::from(self.used_cuda), f64::from(self.spec.cuda_devices)) + d.gpu)
                .clamp(0.0, 1.0),
            io: d.io.clamp(0.0, 1.0),
            network: d.network.clamp(0.0, 1.0),
        }
    }

    /// The reference's load score of its utilisation (0–1).
    pub fn load_score(&self) -> f64 {
        self.utilisation().load_score()
    }

    /// 1.0 normally, lower while warming or cooling.
    pub fn performance_level(&self) -> f64 {
        performance_level_in(self.thermal)
    }

    /// The reference's effective load: load + (1 − performance level), capped at 1.
    pub fn effective_load(&self) -> f64 {
        self.effective_load_in(&self.drift, self.thermal)
    }

    /// The effective load this worker would have with `drift` and `thermal`
    /// in place of those the balancer last heard of: with the reported view,
    /// a run feels the worker's real condition, not its last report.
    #[inline]
    pub(crate) fn effective_load_in(&self, drift: &LoadDrift, thermal: Thermal) -> f64 {
        (self.utilisation_in(drift).load_score() + (1.0 - performance_level_in(thermal))).min(1.0)
    }

    /// The performance-based score: 0.7·history + 0.3·(1 − effective load).
    pub fn performance_score(&self) -> f64 {
        self.performance_score_at(self.effective_load())
    }

    /// The performance-based score at a known effective load (the index
    /// computes that load once per leaf).
    #[inline]
    fn performance_score_at(&self, effective_load: f64) -> f64 {
        0.7 * self.history.score() + 0.3 * (1.0 - effective_load)
    }

    /// `priority_based`'s score for priority 1–2 tests at a known effective
    /// load: `0.8 × speed + 0.2 × (1 − load)`, speed = `0.2·success +
    /// 0.6·time` from history (0.5 without).
    pub(crate) fn speed_score_at(&self, effective_load: f64) -> f64 {
        0.8 * self.history.speed + 0.2 * (1.0 - effective_load)
    }

    /// `priority_based`'s score for priority 3 tests at a known effective
    /// load: `0.6 × balanced + 0.4 × (1 − load)`, balanced = `0.3·success +
    /// 0.3·time` (0.5 without).
    pub(crate) fn balanced_score_at(&self, effective_load: f64) -> f64 {
        0.6 * self.history.balanced + 0.4 * (1.0 - effective_load)
    }

    /// True if the worker takes new work at all right now.
    pub(crate) fn is_accepting(&self) -> bool {
        self.status == WorkerStatus::Active && self.effective_load() <= CAPACITY_GATE
    }

    /// True if the worker could start a test of this shape now.
    pub(crate) fn fits_now(&self, shape: &Shape) -> bool {
        self.is_accepting()
            && self.free_memory_mib() >= shape.memory_mib
            && self.free_cuda() >= shape.cuda_devices
            && self.free_cores() >= shape.cpu_cores
            && self.spec.backends.contains(shape.backend)
    }

    /// What the index holds for this worker (`None` when it takes no work).
    pub fn leaf(&self) -> Option<LeafData> {
        self.leaf_at(self.effective_load())
    }

    /// [`WorkerState::leaf`] at a known effective load (computed once by
    /// the caller: it is the hottest arithmetic of a run).
    pub(crate) fn leaf_at(&self, effective: f64) -> Option<LeafData> {
        if self.status != WorkerStatus::Active || effective > CAPACITY_GATE {
            return None;
        }
        let keys: [f64; RANK_KEYS] = [
            self.performance_score_at(effective),
            1.0 - effective,
            -(self.free_memory_mib() as f64),
            self.speed_score_at(effective),
            self.balanced_score_at(effective),
        ];
        Some(LeafData {
            free_memory_mib: self.free_memory_mib(),
            free_cuda: self.free_cuda(),
            free_cores: self.free_cores(),
            backends: self.spec.backends.0,
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::model::Backends;

    #[test]
    fn history_score_follows_the_reference_formula() {
        let mut h = History::default();
        assert_eq!(h.score(), 0.5);
        for _ in 0..10 {
            h.record(true, 1.0);
        }
        assert!((h.score() - 0.7).abs() < 1e-12);
        h.record(false, 0.0);
        // 10/11 success, time 1.0, experience 1.
        assert!((h.score() - (0.3 * 10.0 / 11.0 + 0.3 + 0.1)).abs() < 1e-12);
        let mut slow = History::default();
        slow.record(true, 4.0);
        assert!((slow.score() - (0.3 + 0.0 + 0.01)).abs() < 1e-12);
    }

    /// The kept scores are those the counts give, after every record.
    #[test]
    fn derived_history_scores_follow_every_record() {
        let mut h = History::default();
        assert_eq!(
            (h.parts(), h.score(), h.speed, h.balanced),
            (None, 0.5, 0.5, 0.5)
        );
        for (i, ratio) in [1.0, 2.5, 0.5, 4.0, 1.2].into_iter().enumerate() {
            h.record(i % 3 != 1, ratio);
            assert_eq!(h.parts(), h.compute_parts());
            assert_eq!(h.score(), h.compute_score());
            let (s, t) = h.compute_parts().unwrap();
            assert_eq!(h.speed, 0.2 * s + 0.6 * t);
            assert_eq!(h.balanced, 0.3 * s + 0.3 * t);
        }
    }

    #[test]
    fn thermal_state_raises_effective_load_and_gates_capacity() {
        let spec = WorkerSpec {
            memory_mib: 8192,
            memory_gb: 8.0,
            cpu_cores: 4,
            cuda_devices: 0,
            backends: Backends::CPU,
            speed: 1.0,
        };
        let mut w = WorkerState::new(WorkerId(0), spec, SimTime::ZERO);
        assert_eq!(w.effective_load(), 0.0);
        w.thermal = Thermal::Warming { until: SimTime(10) };
        assert!((w.effective_load() - 0.2).abs() < 1e-12);
        w.drift.cpu = 1.0;
        w.drift.memory = 1.0;
        w.drift.gpu = 1.0;
        assert!(!w.is_accepting());
        assert!(w.leaf().is_none());
    }
}
