//! The `stress` command's options, turned into a scenario.

use super::*;

/// The reference's stress flags.
#[derive(Clone, Debug, PartialEq)]
pub struct StressOptions {
    pub workers: u32,
    pub tests: u64,
    pub duration_s: f64,
    pub burst: bool,
    pub dynamic: bool,
    pub seed: u64,
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

impl StressOptions {
    /// The scenario the reference's `stress` ran: default profiles, steady or
    /// burst submission, optional churn.
    pub fn to_scenario(&self) -> Result<Scenario> {
        let scenario = Scenario {
            name: None,
            description: "stress test".into(),
            seed: self.seed,
            scheduler: self.scheduler,
            workers: self.workers,
            tests: self.tests,
            duration_s: self.duration_s,
            horizon_s: self.duration_s * HORIZON_FACTOR,
            worker_profile: WorkerProfile::default(),
            test_profile: TestProfile::default(),
            arrivals: if self.burst {
                Arrivals::Bursts
            } else {
                Arrivals::Even
            },
            churn: if self.dynamic {
                Churn::reference()
            } else {
                Churn::None
            },
            load: LoadModel::default(),
            balancing: BalancerOptions::default(),
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
