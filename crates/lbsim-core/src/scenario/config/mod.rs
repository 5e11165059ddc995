//! The config file: read as raw serde types (`raw`, and `arrivals` for the
//! one section serde cannot read alone), each section converted and checked
//! by the same check a hand-built scenario passes (`sections`), scenarios
//! assembled with the command line's overrides (`build`). Errors name the
//! file, the field path and, for syntax errors, the line and column.
//!
//! A file's own test configurations and profiles come first; names it does
//! not define fall back to the built-in ones of the embedded default file, so
//! a file holding only a scenario (as in the reference guide) is complete.
//! Scenarios are the file's alone: `--config` replaces the default list.

mod arrivals;
mod build;
mod origin;
pub mod raw;
mod section;
mod sections;

pub use crate::scenario::Overrides;
pub(crate) use origin::SizeOrigins;

use crate::error::{Error, Result};
use crate::scenario::check::FieldPath;
use crate::scenario::Scenario;
use raw::RawConfig;
use std::path::Path;

/// The default config, embedded so lbsim works from any directory.
pub(crate) const DEFAULT_CONFIG_JSON: &str = include_str!("../../../../../scenarios/default.json");
/// How the embedded file is named in messages.
pub(crate) const DEFAULT_CONFIG_NAME: &str = "<embedded scenarios/default.json>";

/// A parsed and fully validated config file.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file's name as shown in messages.
    pub file: String,
    raw: RawConfig,
    builtin: Option<Box<Config>>,
}

impl Config {
    /// The embedded default config.
    pub fn embedded() -> Result<Config> {
        Config::parse_with(DEFAULT_CONFIG_JSON, DEFAULT_CONFIG_NAME, None)
    }

    /// The config named by `--config`, else `LB_CONFIG_PATH`, else the
    /// embedded one.
    pub fn load(flag: Option<&Path>, env_path: Option<&Path>) -> Result<Config> {
        match flag.or(env_path) {
            Some(path) => Config::from_file(path),
            None => Config::embedded(),
        }
    }

    /// Reads and validates a file. An unreadable file is bad input (exit 2).
    pub fn from_file(path: &Path) -> Result<Config> {
        let file = path.display().to_string();
        let text = match crate::input::read_text(path, crate::input::InputKind::Config) {
            Err(Error::Input { source, .. }) => {
                return Err(Error::bad_file(file, "cannot be read", source.to_string()))
            }
            other => other?,
        };
        Config::parse(&text, &file)
    }

