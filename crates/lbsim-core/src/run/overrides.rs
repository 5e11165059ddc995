//! The user's overrides of a source's values, and the one place where the
//! defaults fill what neither the user nor the source gives.

use crate::error::{Error, Result};
use crate::scenario::{EnvSettings, StressOptions};

/// One type for the user's flags, defined with the scenarios it changes.
pub use crate::scenario::Overrides;

/// Every override by its flag, in the order the flags are documented.
const FLAGS: [&str; 9] = [
    "--workers",
    "--tests",
    "--duration",
    "--seed",
    "--scheduler",
    "--composite-weights",
    "--work-stealing",
    "--concurrency-keys",
    "--load-view",
];

impl Overrides {
    /// The stress options: each given value, else the reference's default;
    /// the duration falls back to `LB_DEFAULT_DURATION` first.
    pub(crate) fn stress(&self, burst: bool, dynamic: bool, env: &EnvSettings) -> StressOptions {
        let defaults = StressOptions::default();
        StressOptions {
            workers: self.workers.unwrap_or(defaults.workers),
            tests: self.tests.unwrap_or(defaults.tests),
            duration_s: self
                .duration_s
                .or(env.default_duration_s)
                .unwrap_or(defaults.duration_s),
            burst,
            dynamic,
            seed: self.seed(),
            scheduler: self.scheduler(),
        }
    }

    /// Fails naming the first of `flags` that is given: the source does
    /// not take it, and an override is never silently ignored.
    pub(crate) fn refuse(&self, flags: &[&str], why: &str) -> Result<()> {
        match FLAGS
            .iter()
            .zip(self.given())
            .find(|(flag, given)| *given && flags.contains(flag))
        {
            Some((flag, _)) => Err(Error::invalid(*flag, why)),
            None => Ok(()),
        }
    }

    /// Whether each of `FLAGS` is given.
    fn given(&self) -> [bool; 9] {
        let b = &self.balancing;
        [
            self.workers.is_some(),
            self.tests.is_some(),
            self.duration_s.is_some(),
            self.seed.is_some(),
            self.scheduler.is_some(),
            b.composite_weights.is_some(),
            b.work_stealing,
            b.concurrency_keys.is_some(),
            b.load_view.is_some(),
        ]
    }
}

/// Every override's flag.
pub(crate) const ALL: &[&str] = &FLAGS;
/// The balancing flags.
pub(crate) const BALANCING: &[&str] = &[
    "--composite-weights",
    "--work-stealing",
    "--concurrency-keys",
    "--load-view",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::BalancingOverrides;

    #[test]
    fn stress_defaults_are_the_references_and_the_environment_fills_the_duration() {
        let none = Overrides::default();
        let env = EnvSettings::default();
        assert_eq!(none.stress(false, false, &env), StressOptions::default());
        let env = EnvSettings {
            default_duration_s: Some(15.0),
            ..Default::default()
        };
        assert_eq!(none.stress(true, false, &env).duration_s, 15.0);
        let given = Overrides {
            duration_s: Some(20.0),
            seed: Some(3),
            ..Default::default()
        };
        let s = given.stress(false, true, &env);
        assert_eq!((s.duration_s, s.seed, s.dynamic), (20.0, 3, true));
    }

    #[test]
    fn a_refused_override_is_named_and_absent_ones_pass() {
        let o = Overrides {
            tests: Some(5),
            balancing: BalancingOverrides {
                work_stealing: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(o.refuse(&["--workers", "--seed"], "no").is_ok());
        let err = o.refuse(ALL, "not here").unwrap_err();
        assert_eq!(err.to_string(), "invalid --tests: not here");
        let err = o.refuse(BALANCING, "not here").unwrap_err();
        assert_eq!(err.to_string(), "invalid --work-stealing: not here");
    }
}
