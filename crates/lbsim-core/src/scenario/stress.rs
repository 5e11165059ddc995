//! The `stress` command's options, turned into a scenario; the spike and
//! the benchmark cells are stress runs too, built through the same function.

use super::*;
use crate::balancer::policy::CompositeWeights;

/// The reference's stress flags.
#[derive(Clone, Debug, PartialEq)]
pub struct StressOptions {
    /// `--workers`: workers in the pool at time zero.
    pub workers: u32,
    /// `--tests`: tests submitted.
    pub tests: u64,
    /// `--duration`: the submission window, seconds.
    pub duration_s: f64,
    /// `--burst`: tests arrive in bursts rather than evenly.
    pub burst: bool,
    /// `--dynamic`: workers join and leave at random during the run.
    pub dynamic: bool,
    /// `--seed`: seeds every random stream of the run.
    pub seed: u64,
    /// `--scheduler`: the policy that places tests.
    pub scheduler: SchedulerName,
}

impl Default for StressOptions {
    fn default() -> Self {
        StressOptions {
            workers: DEFAULT_WORKERS,
            tests: DEFAULT_TESTS,
            duration_s: DEFAULT_DURATION_S,
            burst: false,
            dynamic: false,
            seed: DEFAULT_SEED,
            scheduler: SchedulerName::DEFAULT,
        }
    }
}

/// The balancing flags (`--composite-weights`, `--work-stealing`,
/// `--concurrency-keys`, `--load-view`): what a run may set over its
/// source's own balancing, applied while the scenario is built (never
/// patched after).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BalancingOverrides {
    /// Replaces the composite policy's member weights.
    pub composite_weights: Option<CompositeWeights>,
    /// True: work stealing on, with the source's stealing settings.
    pub work_stealing: bool,
    /// Replaces the test profile's number of concurrency keys.
    pub concurrency_keys: Option<u32>,
    /// Replaces what the balancer sees of the load (`--load-view`).
    pub load_view: Option<LoadView>,
}

impl BalancingOverrides {
    /// True when no flag is set.
    pub fn is_empty(&self) -> bool {
        *self == BalancingOverrides::default()
    }

    /// `base` with the flags applied.
    pub fn options(&self, base: BalancerOptions) -> BalancerOptions {
        let mut options = base;
        if let Some(w) = &self.composite_weights {
            options.composite_weights = w.clone();
        }
        options.stealing.enabled |= self.work_stealing;
        options
    }

    /// `base` with `--load-view` applied; a reported view without a pace
    /// gets the service's.
    pub fn load(&self, base: LoadModel) -> LoadModel {
        let Some(view) = self.load_view else {
            return base;
        };
        let reports = match view {
            LoadView::Live => None,
            LoadView::Reported => Some(base.reports.unwrap_or_default()),
        };
        LoadModel {
            view,
            reports,
            ..base
        }
    }

    /// `base` with `--concurrency-keys` applied.
    pub fn test_profile(&self, base: TestProfile) -> TestProfile {
        TestProfile {
            concurrency_keys: self.concurrency_keys.unwrap_or(base.concurrency_keys),
            ..base
        }
    }
}

/// What a stress-shaped run is called and which spikes ride on its arrivals.
pub(crate) struct StressShape<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) description: &'a str,
    pub(crate) spikes: Vec<Spike>,
}

impl StressOptions {
    /// The scenario the reference's `stress` ran: default profiles, steady or
    /// burst submission, optional churn.
    pub fn to_scenario(&self) -> Result<Scenario> {
        self.scenario_with(&BalancingOverrides::default())
    }

    /// `to_scenario` with the balancing flags.
    pub fn scenario_with(&self, balancing: &BalancingOverrides) -> Result<Scenario> {
        let shape = StressShape {
            name: None,
            description: "stress test",
            spikes: Vec::new(),
        };
        self.build(balancing, shape)
    }

