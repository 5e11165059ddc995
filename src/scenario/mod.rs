//! What a run simulates, validated: the pool, the workload and its timing.
//!
//! A `Scenario` is always valid: every constructor checks its invariants and
//! returns an error naming the offending field, so the engine never has to.

pub mod config;
mod env;
pub mod presets;
mod spikes;
mod stress;
mod timeline;

pub use config::Config;
pub use env::{EnvSettings, LogLevel};
pub use spikes::{RateProfile, Spike};
pub use stress::{BalancingOverrides, StressOptions};
pub use timeline::{ChurnAction, ChurnEvent};

use crate::balancer::options::BalancerOptions;
use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The seed used when none is given: runs are reproducible by default.
pub const DEFAULT_SEED: u64 = 42;
/// The reference's defaults.
pub const DEFAULT_WORKERS: u32 = 20;
pub const DEFAULT_TESTS: u64 = 100;
pub const DEFAULT_DURATION_S: f64 = 60.0;
pub const DEFAULT_TEST_DURATION_S: f64 = 10.0;
/// Limits on what one run may ask for. Beyond them a run would not fit in
/// memory (about 32 bytes per finished test for exact percentiles, about
/// 400 bytes per worker) or would simulate for centuries: a typo, not a
/// study, so it is refused (exit 2) instead of running out of memory.
pub const MAX_WORKERS: u32 = 1_000_000;
pub const MAX_TESTS: u64 = 100_000_000;
pub const MAX_DURATION_S: f64 = 1e9;
pub const MAX_HORIZON_S: f64 = 1e10;
/// The run stops at `duration × HORIZON_FACTOR` if tests are still live.
pub const HORIZON_FACTOR: f64 = 10.0;

/// Worker capabilities, each drawn uniformly from its list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerProfile {
    pub memory_gb: Vec<f64>,
    pub cuda_devices: Vec<u32>,
    pub cpu_cores: Vec<u32>,
    /// Relative speeds (1.0 = runs tests in their nominal time).
    pub speed: Vec<f64>,
    /// Fraction of installed memory that tests may use (the reference: 0.9).
    pub usable_memory_fraction: f64,
}

impl Default for WorkerProfile {
    fn default() -> Self {
        WorkerProfile {
            memory_gb: vec![4.0, 8.0, 16.0, 32.0],
            cuda_devices: vec![0, 1, 2, 4],
            cpu_cores: vec![4],
            speed: vec![1.0],
            usable_memory_fraction: 0.9,
        }
    }
}

/// How long a test really runs, relative to its expected duration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DurationDist {
    /// Exactly the expected duration.
    Fixed,
    /// Uniform between `low` and `high` times the expected duration.
    Uniform { low: f64, high: f64 },
    /// Exponential with mean = the expected duration.
    Exponential,
    /// Lognormal with mean = the expected duration and the given sigma.
    Lognormal { sigma: f64 },
}

/// Test requirements, each drawn uniformly from its list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestProfile {
    pub memory_gb: Vec<f64>,
    pub cuda_devices: Vec<u32>,
    pub priorities: Vec<u8>,
    pub cpu_cores: Vec<u32>,
    pub expected_duration_s: f64,
    pub duration: DurationDist,
    /// Probability that a run fails.
    pub failure_probability: f64,
    /// Extra tries after a failed run.
    pub retries: u32,
    /// A run longer than this is stopped and counted failed.
    pub timeout_s: Option<f64>,
    /// Number of distinct model families (affinity policies use them).
    pub model_families: u32,
    /// Number of distinct concurrency keys; 0: tests have none.
    pub concurrency_keys: u32,
    /// Probability that a test has a key (when there are keys).
    pub concurrency_key_probability: f64,
}

impl Default for TestProfile {
    fn default() -> Self {
        TestProfile {
            memory_gb: vec![0.5, 1.0, 2.0, 4.0, 8.0],
            cuda_devices: vec![0, 0, 0, 1, 1, 2],
            priorities: vec![1, 2, 2, 3, 3, 3, 4, 4, 5],
            cpu_cores: vec![1],
            expected_duration_s: DEFAULT_TEST_DURATION_S,
            duration: DurationDist::Uniform {
                low: 0.5,
                high: 1.5,
            },
            failure_probability: 0.0,
            retries: 0,
            timeout_s: None,
            model_families: 1,
            concurrency_keys: 0,
            concurrency_key_probability: 1.0,
        }
    }
}

