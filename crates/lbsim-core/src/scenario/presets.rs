//! Scenarios the commands build from flags: the spike simulation and the
//! benchmark grid.

use super::stress::StressShape;
use super::*;
use crate::balancer::policy::SCHEDULERS;

/// The `spike` command: the stress options with bursts and the reference's
/// dynamic workers, and one spike of `SPIKE_MULTIPLIER` × the rate from
/// 40 % to 60 % of the window, with short ramps, then time to recover.
pub(crate) fn spike_scenario(
    options: &StressOptions,
    balancing: &BalancingOverrides,
) -> Result<Scenario> {
    let options = StressOptions {
        burst: true,
        dynamic: true,
        ..options.clone()
    };
    let shape = StressShape {
        name: Some("spike"),
        description: "load spike: bursts, dynamic workers and a spike",
        spikes: vec![spike_window(options.duration_s)],
    };
    options.build(balancing, shape)
}

/// How much the spike multiplies the arrival rate.
pub(crate) const SPIKE_MULTIPLIER: f64 = 4.0;

/// The spike of the `spike` command for a window of `duration_s`.
pub(crate) fn spike_window(duration_s: f64) -> Spike {
    Spike {
        start_s: 0.4 * duration_s,
        length_s: 0.2 * duration_s,
        multiplier: SPIKE_MULTIPLIER,
        ramp_s: 0.025 * duration_s,
    }
}

/// One benchmark cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchmarkCell {
    /// Workers in the pool.
    pub workers: u32,
    /// Tests submitted.
    pub tests: u64,
    /// The submission window, seconds.
    pub duration_s: f64,
    /// The policy under test.
    pub scheduler: SchedulerName,
}

/// The reference grid: workers {5, 10, 20, 50, 100} × tests {100, 500, 1000}.
pub(crate) const BENCH_WORKERS: &[u32] = &[5, 10, 20, 50, 100];
pub(crate) const BENCH_TESTS: &[u64] = &[100, 500, 1000];
/// `--full` adds scale.
pub(crate) const FULL_WORKERS: &[u32] = &[5, 10, 20, 50, 100, 1_000, 10_000];
pub(crate) const FULL_TESTS: &[u64] = &[100, 500, 1000, 10_000, 100_000, 1_000_000];

/// The grid, in the order it runs: workers, then tests, then scheduler. The
/// normal suite runs `scheduler` only; `--full` runs every scheduler.
pub fn benchmark_grid(full: bool, scheduler: SchedulerName) -> Vec<BenchmarkCell> {
    let (workers, tests) = if full {
        (FULL_WORKERS, FULL_TESTS)
    } else {
        (BENCH_WORKERS, BENCH_TESTS)
    };
    let schedulers: Vec<SchedulerName> = if full {
        SCHEDULERS.iter().map(|s| s.name).collect()
    } else {
        vec![scheduler]
    };
    let mut cells = Vec::new();
    for &w in workers {
        for &t in tests {
            for &s in &schedulers {
                cells.push(BenchmarkCell {
                    workers: w,
                    tests: t,
                    // The reference: min(tests / 10, 120) s, so 10 tests/s.
                    duration_s: (t as f64 / 10.0).min(120.0),
                    scheduler: s,
                });
            }
        }
    }
    cells
}

impl BenchmarkCell {
    /// Steady submission, no churn, on the reference's defaults.
    pub fn to_scenario(&self, seed: u64) -> Result<Scenario> {
        let options = StressOptions {
            workers: self.workers,
            tests: self.tests,
            duration_s: self.duration_s,
            burst: false,
            dynamic: false,
            seed,
            scheduler: self.scheduler,
        };
        let shape = StressShape {
            name: None,
            description: "benchmark",
            spikes: Vec::new(),
        };
        options.build(&BalancingOverrides::default(), shape)
    }
}

impl Scenario {
    /// The most workers that can be alive at once during the run.
    pub fn peak_workers(&self) -> u64 {
        let w = u64::from(self.workers);
        match &self.churn {
            Churn::None => w,
            Churn::Random { max_factor, .. } => w.max((max_factor * w as f64).ceil() as u64),
            Churn::Timeline { events } => w + ChurnEvent::joins(events),
            Churn::Recorded { workers, .. } => w.max(workers.len() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_grid_has_all_fifteen_cells() {
        let g = benchmark_grid(false, SchedulerName::DEFAULT);
        assert_eq!(g.len(), 15);
        assert_eq!(g[0].duration_s, 10.0);
        assert_eq!(g[2].duration_s, 100.0);
        let full = benchmark_grid(true, SchedulerName::DEFAULT);
        assert_eq!(full.len(), 7 * 6 * SCHEDULERS.len());
        assert!(full
            .iter()
            .any(|c| c.workers == 10_000 && c.tests == 1_000_000));
        assert_eq!(full.iter().map(|c| c.duration_s).fold(0.0, f64::max), 120.0);
    }

    #[test]
    fn the_spike_scenario_has_bursts_churn_and_one_spike() {
        let options = StressOptions {
            seed: 1,
            ..Default::default()
        };
        let s = spike_scenario(&options, &BalancingOverrides::default()).unwrap();
        assert_eq!(s.name.as_deref(), Some("spike"));
        assert!(s.is_burst() && s.is_dynamic());
        assert_eq!(s.arrivals.spikes().len(), 1);
        assert_eq!(s.arrivals.spikes()[0].start_s, 24.0);
        assert_eq!(s.peak_workers(), 30);
    }
}
