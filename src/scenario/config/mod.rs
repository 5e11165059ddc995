//! The config file: read as raw serde types (`raw`), then validated into
//! scenarios (`build`). Errors name the file, the field path and, for syntax
//! errors, the line and column.
//!
//! A file's own test configurations and profiles come first; names it does
//! not define fall back to the built-in ones of the embedded default file, so
//! a file holding only a scenario (as in the reference guide) is complete.
//! Scenarios are the file's alone: `--config` replaces the default list.

mod build;
pub mod raw;

pub use build::Overrides;

use crate::error::{Error, Result};
use crate::scenario::Scenario;
use raw::RawConfig;
use std::path::Path;

/// The default config, embedded so lbsim works from any directory.
pub const DEFAULT_CONFIG_JSON: &str = include_str!("../../../scenarios/default.json");
/// How the embedded file is named in messages.
pub const DEFAULT_CONFIG_NAME: &str = "<embedded scenarios/default.json>";

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
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::bad_file(file.clone(), "cannot be read", e.to_string()))?;
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
        let Some(raw) = self.raw.scenario_configurations.get(name) else {
            let known: Vec<&str> = self.scenarios().iter().map(|s| s.0).collect();
            return Err(Error::Unknown {
                kind: "scenario",
                name: name.to_string(),
                known: known.join(", "),
            });
        };
        build::scenario(self, name, raw, overrides)
    }

    /// A worker profile by name (`lbsim worker --profile NAME`).
    pub fn worker_profile(&self, name: &str) -> Result<crate::scenario::WorkerProfile> {
        build::named_worker_profile(self, name)
    }

    /// Validates every section, used or not, so a broken profile is found
    /// when the file is loaded rather than when a scenario first needs it.
    fn check_all(&self) -> Result<()> {
        let ctx = build::Ctx { file: &self.file };
        for (name, t) in &self.raw.test_configurations {
            build::test_config(&ctx, name, t)?;
        }
        for (name, w) in &self.raw.worker_profiles {
            build::worker_profile(&ctx, name, w)?;
        }
        for (name, t) in &self.raw.test_profiles {
            build::test_profile(&ctx, name, t)?;
        }
        for (name, s) in &self.raw.scenario_configurations {
            build::scenario(self, name, s, &Overrides::default())?;
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

fn json_error(file: &str, path: Option<String>, e: &serde_json::Error) -> Error {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m)
        .to_string();
    let position = format!("line {}, column {}", e.line(), e.column());
    let location = match path {
        Some(p) if e.is_data() && p != "." => format!("{p} ({position})"),
        _ => position,
    };
    Error::bad_file(file.to_string(), location, message)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
