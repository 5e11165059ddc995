//! The user's overrides of a scenario's values: one type for every source.
//! It lives in the scenario layer because a config file's scenario is built
//! under it here; `run` adds the checks and defaults each source needs
//! (`run/overrides.rs`) without a second, translated copy.

use crate::balancer::policy::SchedulerName;
use crate::scenario::{BalancingOverrides, DEFAULT_SEED};

/// What the user sets over a source; `None` (or `false`) keeps the
/// source's value, or the default when the source has none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// `--workers`.
    pub workers: Option<u32>,
    /// `--tests`.
    pub tests: Option<u64>,
    /// `--duration`, seconds.
    pub duration_s: Option<f64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--scheduler`.
    pub scheduler: Option<SchedulerName>,
    /// Composite weights, work stealing, concurrency keys.
    pub balancing: BalancingOverrides,
}

impl Overrides {
    /// The seed: the given one, else 42.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(DEFAULT_SEED)
    }

    /// The policy: the given one, else `performance_based`.
    pub fn scheduler(&self) -> SchedulerName {
        self.scheduler.unwrap_or(SchedulerName::DEFAULT)
    }
}
