//! How the balancer is tuned beyond its policy: composite weights and the
//! work-stealing / rebalancing loop.

use super::policy::CompositeWeights;
use serde::Serialize;

/// Work stealing and rebalancing, with the reference service's numbers.
///
/// A test starts the moment it is assigned, so the only "queued work" is a
/// run that has just started. Both loops move young runs off hot workers
/// onto cool ones when the move is expected to finish the test sooner,
/// restart cost included; see `balancer::stealing`.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct StealingOptions {
    /// Off by default: turning it on changes a run's outputs.
    pub enabled: bool,
    /// Work stealing runs every this many seconds (the reference: 30).
    pub steal_interval_s: f64,
    /// Rebalancing runs every this many seconds (the reference: 60).
    pub rebalance_interval_s: f64,
    /// Effective load below which a worker is idle (0.3).
    pub idle_threshold: f64,
    /// Effective load above which a worker is busy (0.7).
    pub busy_threshold: f64,
    /// Effective load above which a worker is overloaded (0.8).
    pub overload_threshold: f64,
    /// At most this many moves per rebalance (3).
    pub(crate) max_transfers: u32,
    /// At most this many steals per round (5), one per idle worker.
    pub(crate) max_steals: u32,
    /// Seconds a restarted run loses on top of its work (checkpoint, cache).
    pub(crate) restart_cost_s: f64,
}

impl Default for StealingOptions {
    fn default() -> Self {
        StealingOptions {
            enabled: false,
            steal_interval_s: 30.0,
            rebalance_interval_s: 60.0,
            idle_threshold: 0.3,
            busy_threshold: 0.7,
            overload_threshold: 0.8,
            max_transfers: 3,
            max_steals: 5,
            restart_cost_s: 1.0,
        }
    }
}

impl StealingOptions {
    /// Checks the invariants the loops rely on; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.steal_interval_s) {
            return Err((
                "stealing.steal_interval",
                "must be a positive number of seconds",
            ));
        }
        if !positive(self.rebalance_interval_s) {
            return Err((
                "stealing.rebalance_interval",
                "must be a positive number of seconds",
            ));
        }
        let fraction = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if !(fraction(self.idle_threshold)
            && fraction(self.busy_threshold)
            && fraction(self.overload_threshold))
        {
            return Err(("stealing.thresholds", "must be fractions between 0 and 1"));
        }
        if self.idle_threshold > self.busy_threshold {
            return Err(("stealing.idle_threshold", "must not exceed busy_threshold"));
        }
        if !(self.restart_cost_s.is_finite() && self.restart_cost_s >= 0.0) {
            return Err((
                "stealing.restart_cost",
                "must be a non-negative number of seconds",
            ));
        }
        Ok(())
    }
}

/// Everything that tunes the balancer besides the choice of policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct BalancerOptions {
    /// Member weights of the `composite` policy.
    pub composite_weights: CompositeWeights,
    /// Work stealing and rebalancing (off unless set).
    pub stealing: StealingOptions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_references_and_bad_values_name_the_field() {
        let s = StealingOptions::default();
        assert_eq!((s.steal_interval_s, s.rebalance_interval_s), (30.0, 60.0));
        assert_eq!((s.max_transfers, s.max_steals), (3, 5));
        assert!(s.validate().is_ok());
        let bad = StealingOptions {
            idle_threshold: 0.9,
            ..s.clone()
        };
        assert_eq!(bad.validate().unwrap_err().0, "stealing.idle_threshold");
        let bad = StealingOptions {
            steal_interval_s: 0.0,
            ..s
        };
        assert_eq!(bad.validate().unwrap_err().0, "stealing.steal_interval");
    }
}
