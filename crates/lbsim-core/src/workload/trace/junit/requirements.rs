//! `--requirements MAP.json`: what each test of a JUnit suite needs, by
//! name glob. A report records how long each test ran, not what it ran
//! on, so without a map every test needs the stated default.
//!
//! ```json
//! {
//!   "default": {"cores": 1, "memory_gb": 0, "cuda": 0, "priority": 3},
//!   "rules": [
//!     {"match": "tests.gpu.*", "cuda": 1, "memory_gb": 8, "labels": ["gpu"]},
//!     {"match": "*::test_slow_*", "priority": 5}
//!   ]
//! }
//! ```
//!
//! A test takes the first rule whose `match` matches its name
//! (`classname::name`); a field the rule leaves out comes from `default`,
//! and a field `default` leaves out from [`Needs::BUILT_IN`]. In a glob `*`
//! matches any run of characters (`.`, `/` and `::` included) and `?` any
//! one; everything else matches itself. `labels` is accepted and reported
//! but not used: the balancer's model has no worker labels yet.

use crate::balancer::model::{gb_to_mib_ceil, Backends, TestSpec};
use crate::error::{Error, Result};
use crate::scenario::config::json_error;
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// A test's needs: a rule's fields, or the default's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NeedsFields {
    /// CPU cores it keeps busy (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cores: Option<u32>,
    /// Memory, GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) memory_gb: Option<f64>,
    /// CUDA devices (a test with any runs on the CUDA backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cuda: Option<u32>,
    /// 1 (most urgent) to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) priority: Option<u8>,
    /// Worker labels the test asks for: accepted, not yet used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<String>>,
}

/// One rule: a glob over test names and what the tests it matches need
/// (the fields of [`NeedsFields`], written beside `match`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rule {
    #[serde(rename = "match")]
    pub(crate) pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cores: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) memory_gb: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cuda: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) priority: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<String>>,
}

impl Rule {
    /// The needs it sets (`serde(flatten)` would lose `deny_unknown_fields`).
    fn needs(&self) -> NeedsFields {
        NeedsFields {
            cores: self.cores,
            memory_gb: self.memory_gb,
            cuda: self.cuda,
            priority: self.priority,
            labels: self.labels.clone(),
        }
    }
}

/// The whole map file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequirementsMap {
    #[serde(default)]
    pub(crate) default: NeedsFields,
    #[serde(default)]
    pub(crate) rules: Vec<Rule>,
}

/// Needs resolved to numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Needs {
    /// CPU cores the test needs.
    pub cores: u32,
    /// Memory the test needs, GB.
    pub memory_gb: f64,
    /// CUDA devices the test needs.
    pub cuda: u32,
    /// Its priority (higher goes first).
    pub priority: u8,
}

impl Needs {
    /// What a test needs when no map says otherwise: one core, no memory
    /// to speak of, no CUDA device, the middle priority (one test per core
    /// of a worker, as a CI runner's shard runs them).
    pub const BUILT_IN: Needs = Needs {
        cores: 1,
        memory_gb: 0.0,
        cuda: 0,
        priority: 3,
    };

    fn with(self, f: &NeedsFields) -> Needs {
        Needs {
            cores: f.cores.unwrap_or(self.cores),
            memory_gb: f.memory_gb.unwrap_or(self.memory_gb),
            cuda: f.cuda.unwrap_or(self.cuda),
            priority: f.priority.unwrap_or(self.priority),
        }
    }

    /// The test's spec, expected to run `run` (its recorded time).
    pub fn spec(self, run: SimDuration, family: u32) -> TestSpec {
        TestSpec {
            priority: self.priority,
            memory_mib: gb_to_mib_ceil(self.memory_gb),
            cuda_devices: self.cuda,
            cpu_cores: self.cores,
            backend: (self.cuda > 0).then_some(Backends::CUDA),
            expected_duration: run,
            model_family: family,
            concurrency_key: None,
        }
    }
}

