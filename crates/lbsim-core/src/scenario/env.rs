//! The reference's environment variables, read once and checked: a bad value
//! is bad input (exit 2) naming the variable, never a silent default.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// How much lbsim says on stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// The most detail.
    Debug,
    /// Notes on what lbsim is doing, warnings and errors.
    Info,
    /// Warnings and errors (the default).
    #[default]
    Warning,
    /// Errors only.
    Error,
}

impl LogLevel {
    fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "DEBUG" => LogLevel::Debug,
            "INFO" => LogLevel::Info,
            "WARNING" | "WARN" => LogLevel::Warning,
            "ERROR" => LogLevel::Error,
            _ => return None,
        })
    }
}

/// `LB_LOG_LEVEL`, `LB_MAX_WORKERS`, `LB_DEFAULT_DURATION`, `LB_CONFIG_PATH`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvSettings {
    /// `LB_LOG_LEVEL` (default: warnings and errors only).
    pub log_level: LogLevel,
    /// No run may ever have more workers than this.
    pub max_workers: Option<u64>,
    /// The run duration when neither a flag nor a config gives one.
    pub default_duration_s: Option<f64>,
    /// The config file that replaces the embedded default.
    pub config_path: Option<PathBuf>,
}

impl EnvSettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<EnvSettings> {
        EnvSettings::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads from any lookup (tests pass a closure instead of the process
    /// environment). Empty values count as unset.
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<EnvSettings> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut env = EnvSettings::default();
        if let Some(v) = get("LB_LOG_LEVEL") {
            env.log_level = LogLevel::parse(&v).ok_or_else(|| {
                Error::invalid(
                    "LB_LOG_LEVEL",
                    format!("'{v}' is not one of DEBUG, INFO, WARNING, ERROR"),
                )
            })?;
        }
        if let Some(v) = get("LB_MAX_WORKERS") {
            let n: u64 = v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                Error::invalid("LB_MAX_WORKERS", format!("'{v}' is not a positive integer"))
            })?;
            env.max_workers = Some(n);
        }
        if let Some(v) = get("LB_DEFAULT_DURATION") {
            let d: f64 = v.trim().parse().unwrap_or(f64::NAN);
            if !(d.is_finite() && d > 0.0) {
                return Err(Error::invalid(
                    "LB_DEFAULT_DURATION",
                    format!("'{v}' is not a positive number of seconds"),
                ));
            }
            env.default_duration_s = Some(d);
        }
        env.config_path = get("LB_CONFIG_PATH").map(PathBuf::from);
        Ok(env)
    }

    /// Fails with exit 2 if a run could reach more than `LB_MAX_WORKERS`.
    pub fn check_workers(&self, what: &str, workers: u64) -> Result<()> {
        match self.max_workers {
            Some(max) if workers > max => Err(Error::Limit(format!(
                "{what} could reach {workers} workers, more than LB_MAX_WORKERS={max}"
            ))),
            _ => Ok(()),
        }
    }

    /// Prints `message` on stderr if `level` is at or above LB_LOG_LEVEL.
    pub fn log(&self, level: LogLevel, message: &str) {
        if level >= self.log_level {
            let tag = format!("{level:?}").to_ascii_lowercase();
            crate::console::print_err(&format!("lbsim: {tag}: {message}\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<EnvSettings> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvSettings::from_lookup(|k| pairs.iter().find(|p| p.0 == k).map(|p| p.1.clone()))
    }

    #[test]
    fn values_are_parsed_and_checked() {
        let e = env(&[
            ("LB_LOG_LEVEL", "debug"),
            ("LB_MAX_WORKERS", "100"),
            ("LB_DEFAULT_DURATION", "30"),
            ("LB_CONFIG_PATH", "x.json"),
        ])
        .unwrap();
        assert_eq!(e.log_level, LogLevel::Debug);
        assert_eq!(e.max_workers, Some(100));
        assert_eq!(e.default_duration_s, Some(30.0));
        assert!(e.check_workers("x", 100).is_ok());
        let err = e.check_workers("benchmark", 101).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("LB_MAX_WORKERS=100"), "{err}");
        assert_eq!(env(&[]).unwrap(), EnvSettings::default());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("LB_LOG_LEVEL", "LOUD"),
            ("LB_MAX_WORKERS", "-1"),
            ("LB_MAX_WORKERS", "0"),
            ("LB_DEFAULT_DURATION", "NaN"),
        ] {
            let err = env(&[(k, v)]).unwrap_err();
            assert!(err.to_string().contains(k), "{err}");
            assert_eq!(err.exit_code(), 2);
        }
    }
}