/// When tests arrive within the submission window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly spaced over the duration (the reference's steady mode).
    Even,
    /// Bursts of `min(tests/10, 50)` (at least 1), burst k at
    /// `(tests before it / tests) × duration` (the reference's burst mode).
    Bursts,
    /// A Poisson process at `rate` tests per second until every test arrived.
    Poisson { rate: f64 },
    /// `base` with its rate multiplied by a spike timeline.
    Spiky {
        base: Box<Arrivals>,
        spikes: Vec<Spike>,
    },
}

/// Workers joining and leaving during the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Churn {
    None,
    /// Each pool cycle: a join with `join_probability` while fewer than
    /// `max_factor × initial`; a leave with `leave_probability` while more
    /// than `min_factor × initial`, a crash with `fail_fraction` of leaves.
    Random {
        join_probability: f64,
        leave_probability: f64,
        fail_fraction: f64,
        max_factor: f64,
        min_factor: f64,
    },
    /// Scripted joins, drains and failures (a rolling drain, a rack failure).
    Timeline {
        events: Vec<ChurnEvent>,
    },
}

impl Churn {
    /// The reference's `--dynamic` rates; a third of leaves are crashes.
    pub fn reference() -> Churn {
        Churn::Random {
            join_probability: 0.1,
            leave_probability: 0.05,
            fail_fraction: 1.0 / 3.0,
            max_factor: 1.5,
            min_factor: 0.5,
        }
    }
}

/// Background load and thermal events (the reference's worker update loop).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadModel {
    /// Pool cycles happen every `U(min, max)` seconds.
    pub cycle_min_s: f64,
    pub cycle_max_s: f64,
    /// Probability that a worker's drift is redrawn in a cycle.
    pub update_probability: f64,
    /// Probability that an update starts warming (and, again, cooling).
    pub thermal_probability: f64,
    pub warming_s: f64,
    pub cooling_s: f64,
    /// False: no drift and no thermal events (for closed-form checks).
    pub enabled: bool,
    /// True: a run started on a loaded worker is slowed
    /// (`workload::contention::slowdown` of its effective load).
    pub contention: bool,
}

impl Default for LoadModel {
    fn default() -> Self {
        LoadModel {
            cycle_min_s: 0.2,
            cycle_max_s: 1.0,
            update_probability: 0.3,
            thermal_probability: 0.05,
            warming_s: 30.0,
            cooling_s: 60.0,
            enabled: true,
            contention: false,
        }
    }
}

/// A complete, validated description of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The scenario's name, if it came from a config file.
    pub name: Option<String>,
    pub description: String,
    pub seed: u64,
    pub scheduler: SchedulerName,
    pub workers: u32,
    pub tests: u64,
    /// The submission window, seconds.
    pub duration_s: f64,
    /// The run stops here even if tests are still live, seconds.
    pub horizon_s: f64,
    pub worker_profile: WorkerProfile,
    pub test_profile: TestProfile,
    pub arrivals: Arrivals,
    pub churn: Churn,
    pub load: LoadModel,
    /// Composite weights and work stealing.
    pub balancing: BalancerOptions,
}

impl Scenario {
    /// True when tests arrive in bursts (the reference's `burst_mode`).
    pub fn is_burst(&self) -> bool {
        self.arrivals.base() == &Arrivals::Bursts
    }

    /// True when workers join and leave (the reference's `dynamic_workers`).
    pub fn is_dynamic(&self) -> bool {
        !matches!(self.churn, Churn::None)
    }