    /// The one constructor of stress-shaped scenarios (stress, spike,
    /// benchmark cells): built whole, then validated once.
    pub(crate) fn build(
        &self,
        balancing: &BalancingOverrides,
        shape: StressShape,
    ) -> Result<Scenario> {
        let base = if self.burst {
            Arrivals::Bursts
        } else {
            Arrivals::Even
        };
        let arrivals = if shape.spikes.is_empty() {
            base
        } else {
            Arrivals::Spiky {
                base: Box::new(base),
                spikes: shape.spikes,
            }
        };
        let scenario = Scenario {
            name: shape.name.map(str::to_string),
            description: shape.description.into(),
            seed: self.seed,
            scheduler: self.scheduler,
            workers: self.workers,
            tests: self.tests,
            duration_s: self.duration_s,
            horizon_s: self.duration_s * HORIZON_FACTOR,
            worker_profile: WorkerProfile::default(),
            test_profile: balancing.test_profile(TestProfile::default()),
            arrivals,
            churn: if self.dynamic {
                Churn::reference()
            } else {
                Churn::None
            },
            load: balancing.load(LoadModel::default()),
            balancing: balancing.options(BalancerOptions::default()),
        };
        scenario.validate()?;
        Ok(scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_references() {
        let s = StressOptions::default().to_scenario().unwrap();
        assert_eq!(
            (s.workers, s.tests, s.duration_s, s.seed),
            (20, 100, 60.0, 42)
        );
        assert!(!s.is_burst() && !s.is_dynamic());
        assert_eq!(s.horizon_s, 600.0);
    }

    #[test]
    fn balancing_flags_are_built_in_and_absent_flags_change_nothing() {
        let plain = StressOptions::default();
        let none = BalancingOverrides::default();
        assert!(none.is_empty());
        assert_eq!(
            plain.scenario_with(&none).unwrap(),
            plain.to_scenario().unwrap()
        );
        let flags = BalancingOverrides {
            composite_weights: Some(CompositeWeights::parse("fifo:1").unwrap()),
            work_stealing: true,
            concurrency_keys: Some(4),
            load_view: Some(LoadView::Reported),
        };
        let s = plain.scenario_with(&flags).unwrap();
        assert!(s.balancing.stealing.enabled);
        assert_eq!(s.test_profile.concurrency_keys, 4);
        assert_eq!(s.load.view, LoadView::Reported);
        assert_eq!(s.load.reports, Some(ReportPace::default()));
        let members: Vec<_> = s.balancing.composite_weights.0.keys().copied().collect();
        assert_eq!(members, vec![SchedulerName::Fifo]);
    }

    #[test]
    fn invalid_values_name_the_field() {
        let err = StressOptions {
            workers: 0,
            ..Default::default()
        }
        .to_scenario()
        .unwrap_err();
        assert_eq!(err.to_string(), "invalid workers: must be at least 1");
        let err = StressOptions {
            duration_s: 0.0,
            ..Default::default()
        }
        .to_scenario()
        .unwrap_err();
        assert!(err.to_string().starts_with("invalid duration"));
        let err = StressOptions {
            duration_s: f64::NAN,
            ..Default::default()
        }
        .to_scenario()
        .unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn absurd_sizes_are_refused_rather_than_run_out_of_memory() {
        let fails = |o: StressOptions, start: &str| {
            let err = o.to_scenario().unwrap_err().to_string();
            assert!(err.starts_with(start), "{err}");
        };
        let d = StressOptions::default;
        fails(
            StressOptions {
                duration_s: 1e300,
                ..d()
            },
            "invalid duration: must be at most",
        );
        fails(
            StressOptions {
                tests: u64::MAX,
                ..d()
            },
            "invalid tests: must be at most",
        );
        fails(
            StressOptions {
                workers: u32::MAX,
                ..d()
            },
            "invalid workers: must be at most",
        );
        assert!(StressOptions {
            workers: 1_000_000,
            tests: 100_000_000,
            ..d()
        }
        .to_scenario()
        .is_ok());
    }
}
