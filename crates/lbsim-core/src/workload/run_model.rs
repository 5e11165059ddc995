//! How long a run really takes and whether it fails, decided per test and
//! attempt from the test's own seed, so the answer does not depend on when
//! or where the run happens.

use crate::balancer::model::TestSpec;
use crate::scenario::{DurationDist, TestProfile};
use crate::sim::SimDuration;

/// What the future holds for one test, fixed when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fate {
    /// Seeds the per-attempt draws.
    pub seed: u64,
    /// A recorded run time and whether it succeeded (trace replay) instead
    /// of draws.
    pub exact: Option<(SimDuration, bool)>,
}

/// The run-time model of a scenario's test profile.
#[derive(Clone, Debug, PartialEq)]
pub struct RunModel {
    /// How long a run takes, relative to the test's expected duration.
    pub duration: DurationDist,
    /// Chance (0–1) that one run fails.
    pub failure_probability: f64,
    /// Runs a failed test gets again before it counts as failed.
    pub retries: u32,
    /// A run still going after this long is stopped as timed out (`None`:
    /// never).
    pub timeout: Option<SimDuration>,
}

impl RunModel {
    /// The run model a test profile describes.
    pub fn from_profile(p: &TestProfile) -> RunModel {
        RunModel {
            duration: p.duration.clone(),
            failure_probability: p.failure_probability,
            retries: p.retries,
            timeout: p.timeout_s.map(SimDuration::from_secs_f64),
        }
    }

    /// The nominal run time (on a speed-1.0 worker) and whether attempt
    /// `attempt` (0-based) fails.
    pub fn attempt(&self, fate: &Fate, spec: &TestSpec, attempt: u32) -> (SimDuration, bool) {
        if let Some((run, success)) = fate.exact {
            return (run, !success);
        }
        let mut draws = AttemptDraws::new(fate.seed, attempt);
        let expected = spec.expected_duration.as_secs_f64();
        let factor = match self.duration {
            DurationDist::Fixed => 1.0,
            DurationDist::Uniform { low, high } => low + (high - low) * draws.unit(),
            DurationDist::Exponential => -libm::log(1.0 - draws.unit()),
            DurationDist::Lognormal { sigma } => {
                // Mean 1: mu = -sigma²/2.
                let z = draws.standard_normal();
                libm::exp(sigma * z - sigma * sigma / 2.0)
            }
        };
        // The draw is this attempt's own (nothing else follows it), so
        // skipping it when failure is impossible changes nothing.
        let fails = self.failure_probability > 0.0 && draws.unit() < self.failure_probability;
        (SimDuration::from_secs_f64(expected * factor), fails)
    }
}

/// A tiny counter-based generator (splitmix64) for per-attempt draws.
struct AttemptDraws(u64);

impl AttemptDraws {
    fn new(seed: u64, attempt: u32) -> Self {
        AttemptDraws(seed ^ u64::from(attempt).wrapping_mul(0xd1b5_4a32_d192_ed03))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn standard_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::model::TestSpec;

    fn spec() -> TestSpec {
        TestSpec {
            priority: 3,
            memory_mib: 512,
            cuda_devices: 0,
            cpu_cores: 1,
            backend: None,
            expected_duration: SimDuration::from_secs(10),
            model_family: 0,
            concurrency_key: None,
        }
    }

    fn mean_of(model: &RunModel) -> f64 {
        let n = 100_000u64;
        (0..n)
            .map(|i| {
                model
                    .attempt(
                        &Fate {
                            seed: i * 7919,
                            exact: None,
                        },
                        &spec(),
                        0,
                    )
                    .0
                    .as_secs_f64()
            })
            .sum::<f64>()
            / n as f64
    }

    #[test]
    fn every_distribution_has_the_expected_mean() {
        let base = RunModel {
            duration: DurationDist::Fixed,
            failure_probability: 0.0,
            retries: 0,
            timeout: None,
        };
        assert_eq!(mean_of(&base), 10.0);
        for d in [
            DurationDist::Uniform {
                low: 0.5,
                high: 1.5,
            },
            DurationDist::Exponential,
            DurationDist::Lognormal { sigma: 0.5 },
        ] {
            let m = mean_of(&RunModel {
                duration: d.clone(),
                ..base.clone()
            });
            assert!((m - 10.0).abs() < 0.1, "{d:?}: mean {m}");
        }
    }

    #[test]
    fn attempts_differ_but_repeat_exactly() {
        let model = RunModel {
            duration: DurationDist::Exponential,
            failure_probability: 0.5,
            retries: 3,
            timeout: None,
        };
        let fate = Fate {
            seed: 99,
            exact: None,
        };
        assert_eq!(
            model.attempt(&fate, &spec(), 1),
            model.attempt(&fate, &spec(), 1)
        );
        assert_ne!(
            model.attempt(&fate, &spec(), 0),
            model.attempt(&fate, &spec(), 1)
        );
        let exact = Fate {
            seed: 0,
            exact: Some((SimDuration(5), true)),
        };
        // A recorded success does not fail.
        assert_eq!(model.attempt(&exact, &spec(), 2), (SimDuration(5), false));
    }
}
