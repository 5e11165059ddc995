//! What a run simulates, validated: the pool, the workload and its timing.
//!
//! A `Scenario` is always valid: every constructor checks its invariants and
//! returns an error naming the offending field, so the engine never has to.

mod arrivals;
mod balancing;
mod check;
mod churn;
pub mod config;
mod env;
mod load;
mod memory;
mod overrides;
pub mod presets;
mod profiles;
mod recorded;
mod stress;
mod timeline;

pub use arrivals::RateProfile;
pub use arrivals::{Arrivals, Poisson, Spike};
pub use churn::Churn;
pub use config::Config;
pub use env::{EnvSettings, LogLevel};
pub use load::LoadView;
pub(crate) use load::{LoadModel, ReportPace};
pub(crate) use memory::available_bytes;
pub use overrides::Overrides;
pub use profiles::WorkerProfile;
pub(crate) use profiles::{DurationDist, TestProfile};
pub(crate) use recorded::RecordedLeave;
pub use recorded::RecordedWorker;
pub use stress::{BalancingOverrides, StressOptions};
pub use timeline::{ChurnAction, ChurnEvent};

pub(crate) use arrivals::{Schedule, Window};

use crate::balancer::options::BalancerOptions;
use crate::balancer::policy::SchedulerName;
use crate::error::Result;
use check::FieldPath;
use serde::{Deserialize, Serialize};

/// The seed used when none is given: runs are reproducible by default.
pub const DEFAULT_SEED: u64 = 42;
/// The reference's defaults.
pub(crate) const DEFAULT_WORKERS: u32 = 20;
pub(crate) const DEFAULT_TESTS: u64 = 100;
pub(crate) const DEFAULT_DURATION_S: f64 = 60.0;
pub(crate) const DEFAULT_TEST_DURATION_S: f64 = 10.0;
/// Limits on what one run may ask for. Beyond them a run would not fit in
/// memory (about 32 bytes per finished test for exact percentiles, about
/// 400 bytes per worker) or would simulate for centuries: a typo, not a
/// study, so it is refused (exit 2) instead of running out of memory.
pub(crate) const MAX_WORKERS: u32 = 1_000_000;
pub(crate) const MAX_TESTS: u64 = 100_000_000;
pub(crate) const MAX_DURATION_S: f64 = 1e9;
/// The shortest window: one tick of the simulated clock (a microsecond).
/// A shorter one would submit every test at time zero, or none at all.
pub(crate) const MIN_DURATION_S: f64 = 1e-6;
pub(crate) const MAX_HORIZON_S: f64 = 1e10;
/// Periodic loops (pool cycles, work stealing, rebalancing) run at most this
/// often, and at most `MAX_PERIODS` times over the window: a period of a
/// microsecond would be a million events per simulated second, a run that
/// never ends.
pub(crate) const MIN_PERIOD_S: f64 = 0.001;
pub(crate) const MAX_PERIODS: f64 = 1e7;
/// What a run holds in memory, measured (`--stats`, peak memory): about
/// 550 bytes per test and 400 per worker, rounded up.
pub(crate) const BYTES_PER_TEST: u64 = 600;
pub(crate) const BYTES_PER_WORKER: u64 = 1000;
/// The run stops at `duration × HORIZON_FACTOR` if tests are still live.
pub(crate) const HORIZON_FACTOR: f64 = 10.0;

/// A complete, validated description of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The scenario's name, if it came from a config file.
    pub name: Option<String>,
    /// What the scenario is for (free text from the config; empty if none).
    pub description: String,
    /// Seeds every random stream of the run: the same seed, the same run.
    pub seed: u64,
    /// The policy that places tests on workers.
    pub scheduler: SchedulerName,
    /// Workers in the pool at time zero.
    pub workers: u32,
    /// Tests submitted over the run.
    pub tests: u64,
    /// The submission window, seconds.
    pub duration_s: f64,
    /// The run stops here even if tests are still live, seconds.
    pub horizon_s: f64,
    /// What each worker has, drawn per worker.
    pub worker_profile: WorkerProfile,
    /// What each test needs and how its runs go, drawn per test.
    pub test_profile: TestProfile,
    /// When tests are submitted within the window.
    pub arrivals: Arrivals,
    /// Workers joining and leaving during the run.
    pub churn: Churn,
    /// Background load and thermal slowdown of the workers.
    pub load: LoadModel,
    /// Composite weights and work stealing.
    pub balancing: BalancerOptions,
}