    /// Parses and validates `text`; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config> {
        Config::parse_with(text, file, Some(Box::new(Config::embedded()?)))
    }

    fn parse_with(text: &str, file: &str, builtin: Option<Box<Config>>) -> Result<Config> {
        let raw = parse_raw(text, file)?;
        let config = Config {
            file: file.to_string(),
            raw,
            builtin,
        };
        config.check_all()?;
        Ok(config)
    }

    /// `(name, description)` of every scenario, in file order.
    pub fn scenarios(&self) -> Vec<(&str, &str)> {
        self.raw
            .scenario_configurations
            .iter()
            .map(|(k, v)| (k.as_str(), v.description.as_str()))
            .collect()
    }

    /// Builds the named scenario; an unknown name lists the known ones.
    pub fn scenario(&self, name: &str, overrides: &Overrides) -> Result<Scenario> {
        self.scenario_under(name, overrides, None)
    }

    /// [`Config::scenario`], with `LB_DEFAULT_DURATION` (`env_duration_s`)
    /// filling a duration that neither the flags nor the file give.
    pub(crate) fn scenario_under(
        &self,
        name: &str,
        overrides: &Overrides,
        env_duration_s: Option<f64>,
    ) -> Result<Scenario> {
        let Some(raw) = self.raw.scenario_configurations.get(name) else {
            return Err(self.unknown_scenario(name));
        };
        build::scenario(self, name, raw, overrides, env_duration_s)
    }

    /// What set the sizes of scenario `name` under `overrides`, to blame a
    /// size the run refuses later (memory) on it; `None` for an unknown name.
    pub(crate) fn size_origins(
        &self,
        name: &str,
        overrides: &Overrides,
        env_duration_s: Option<f64>,
    ) -> Option<SizeOrigins> {
        let raw = self.raw.scenario_configurations.get(name)?;
        Some(SizeOrigins::of(self, name, raw, overrides, env_duration_s))
    }

    /// An unknown scenario lists the known ones; in a user's file, the
    /// error names the file and its section (which may be empty).
    fn unknown_scenario(&self, name: &str) -> Error {
        let known: Vec<&str> = self.scenarios().iter().map(|s| s.0).collect();
        let unknown = Error::Unknown {
            kind: "scenario",
            name: name.to_string(),
            known: known.join(", "),
        };
        match (&self.builtin, known.is_empty()) {
            (None, _) => unknown,
            (Some(_), false) => {
                Error::bad_file(&self.file, "scenario_configurations", unknown.to_string())
            }
            (Some(_), true) => Error::bad_file(
                &self.file,
                "scenario_configurations",
                format!("unknown scenario '{name}' (the file defines none)"),
            ),
        }
    }

    /// A worker profile by name (`lbsim worker --profile NAME`).
    pub fn worker_profile(&self, name: &str) -> Result<crate::scenario::WorkerProfile> {
        build::named_worker_profile(self, name)
    }

    /// Validates every section, used or not, so a broken profile is found
    /// when the file is loaded rather than when a scenario first needs it.
    fn check_all(&self) -> Result<()> {
        self.check_section(&section::TEST_CONFIGS, sections::test_config)?;
        self.check_section(&section::WORKER_PROFILES, sections::worker_profile)?;
        self.check_section(&section::TEST_PROFILES, sections::test_profile)?;
        for (name, s) in &self.raw.scenario_configurations {
            build::scenario(self, name, s, &Overrides::default(), None)?;
        }
        Ok(())
    }

    /// Builds every entry of one named section under its own path.
    fn check_section<R, T>(
        &self,
        section: &section::Section<R>,
        build: fn(&FieldPath, &R) -> Result<T>,
    ) -> Result<()> {
        for (name, raw) in (section.entries)(&self.raw) {
            let path = FieldPath::root().field(section.key).field(name);
            build(&path, raw).map_err(|e| e.in_file(&self.file))?;
        }
        Ok(())
    }
}

/// JSON text to raw types, with the failing field path and position.
fn parse_raw(text: &str, file: &str) -> Result<RawConfig> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: RawConfig = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        json_error(file, Some(path), e.inner())
    })?;
    de.end().map_err(|e| json_error(file, None, &e))?;
    Ok(raw)
}

