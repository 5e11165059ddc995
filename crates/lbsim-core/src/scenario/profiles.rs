//! The worker and test profiles: what workers have and what tests need,
//! each drawn from a list, and every rule a profile must keep.

use super::check::{
    each, FieldPath, AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, POSITIVE_SECONDS, PRIORITY, PROBABILITY,
    SHARE,
};
use super::DEFAULT_TEST_DURATION_S;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Worker capabilities, each drawn uniformly from its list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerProfile {
    /// Installed memory choices, GB.
    pub memory_gb: Vec<f64>,
    /// CUDA device count choices.
    pub cuda_devices: Vec<u32>,
    /// CPU core count choices.
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

impl WorkerProfile {
    /// Every rule of the section; `path` names the profile.
    pub(crate) fn check(&self, path: &FieldPath) -> Result<()> {
        each(
            &path.field("memory_distribution"),
            &self.memory_gb,
            |p, &m| POSITIVE.check(p, m),
        )?;
        each(
            &path.field("cuda_distribution"),
            &self.cuda_devices,
            |_, _| Ok(()),
        )?;
        each(
            &path.field("cpu_cores_distribution"),
            &self.cpu_cores,
            |p, &c| AT_LEAST_ONE.check(p, c),
        )?;
        each(&path.field("speed_distribution"), &self.speed, |p, &s| {
            POSITIVE.check(p, s)
        })?;
        SHARE.check(
            &path.field("usable_memory_fraction"),
            self.usable_memory_fraction,
        )
    }
}

/// How long a test really runs, relative to its expected duration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
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

impl DurationDist {
    /// The parameters' rules; `path` names the distribution.
    pub(crate) fn check(&self, path: &FieldPath) -> Result<()> {
        match *self {
            DurationDist::Uniform { low, high }
                if !(low.is_finite() && high.is_finite() && 0.0 <= low && low <= high) =>
            {
                Err(path.error("uniform needs 0 <= low <= high"))
            }
            DurationDist::Lognormal { sigma } if !(sigma.is_finite() && sigma >= 0.0) => {
                Err(path.field("sigma").error("must be >= 0"))
            }
            _ => Ok(()),
        }
    }
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

impl TestProfile {
    /// Every rule of the section; `path` names the profile.
    pub(crate) fn check(&self, path: &FieldPath) -> Result<()> {
        self.check_lists(path)?;
        let expected = path.field("expected_duration");
        POSITIVE_SECONDS.check(&expected, self.expected_duration_s)?;
        self.duration.check(&path.field("duration_distribution"))?;
        let failure = path.field("failure_probability");
        PROBABILITY.check(&failure, self.failure_probability)?;
        if let Some(t) = self.timeout_s {
            POSITIVE_SECONDS.check(&path.field("timeout"), t)?;
        }
        AT_LEAST_ONE.check(&path.field("model_families"), self.model_families)?;
        PROBABILITY.check(
            &path.field("concurrency_key_probability"),
            self.concurrency_key_probability,
        )
    }

    fn check_lists(&self, path: &FieldPath) -> Result<()> {
        each(
            &path.field("memory_requirements"),
            &self.memory_gb,
            |p, &m| NON_NEGATIVE.check(p, m),
        )?;
        each(
            &path.field("cuda_requirements"),
            &self.cuda_devices,
            |_, _| Ok(()),
        )?;
        each(
            &path.field("priority_distribution"),
            &self.priorities,
            |p, &x| PRIORITY.check(p, x),
        )?;
        each(&path.field("cpu_requirements"), &self.cpu_cores, |_, _| {
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<()>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn the_defaults_pass_their_own_checks() {
        let root = FieldPath::root();
        WorkerProfile::default().check(&root).unwrap();
        TestProfile::default().check(&root).unwrap();
    }

    #[test]
    fn a_bad_worker_value_is_named_by_its_path() {
        let p = FieldPath::root().field("worker_profile");
        let w = WorkerProfile {
            cpu_cores: vec![4, 0],
            ..Default::default()
        };
        let e = err(w.check(&p));
        assert_eq!(
            e,
            "invalid worker_profile.cpu_cores_distribution[1]: 0 must be a whole number >= 1"
        );
        let w = WorkerProfile {
            usable_memory_fraction: 1.5,
            ..Default::default()
        };
        let e = err(w.check(&p));
        assert_eq!(
            e,
            "invalid worker_profile.usable_memory_fraction: 1.5 must be a fraction in (0, 1]"
        );
    }

    #[test]
    fn a_bad_test_value_is_named_by_its_path() {
        let p = FieldPath::root().field("test_profile");
        let bad = |t: TestProfile| err(t.check(&p));
        let e = bad(TestProfile {
            priorities: vec![1, 9],
            ..Default::default()
        });
        assert_eq!(
            e,
            "invalid test_profile.priority_distribution[1]: 9 must be a priority from 1 to 5"
        );
        let e = bad(TestProfile {
            duration: DurationDist::Lognormal { sigma: -1.0 },
            ..Default::default()
        });
        assert_eq!(
            e,
            "invalid test_profile.duration_distribution.sigma: must be >= 0"
        );
        let e = bad(TestProfile {
            model_families: 0,
            ..Default::default()
        });
        assert_eq!(
            e,
            "invalid test_profile.model_families: 0 must be a whole number >= 1"
        );
        let e = bad(TestProfile {
            timeout_s: Some(0.0),
            ..Default::default()
        });
        assert_eq!(
            e,
            "invalid test_profile.timeout: 0 must be a positive number of seconds"
        );
    }
}