    /// Checks every invariant the engine relies on; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, msg: &str| Err(Error::invalid(field, msg));
        if self.workers == 0 {
            return bad("workers", "must be at least 1");
        }
        if self.workers > MAX_WORKERS {
            return bad("workers", "must be at most 1000000");
        }
        if self.tests == 0 {
            return bad("tests", "must be at least 1");
        }
        if self.tests > MAX_TESTS {
            return bad(
                "tests",
                "must be at most 100000000 per run (split a larger study into a sweep)",
            );
        }
        if !(self.duration_s.is_finite() && self.duration_s > 0.0) {
            return bad("duration", "must be a positive number of seconds");
        }
        if self.duration_s > MAX_DURATION_S {
            return bad("duration", "must be at most 1e9 seconds (about 31 years)");
        }
        if !(self.horizon_s.is_finite() && self.horizon_s >= self.duration_s) {
            return bad("horizon", "must be at least the duration");
        }
        if self.horizon_s > MAX_HORIZON_S {
            return bad("horizon", "must be at most 1e10 seconds");
        }
        let wp = &self.worker_profile;
        check_list("worker_profile.memory_distribution", &wp.memory_gb, |m| {
            m.is_finite() && *m > 0.0
        })?;
        check_list("worker_profile.cuda_distribution", &wp.cuda_devices, |_| {
            true
        })?;
        check_list("worker_profile.cpu_cores", &wp.cpu_cores, |c| *c > 0)?;
        check_list("worker_profile.speed_distribution", &wp.speed, |s| {
            s.is_finite() && *s > 0.0
        })?;
        check_fraction(
            "worker_profile.usable_memory_fraction",
            wp.usable_memory_fraction,
            false,
        )?;
        let tp = &self.test_profile;
        check_list("test_profile.memory_requirements", &tp.memory_gb, |m| {
            m.is_finite() && *m >= 0.0
        })?;
        check_list("test_profile.cuda_requirements", &tp.cuda_devices, |_| true)?;
        check_list("test_profile.priority_distribution", &tp.priorities, |p| {
            (1..=5).contains(p)
        })?;
        check_list("test_profile.cpu_cores", &tp.cpu_cores, |_| true)?;
        if !(tp.expected_duration_s.is_finite() && tp.expected_duration_s > 0.0) {
            return bad(
                "test_profile.expected_duration",
                "must be a positive number of seconds",
            );
        }
        check_fraction(
            "test_profile.failure_probability",
            tp.failure_probability,
            true,
        )?;
        if let Some(t) = tp.timeout_s {
            if !(t.is_finite() && t > 0.0) {
                return bad(
                    "test_profile.timeout",
                    "must be a positive number of seconds",
                );
            }
        }
        match tp.duration {
            DurationDist::Uniform { low, high }
                if !(low.is_finite() && high.is_finite() && 0.0 <= low && low <= high) =>
            {
                return bad(
                    "test_profile.duration_distribution",
                    "uniform needs 0 <= low <= high",
                );
            }
            DurationDist::Lognormal { sigma } if !(sigma.is_finite() && sigma >= 0.0) => {
                return bad(
                    "test_profile.duration_distribution",
                    "lognormal needs sigma >= 0",
                );
            }
            _ => {}
        }
        if let Churn::Random {
            join_probability,
            leave_probability,
            fail_fraction,
            max_factor,
            min_factor,
        } = self.churn
        {
            check_fraction("churn.join_probability", join_probability, true)?;
            check_fraction("churn.leave_probability", leave_probability, true)?;
            check_fraction("churn.fail_fraction", fail_fraction, true)?;
            if !(min_factor.is_finite()
                && max_factor.is_finite()
                && 0.0 <= min_factor
                && min_factor <= max_factor)
            {
                return bad("churn", "needs 0 <= min_factor <= max_factor");
            }
        }
        let l = &self.load;
        if !(l.cycle_min_s.is_finite()
            && l.cycle_min_s > 0.0
            && l.cycle_max_s.is_finite()
            && l.cycle_min_s <= l.cycle_max_s)
        {
            return bad("load.cycle", "needs 0 < cycle_min <= cycle_max");
        }
        check_fraction("load.update_probability", l.update_probability, true)?;
        check_fraction("load.thermal_probability", l.thermal_probability, true)?;
        check_fraction(
            "test_profile.concurrency_key_probability",
            tp.concurrency_key_probability,
            true,
        )?;
        self.balancing
            .composite_weights
            .validate()
            .map_err(|m| Error::invalid("composite_weights", &m))?;
        self.balancing
            .stealing
            .validate()
            .map_err(|(field, m)| Error::invalid(field, m))?;
        self.arrivals.validate(self.duration_s)?;
        if let Churn::Timeline { events } = &self.churn {
            for (i, e) in events.iter().enumerate() {
                e.validate(&format!("churn.events[{i}]"))?;
            }
        }
        Ok(())
    }
}

fn check_list<T>(field: &str, items: &[T], ok: impl Fn(&T) -> bool) -> Result<()> {
    if items.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if !items.iter().all(ok) {
        return Err(Error::invalid(field, "has a value out of range"));
    }
    Ok(())
}

fn check_fraction(field: &str, x: f64, zero_ok: bool) -> Result<()> {
    if x.is_finite() && x <= 1.0 && (x > 0.0 || (zero_ok && x == 0.0)) {
        Ok(())
    } else {
        Err(Error::invalid(field, "must be a fraction between 0 and 1"))
    }
}