/// A JSON error as a one-line bad-file error (also the requirements map's).
pub(crate) fn json_error(file: &str, path: Option<String>, e: &serde_json::Error) -> Error {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m)
        .to_string();
    let position = format!("line {}, column {}", e.line(), e.column());
    // A section read from buffered fields (`churn`, `arrivals`) puts the
    // path below it first: `.events[1].count: invalid type…`.
    let (below, message) = match message.strip_prefix('.').and_then(|m| m.split_once(": ")) {
        Some((below, rest)) if e.is_data() => (format!(".{below}"), rest.to_string()),
        _ => (String::new(), message),
    };
    let location = match path {
        Some(p) if e.is_data() && p != "." => format!("{p}{below} ({position})"),
        _ => position,
    };
    Error::bad_file(file.to_string(), location, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Arrivals, Churn, DurationDist, Poisson};

    fn err(text: &str) -> String {
        Config::parse(text, "c.json").unwrap_err().to_string()
    }

    #[test]
    fn the_embedded_default_holds_the_five_reference_scenarios() {
        let c = Config::embedded().unwrap();
        let names: Vec<&str> = c.scenarios().iter().map(|s| s.0).collect();
        for n in [
            "normal_operation",
            "high_priority_burst",
            "resource_contention",
            "worker_churn",
            "spike_and_recovery",
        ] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = err("{\n  \"test_configurations\": {\n    \"a\": {\"workers\": NaN}\n  }\n}");
        assert_eq!(e, "c.json: line 3, column 22: expected value");
        let e = err("{} x");
        assert!(e.starts_with("c.json: line 1, column 4: trailing"), "{e}");
    }

    #[test]
    fn data_errors_give_the_field_path() {
        let e = err(r#"{"scenario_configurations": {"s": {"burst_mod": true}}}"#);
        assert!(
            e.starts_with("c.json: scenario_configurations.s.burst_mod (line 1, column 46): unknown field `burst_mod`"),
            "{e}"
        );
    }

    #[test]
    fn profiles_fall_back_to_the_built_in_ones() {
        let c = Config::parse(
            r#"{"scenario_configurations": {"mine": {"test_config": "medium",
                "worker_profile": "balanced", "test_profile": "balanced",
                "burst_mode": true, "dynamic_workers": true}}}"#,
            "c.json",
        )
        .unwrap();
        let s = c.scenario("mine", &Overrides::default()).unwrap();
        assert_eq!((s.workers, s.tests), (20, 100));
        assert!(s.is_burst() && s.is_dynamic());
    }

    #[test]
    fn an_unknown_scenario_lists_the_known_ones() {
        let c = Config::embedded().unwrap();
        let e = c.scenario("nope", &Overrides::default()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("normal_operation"), "{e}");
    }

    /// A hand-built scenario with the config's own defaults (the
    /// reference's retries and timeout) and `medium`'s size.
    fn medium() -> Scenario {
        let mut s = crate::scenario::StressOptions {
            duration_s: 30.0,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        s.horizon_s = 300.0;
        s.test_profile.retries = 3;
        s.test_profile.timeout_s = Some(3600.0);
        s
    }

    type Edit = fn(&mut Scenario);

    /// One bad value per section: as written in a file, its path there, its
    /// path in a scenario, the same value set by hand, and the message.
    fn bad_sections() -> [(&'static str, &'static str, &'static str, Edit, &'static str); 8] {
        [
            (
                r#""worker_profiles": {"w": {"usable_memory_fraction": 1.5}}"#,
                "worker_profiles.w.usable_memory_fraction",
                "worker_profile.usable_memory_fraction",
                |s| s.worker_profile.usable_memory_fraction = 1.5,
                "1.5 must be a fraction in (0, 1]",
            ),
            (
                r#""worker_profiles": {"w": {"memory_distribution": [4, -1]}}"#,
                "worker_profiles.w.memory_distribution[1]",
                "worker_profile.memory_distribution[1]",
                |s| s.worker_profile.memory_gb = vec![4.0, -1.0],
                "-1 must be a positive number",
            ),
            (
                r#""test_profiles": {"t": {"duration_distribution": {"type": "lognormal", "sigma": -1}}}"#,
                "test_profiles.t.duration_distribution.sigma",
                "test_profile.duration_distribution.sigma",
                |s| s.test_profile.duration = DurationDist::Lognormal { sigma: -1.0 },
                "must be >= 0",
            ),
            (
                r#""test_profiles": {"t": {"failure_probability": 1.5}}"#,
                "test_profiles.t.failure_probability",
                "test_profile.failure_probability",
                |s| s.test_profile.failure_probability = 1.5,
                "1.5 must be a probability in [0, 1]",
            ),
            (
                r#""scenario_configurations": {"s": {"arrivals": {"type": "poisson", "rate": -1}}}"#,
                "scenario_configurations.s.arrivals.rate",
                "arrivals.rate",
                |s| s.arrivals = Arrivals::Poisson(Poisson { rate: Some(-1.0) }),
                "must be a positive number of tests per second",
            ),
            (
                r#""scenario_configurations": {"s": {"churn": {"type": "random", "join_probability": 2}}}"#,
                "scenario_configurations.s.churn.join_probability",
                "churn.join_probability",
                |s| {
                    s.churn = Churn::Random {
                        join_probability: 2.0,
                        leave_probability: 0.05,
                        fail_fraction: 1.0 / 3.0,
                        max_factor: 1.5,
                        min_factor: 0.5,
                    }
                },
                "2 must be a probability in [0, 1]",
            ),
            (
                r#""scenario_configurations": {"s": {"load": {"thermal_probability": -1}}}"#,
                "scenario_configurations.s.load.thermal_probability",
                "load.thermal_probability",
                |s| s.load.thermal_probability = -1.0,
                "-1 must be a probability in [0, 1]",
            ),
            (
                r#""scenario_configurations": {"s": {"work_stealing": {"idle_threshold": 0.9}}}"#,
                "scenario_configurations.s.work_stealing.idle_threshold",
                "stealing.idle_threshold",
                |s| s.balancing.stealing.idle_threshold = 0.9,
                "must not exceed busy_threshold",
            ),
        ]
    }

    /// The same rule gives the same message from a file and by hand, each
    /// under its own path.
    #[test]
    fn each_sections_check_names_the_field_the_same_from_a_file_and_by_hand() {
        for (section, file_path, scenario_path, edit, message) in bad_sections() {
            let from_file = err(&format!("{{{section}}}"));
            assert_eq!(from_file, format!("c.json: {file_path}: {message}"));
            let mut s = medium();
            edit(&mut s);
            let by_hand = s.validate().unwrap_err();
            assert_eq!(
                by_hand.to_string(),
                format!("invalid {scenario_path}: {message}")
            );
            assert_eq!(by_hand.exit_code(), 2);
        }
    }

    /// The reference's two example files (tests/fixtures) read as they
    /// always did: every field of both scenarios pinned.
    #[test]
    fn the_reference_examples_parse_to_the_same_scenarios() {
        let text = include_str!("../../../../../tests/fixtures/reference-command-config.json");
        let c = Config::parse(text, "c.json").unwrap();
        let s = c
            .scenario("normal_operation", &Overrides::default())
            .unwrap();
        let mut expected = medium();
        expected.name = Some("normal_operation".into());
        expected.description = "Normal operation with steady test submission".into();
        expected.test_profile.cuda_devices = vec![0, 0, 0, 1, 2];
        assert_eq!(s, expected);
        let text =
            include_str!("../../../../../tests/fixtures/reference-guide-custom-scenario.json");
        let c = Config::parse(text, "c.json").unwrap();
        let s = c
            .scenario("my_custom_scenario", &Overrides::default())
            .unwrap();
        expected.name = Some("my_custom_scenario".into());
        expected.description = "My custom test scenario".into();
        expected.arrivals = Arrivals::Bursts;
        expected.churn = Churn::reference();
        assert_eq!(s, expected);
    }

    #[test]
    fn poisson_without_a_rate_runs_at_the_windows_average() {
        let c = Config::parse(
            r#"{"scenario_configurations": {"s": {"test_config": "medium",
                "arrivals": {"type": "poisson"}}}}"#,
            "c.json",
        )
        .unwrap();
        let s = c.scenario("s", &Overrides::default()).unwrap();
        let rate = 100.0 / 30.0;
        assert_eq!(s.arrivals, Arrivals::Poisson(Poisson { rate: Some(rate) }));
        // The overrides' size sets the default too.
        let o = Overrides {
            tests: Some(300),
            ..Default::default()
        };
        let s = c.scenario("s", &o).unwrap();
        assert_eq!(s.arrivals, Arrivals::Poisson(Poisson { rate: Some(10.0) }));
    }

    #[test]
    fn spikes_and_burst_mode_go_with_any_pattern() {
        let c = Config::parse(
            r#"{"scenario_configurations": {"s": {"burst_mode": true, "arrivals":
                {"type": "bursts", "spikes": [{"start": 5, "length": 4, "multiplier": 3}]}}}}"#,
            "c.json",
        )
        .unwrap();
        let s = c.scenario("s", &Overrides::default()).unwrap();
        assert!(s.is_burst());
        assert_eq!(s.arrivals.spikes().len(), 1);
        assert_eq!(s.arrivals.spikes()[0].ramp_s, 0.0);
        let e = err(
            r#"{"scenario_configurations": {"s": {"burst_mode": true, "arrivals": {"type": "poisson"}}}}"#,
        );
        assert_eq!(
            e,
            "c.json: scenario_configurations.s.burst_mode: contradicts arrivals.type"
        );
    }
}