impl Scenario {
    /// True when tests arrive in bursts (the reference's `burst_mode`).
    pub(crate) fn is_burst(&self) -> bool {
        self.arrivals.base() == &Arrivals::Bursts
    }

    /// True when workers join and leave (the reference's `dynamic_workers`).
    /// A recorded pool is dynamic when anyone joins after the start or leaves.
    pub fn is_dynamic(&self) -> bool {
        match &self.churn {
            Churn::None => false,
            Churn::Recorded { workers, leaves } => {
                workers.len() > self.workers as usize || !leaves.is_empty()
            }
            Churn::Random { .. } | Churn::Timeline { .. } => true,
        }
    }

    /// Checks every invariant the engine relies on, section by section;
    /// the error names the field by its path.
    pub fn validate(&self) -> Result<()> {
        let root = FieldPath::root();
        self.check_size(&root)?;
        self.worker_profile.check(&root.field("worker_profile"))?;
        self.test_profile.check(&root.field("test_profile"))?;
        self.arrivals
            .check(&root.field("arrivals"), self.duration_s)?;
        self.churn.check(&root.field("churn"))?;
        self.load.check(&root.field("load"))?;
        let (weights, stealing) = (root.field("composite_weights"), root.field("stealing"));
        balancing::check(&self.balancing, &weights, &stealing)?;
        self.check_resolution(&root)?;
        self.check_periods(&root, &stealing)
    }

    /// The window lasts at least one tick of the simulated clock. Checked
    /// after the sections, so a spike window cut from a tiny duration is
    /// named as such first.
    pub(crate) fn check_resolution(&self, path: &FieldPath) -> Result<()> {
        if self.duration_s < MIN_DURATION_S {
            return Err(path.field("duration").error(format!(
                "{:e} s is shorter than the simulator's resolution of 1e-6 s (one microsecond)",
                self.duration_s
            )));
        }
        Ok(())
    }

    /// The periodic loops can finish: each period at least `MIN_PERIOD_S`,
    /// and at most `MAX_PERIODS` of the shortest over the window.
    /// `stealing` names the stealing section (its name differs in a file).
    pub(crate) fn check_periods(&self, path: &FieldPath, stealing: &FieldPath) -> Result<()> {
        let cycles = self.load.enabled || matches!(self.churn, Churn::Random { .. });
        let load = path.field("load");
        let mut periods = Vec::new();
        if cycles {
            periods.push((load.field("cycle_min"), self.load.cycle_min_s));
        }
        let s = &self.balancing.stealing;
        if s.enabled {
            periods.push((stealing.field("steal_interval"), s.steal_interval_s));
            periods.push((stealing.field("rebalance_interval"), s.rebalance_interval_s));
        }
        for (field, period) in periods {
            if period < MIN_PERIOD_S {
                let min = MIN_PERIOD_S;
                return Err(field.error(format!("{period} s is shorter than the {min} s minimum")));
            }
            let count = self.duration_s / period;
            if count > MAX_PERIODS {
                return Err(path.field("duration").error(format!(
                    "{} s is {count:.3e} periods of {field} ({period} s), more than {MAX_PERIODS:e}",
                    self.duration_s
                )));
            }
        }
        Ok(())
    }

    /// Bytes the run will hold at its peak, about (see `BYTES_PER_TEST`).
    pub(crate) fn memory_bytes(&self) -> u64 {
        let tests = self.tests.saturating_mul(BYTES_PER_TEST);
        tests.saturating_add(self.peak_workers().saturating_mul(BYTES_PER_WORKER))
    }

    /// The run's size: workers, tests, the window and the horizon, under
    /// `path` (the root, or a config file's scenario).
    pub(crate) fn check_size(&self, path: &FieldPath) -> Result<()> {
        let bad = |field: &str, msg: &str| Err(path.field(field).error(msg));
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
        Ok(())
    }

    /// The run's tests and window, for the arrival pattern.
    pub(crate) fn window(&self) -> Window {
        Window {
            tests: self.tests,
            duration_s: self.duration_s,
        }
    }
}
