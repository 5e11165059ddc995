//! Where a config scenario's size came from, so a size the run refuses is
//! blamed on what set it: the test configuration's field in its file (the
//! user's or the built-in one), a command-line flag, or
//! `LB_DEFAULT_DURATION` — never on a field the scenario does not have.

use super::raw::{RawScenario, RawTestConfig};
use super::section::TEST_CONFIGS;
use super::Config;
use crate::error::Error;
use crate::scenario::check::FieldPath;
use crate::scenario::Overrides;

/// What set one of the sizes.
#[derive(Clone, Debug, PartialEq)]
enum Origin {
    /// A field of a file (`test_configurations.big.tests` in `c.json`).
    Field { file: String, path: String },
    /// A flag or an environment variable.
    Given(&'static str),
    /// The reference's default, in no file: the scenario is blamed.
    Default,
}

/// The origins of a scenario's workers, tests and duration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SizeOrigins {
    file: String,
    scenario: FieldPath,
    workers: Origin,
    tests: Origin,
    duration: Origin,
}

impl SizeOrigins {
    /// The origins for scenario `name` (raw `s`) of `cfg` under `o`.
    pub(super) fn of(
        cfg: &Config,
        name: &str,
        s: &RawScenario,
        o: &Overrides,
        env_duration_s: Option<f64>,
    ) -> SizeOrigins {
        let scenario = FieldPath::root()
            .field("scenario_configurations")
            .field(name);
        let entry = s.test_config.as_deref().and_then(|n| {
            let (owner, raw) = TEST_CONFIGS.owner(cfg, n)?;
            Some((n, owner, raw))
        });
        let field = |f: &str| match entry {
            Some((n, owner, raw)) if sets(raw, f) => Origin::Field {
                file: owner.file.clone(),
                path: format!("{}.{n}.{f}", TEST_CONFIGS.key),
            },
            _ => Origin::Default,
        };
        let pick =
            |flag: Option<&'static str>, f: &str| flag.map_or_else(|| field(f), Origin::Given);
        let mut duration = pick(o.duration_s.map(|_| "--duration"), "duration");
        if duration == Origin::Default && env_duration_s.is_some() {
            duration = Origin::Given("LB_DEFAULT_DURATION");
        }
        SizeOrigins {
            file: cfg.file.clone(),
            workers: pick(o.workers.map(|_| "--workers"), "workers"),
            tests: pick(o.tests.map(|_| "--tests"), "tests"),
            duration,
            scenario,
        }
    }

    /// `e` blamed on what set the size it names (its field is `workers`,
    /// `tests` or `duration`, bare or under the scenario's path); `Err(e)`
    /// when it names no size.
    pub(crate) fn blame(&self, e: Error) -> Result<Error, Error> {
        let Error::InvalidInput { flag, message } = &e else {
            return Err(e);
        };
        let bare = flag
            .strip_prefix(&format!("{}.", self.scenario))
            .unwrap_or(flag);
        let origin = match bare {
            "workers" => &self.workers,
            "tests" => &self.tests,
            "duration" => &self.duration,
            _ => return Err(e),
        };
        Ok(match origin {
            Origin::Field { file, path } => {
                Error::bad_file(file.clone(), path.clone(), message.clone())
            }
            Origin::Given(flag) => Error::invalid(*flag, message.clone()),
            Origin::Default => Error::bad_file(
                self.file.clone(),
                self.scenario.field(bare).to_string(),
                message.clone(),
            ),
        })
    }
}

/// Whether a test configuration sets size field `f` itself.
fn sets(raw: &RawTestConfig, f: &str) -> bool {
    match f {
        "workers" => raw.workers.is_some(),
        "tests" => raw.tests.is_some(),
        _ => raw.duration.is_some(),
    }
}