impl RequirementsMap {
    /// Parses and checks a map; `file` names it in messages, with the
    /// path of the field at fault (`rules[1].cuda`).
    pub(crate) fn parse(file: &str, text: &str) -> Result<RequirementsMap> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let map: RequirementsMap = serde_path_to_error::deserialize(&mut *de)
            .map_err(|e| json_error(file, Some(e.path().to_string()), e.inner()))?;
        de.end().map_err(|e| json_error(file, None, &e))?;
        map.check(file)?;
        Ok(map)
    }

    fn check(&self, file: &str) -> Result<()> {
        let fields = std::iter::once(("default".to_string(), self.default.clone())).chain(
            (self.rules.iter().enumerate()).map(|(i, r)| (format!("rules[{i}]"), r.needs())),
        );
        for (at, f) in fields {
            let bad = |field: &str, why: &str| {
                Error::bad_file(file.to_string(), format!("{at}.{field}"), why.to_string())
            };
            if f.cores == Some(0) {
                return Err(bad("cores", "must be at least 1"));
            }
            if f.memory_gb
                .is_some_and(|m| !(m.is_finite() && (0.0..=1e6).contains(&m)))
            {
                return Err(bad("memory_gb", "must be a number of GB from 0 to 1000000"));
            }
            if f.priority.is_some_and(|p| !(1..=5).contains(&p)) {
                return Err(bad("priority", "must be from 1 to 5"));
            }
        }
        if let Some((i, _)) = (self.rules.iter().enumerate()).find(|(_, r)| r.pattern.is_empty()) {
            let at = format!("rules[{i}].match");
            return Err(Error::bad_file(
                file.to_string(),
                at,
                "is empty".to_string(),
            ));
        }
        Ok(())
    }

    /// The needs of the test named `name`, and the rule that set them
    /// (`None`: the default).
    pub(crate) fn needs_of(&self, name: &str) -> (Needs, Option<usize>) {
        let base = Needs::BUILT_IN.with(&self.default);
        match self
            .rules
            .iter()
            .position(|r| glob_matches(&r.pattern, name))
        {
            Some(i) => (base.with(&self.rules[i].needs()), Some(i)),
            None => (base, None),
        }
    }

    /// Whether any rule or the default names labels.
    pub(crate) fn has_labels(&self) -> bool {
        self.default.labels.is_some() || self.rules.iter().any(|r| r.labels.is_some())
    }
}

/// `*` is any run of characters, `?` any one; the rest is literal. Linear
/// in the name's length times the pattern's: the classic two-pointer match
/// that backtracks only to the last `*`.
pub(crate) fn glob_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_any_run_and_any_one_character() {
        assert!(glob_matches("tests.gpu.*", "tests.gpu.test_x::test_a"));
        assert!(glob_matches("*::test_slow_*", "a.b::test_slow_io"));
        assert!(glob_matches("a?c", "abc") && !glob_matches("a?c", "ac"));
        assert!(glob_matches("*", "") && glob_matches("**x*", "yyx"));
        assert!(!glob_matches("tests.gpu.*", "tests.cpu.test_x::a"));
        assert!(!glob_matches("abc", "abcd") && glob_matches("abc", "abc"));
    }

    #[test]
    fn the_first_matching_rule_wins_over_the_default_over_the_built_in() {
        let map = RequirementsMap::parse(
            "m.json",
            r#"{"default": {"memory_gb": 2},
                "rules": [{"match": "gpu::*", "cuda": 1, "labels": ["gpu"]},
                          {"match": "*", "priority": 5}]}"#,
        )
        .unwrap();
        let (gpu, rule) = map.needs_of("gpu::test_a");
        assert_eq!(rule, Some(0));
        assert_eq!(
            (gpu.cuda, gpu.memory_gb, gpu.priority, gpu.cores),
            (1, 2.0, 3, 1)
        );
        let (other, rule) = map.needs_of("cpu::test_b");
        assert_eq!((rule, other.priority, other.cuda), (Some(1), 5, 0));
        assert!(map.has_labels());
        let spec = gpu.spec(SimDuration::from_secs(3), 7);
        assert_eq!(spec.backend, Some(Backends::CUDA));
        assert_eq!((spec.memory_mib, spec.model_family), (2048, 7));
        let (none, rule) = RequirementsMap::default().needs_of("x");
        assert_eq!((none, rule), (Needs::BUILT_IN, None));
    }

    #[test]
    fn a_bad_map_names_the_field() {
        let err = |text: &str| {
            RequirementsMap::parse("m.json", text)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(r#"{"rules": [{"match": "a", "priority": 9}]}"#),
            "m.json: rules[0].priority: must be from 1 to 5"
        );
        assert_eq!(
            err(r#"{"rules": [{"match": "a"}, {"match": "b", "gpus": 1}]}"#),
            "m.json: rules[1].gpus (line 1, column 48): unknown field `gpus`, expected one of `match`, `cores`, `memory_gb`, `cuda`, `priority`, `labels`"
        );
        assert_eq!(
            err(r#"{"default": {"cores": 0}}"#),
            "m.json: default.cores: must be at least 1"
        );
        assert_eq!(
            err(r#"{"rules": [{"match": ""}]}"#),
            "m.json: rules[0].match: is empty"
        );
        assert_eq!(
            err("{\n} x"),
            "m.json: line 2, column 3: trailing characters"
        );
    }
}
