//! The grid file: a base scenario, axes (paths into the resolved scenario,
//! each with a list of values) and seeds; and the cells it expands to, in a
//! fixed order.
//!
//! Axes are paths into the serialised, validated `Scenario`, not a second
//! schema: every field a scenario has can be swept, and a new field is
//! sweepable the day it lands. A cell's scenario is the base as JSON with
//! each axis value set at its path, deserialised and validated again.

use super::key::cell_key;
use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::run::{Overrides, RunRequest, Source};
use crate::scenario::{EnvSettings, Scenario};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The grid file as written (`deny_unknown_fields`: a typo is an error).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    #[serde(default)]
    #[allow(dead_code)] // read by people, not by lbsim
    description: Option<String>,
    base: Value,
    #[serde(default)]
    axes: IndexMap<String, Vec<Value>>,
    replications: Option<u32>,
    seeds: Option<Vec<u64>>,
    baseline: Option<String>,
}

/// The reference `stress` flags as an inline base; a missing field takes
/// the reference default.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StressBase {
    workers: Option<u32>,
    tests: Option<u64>,
    duration: Option<f64>,
    burst: Option<bool>,
    dynamic: Option<bool>,
    seed: Option<u64>,
    scheduler: Option<SchedulerName>,
}

/// A named scenario of a config file; an unknown name lists the known ones.
fn named_scenario(name: &str, config: Option<&str>, env: &EnvSettings) -> Result<Scenario> {
    let source = Source::Scenario {
        name: name.to_string(),
        config: config.map(PathBuf::from),
    };
    RunRequest::new(source).scenario(env).map_err(|e| match e {
        Error::Unknown { kind, name, known } => Error::Unknown {
            kind,
            name,
            known: format!("stress, {known}"),
        },
        other => other,
    })
}

/// Most cells one grid may have: each point is built and checked before
/// any cell runs, and each cell is a run.
pub(super) const MAX_CELLS: usize = 1_000_000;

/// An unknown base scenario is an error of the grid file, at `base`.
fn in_base(e: Error, file: &str) -> Error {
    match e {
        Error::Unknown { .. } => Error::bad_file(file.to_string(), "base", e.to_string()),
        other => other,
    }
}

/// Resolves a grid's `base` into a scenario: `"stress"` (the reference
/// stress defaults), `{"stress": {"workers": .., "tests": .., "duration":
/// .., "burst": .., "dynamic": .., "seed": .., "scheduler": ..}}`, the name
/// of a config scenario (the embedded default config, or `LB_CONFIG_PATH`),
/// or `{"scenario": NAME, "config": FILE}`. Each becomes a run request, so
/// a base gets the same defaults as the command line.
pub(crate) fn resolve_base(base: &Value, file: &str, env: &EnvSettings) -> Result<Scenario> {
    let bad = |location: &str, message: String| {
        Error::bad_file(file.to_string(), location.to_string(), message)
    };
    let raw = match base {
        Value::String(name) if name == "stress" => StressBase::default(),
        Value::String(name) => return named_scenario(name, None, env).map_err(|e| in_base(e, file)),
        Value::Object(map) if map.contains_key("scenario") => {
            let name = map["scenario"]
                .as_str()
                .ok_or_else(|| bad("base.scenario", "must be a scenario name".to_string()))?;
            let config = match map.get("config") {
                None => None,
                Some(Value::String(path)) => Some(path.as_str()),
                Some(_) => return Err(bad("base.config", "must be a file path".to_string())),
            };
            if let Some(extra) = map.keys().find(|k| *k != "scenario" && *k != "config") {
                return Err(bad("base", format!("unknown field `{extra}` (expected scenario, config)")));
            }
            return named_scenario(name, config, env).map_err(|e| in_base(e, file));
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("stress") => {
            serde_json::from_value(map["stress"].clone())
                .map_err(|e| bad("base.stress", e.to_string()))?
        }
        _ => {
            return Err(bad(
                "base",
                "must be \"stress\", {\"stress\": {...}}, a scenario name or {\"scenario\": NAME, \"config\": FILE}".to_string(),
            ))
        }
    };
    raw.request()
        .scenario(env)
        .map_err(|e| bad("base.stress", e.to_string()))
}

impl StressBase {
    /// The stress request these fields describe; what is missing takes the
    /// stress command's defaults.
    fn request(self) -> RunRequest {
        let source = Source::Stress {
            burst: self.burst.unwrap_or(false),
            dynamic: self.dynamic.unwrap_or(false),
        };
        let overrides = Overrides {
            workers: self.workers,
            tests: self.tests,
            duration_s: self.duration,
            seed: self.seed,
            scheduler: self.scheduler,
            ..Overrides::default()
        };
        RunRequest {
            overrides,
            ..RunRequest::new(source)
        }
    }
}

/// One swept field.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Axis {
    /// Dotted path into the scenario's JSON (`test_profile.failure_probability`).
    pub(crate) path: String,
    pub(crate) values: Vec<Value>,
}

/// Where a run's seed comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Seeds {
    /// Replication r runs with the cell scenario's seed + r.
    Offsets(usize),
    /// Replication r runs with the r-th listed seed.
    Listed(Vec<u64>),
}

/// One run of the grid: an axis point and a replication.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Position in grid order (the `cell` column).
    pub(crate) index: usize,
    /// Index of the axis point (the `point` column).
    pub(crate) point: usize,
    pub(crate) replication: usize,
    /// This point's value of each axis, in axis order.
    pub(crate) values: Vec<Value>,
    pub(crate) scenario: Scenario,
    /// Hash of the resolved scenario, seed and lbsim version.
    pub(crate) key: String,
}

/// A validated grid. Cells are numbered point-major (the first axis varies
/// slowest, replications fastest), so every replication of a point is
/// adjacent and the numbering never depends on how the cells are run.
#[derive(Clone, Debug)]
pub struct Grid {
    file: String,
    base: Value,
    pub(crate) axes: Vec<Axis>,
    pub(crate) seeds: Seeds,
    baseline: Option<String>,
    /// The environment the grid was read in: its config path and worker
    /// limit serve every cell.
    env: EnvSettings,
}

impl Grid {
    /// Reads and validates a grid file.
    pub fn load(path: &Path, env: &EnvSettings) -> Result<Grid> {
        let text = crate::input::read_text(path, crate::input::InputKind::Grid)?;
        Grid::parse(&text, &path.display().to_string(), env)
    }

    /// Parses and validates grid text; `file` names it in errors. Every
    /// point is built, validated and checked against `LB_MAX_WORKERS`
    /// here, so a bad grid fails before any cell runs.
    pub fn parse(text: &str, file: &str, env: &EnvSettings) -> Result<Grid> {
        let bad = |location: String, message: String| {
            Error::bad_file(file.to_string(), location, message)
        };
        let raw: RawGrid = serde_json::from_str(text).map_err(|e| {
            bad(
                format!("line {} column {}", e.line(), e.column()),
                e.to_string(),
            )
        })?;
        let base = resolve_base(&raw.base, file, env)?;
        let seeds = match (raw.replications, raw.seeds) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "seeds".into(),
                    "give either seeds or replications, not both".into(),
                ))
            }
            (_, Some(list)) if list.is_empty() => {
                return Err(bad("seeds".into(), "must list at least one seed".into()))
            }
            (_, Some(list)) => Seeds::Listed(list),
            (Some(0), _) => return Err(bad("replications".into(), "must be at least 1".into())),
            (r, None) => Seeds::Offsets(r.unwrap_or(1) as usize),
        };
        let mut axes = Vec::new();
        for (path, values) in raw.axes {
            if values.is_empty() {
                return Err(bad(
                    format!("axes.{path}"),
                    "must list at least one value".into(),
                ));
            }
            axes.push(Axis { path, values });
        }
        let grid = Grid {
            file: file.to_string(),
            base: serde_json::to_value(&base).map_err(|e| Error::Run(e.to_string()))?,
            axes,
            seeds,
            baseline: raw.baseline,
            env: env.clone(),
        };
        grid.check_axes()?;
        grid.check_baseline()?;
        grid.check_points()?;
        Ok(grid)
    }

    /// Overrides the replication count (`--replications`).
    pub fn with_replications(mut self, replications: usize) -> Result<Grid> {
        if replications == 0 {
            return Err(Error::invalid("--replications", "must be at least 1"));
        }
        if let Seeds::Listed(_) = self.seeds {
            return Err(Error::invalid(
                "--replications",
                format!("{} lists its own seeds", self.file),
            ));
        }
        let cells = self.points().saturating_mul(replications);
        if cells > MAX_CELLS {
            return Err(Error::invalid(
                "--replications",
                format!(
                    "{replications} x {} points is {cells} cells, more than {MAX_CELLS}",
                    self.points()
                ),
            ));
        }
        self.seeds = Seeds::Offsets(replications);
        Ok(self)
    }

    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    /// The environment every cell runs in.
    pub(crate) fn env(&self) -> &EnvSettings {
        &self.env
    }

    /// Number of axis points (the product of the axis lengths).
    pub(crate) fn points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    pub(crate) fn replications(&self) -> usize {
        match &self.seeds {
            Seeds::Offsets(r) => *r,
            Seeds::Listed(list) => list.len(),
        }
    }

    /// Number of cells (points × replications).
    pub(crate) fn len(&self) -> usize {
        self.points() * self.replications()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scheduler that paired differences are taken against: the grid's
    /// `baseline`, else the first value of the `scheduler` axis; none
    /// without a scheduler axis.
    pub fn baseline(&self) -> Option<String> {
        let axis = self.axes.iter().find(|a| a.path == "scheduler")?;
        self.baseline
            .clone()
            .or_else(|| axis.values.first().map(value_text))
    }

    /// The grid's identity: a 64-bit FNV-1a hash of what every cell key
    /// derives from (the resolved base, the axes, the seeds, the lbsim
    /// version), so two files with the same hash hold cells of one grid.
    /// Cheap: no cell is built.
    pub(crate) fn hash(&self) -> String {
        let axes: Vec<(&str, &Vec<Value>)> = self
            .axes
            .iter()
            .map(|a| (a.path.as_str(), &a.values))
            .collect();
        let seeds = match &self.seeds {
            Seeds::Offsets(r) => format!("offsets {r}"),
            Seeds::Listed(list) => format!("listed {list:?}"),
        };
        let text = format!(
            "lbsim {}\ncells {}\nbase {}\naxes {}\nseeds {seeds}",
            env!("CARGO_PKG_VERSION"),
            self.len(),
            self.base,
            serde_json::to_string(&axes).unwrap_or_default(),
        );
        format!("{:016x}", crate::hash::fnv1a64(text.as_bytes()))
    }

    /// The cell at `index` in grid order.
    pub(crate) fn cell(&self, index: usize) -> Result<Cell> {
        let reps = self.replications();
        let (point, replication) = (index / reps, index % reps);
        let scenario = self.scenario_at(point, replication)?;
        let key = cell_key(&scenario);
        Ok(Cell {
            index,
            point,
            replication,
            values: self.point_values(point),
            scenario,
            key,
        })
    }

    /// The axis values of a point: mixed radix, the last axis fastest.
    pub(crate) fn point_values(&self, point: usize) -> Vec<Value> {
        let mut rest = point;
        let mut values: Vec<Value> = self
            .axes
            .iter()
            .rev()
            .map(|a| {
                let v = a.values[rest % a.values.len()].clone();
                rest /= a.values.len();
                v
            })
            .collect();
        values.reverse();
        values
    }

    /// The validated scenario of a point's replication, built whole: the
    /// base with the point's axis values and the replication's seed set.
    fn scenario_at(&self, point: usize, replication: usize) -> Result<Scenario> {
        let mut json = self.base.clone();
        for (axis, value) in self.axes.iter().zip(self.point_values(point)) {
            set_path(&mut json, &axis.path, value).map_err(|m| self.bad_point(point, m))?;
        }
        // The point's seed (the base's or a seed axis's) + r, or the r-th
        // listed seed; a seed that is no number fails in the conversion.
        let seed = match &self.seeds {
            Seeds::Offsets(_) => json["seed"]
                .as_u64()
                .map(|s| s.wrapping_add(replication as u64)),
            Seeds::Listed(list) => Some(list[replication]),
        };
        if let Some(seed) = seed {
            json["seed"] = seed.into();
        }
        let scenario: Scenario =
            serde_json::from_value(json).map_err(|e| self.bad_point(point, e.to_string()))?;
        scenario
            .validate()
            .map_err(|e| self.bad_point(point, e.to_string()))?;
        Ok(scenario)
    }

    fn bad_point(&self, point: usize, message: String) -> Error {
        let values: Vec<String> = self
            .axes
            .iter()
            .zip(self.point_values(point))
            .map(|(a, v)| format!("{}={}", a.path, value_text(&v)))
            .collect();
        Error::bad_file(
            self.file.clone(),
            format!("point {point} ({})", values.join(", ")),
            message,
        )
    }

    /// Each value of each axis alone on the base: the error names the path
    /// and the value's position.
    fn check_axes(&self) -> Result<()> {
        for axis in &self.axes {
            for (i, value) in axis.values.iter().enumerate() {
                let bad = |message: String| {
                    Error::bad_file(
                        self.file.clone(),
                        format!("axes.{}[{i}]", axis.path),
                        message,
                    )
                };
                if value_text(value).contains(['\n', '\r']) {
                    return Err(bad("a value must not contain a line break".into()));
                }
                let mut json = self.base.clone();
                set_path(&mut json, &axis.path, value.clone()).map_err(|m| {
                    Error::bad_file(self.file.clone(), format!("axes.{}", axis.path), m)
                })?;
                let scenario: Scenario = serde_json::from_value(json)
                    .map_err(|e| bad(format!("{value} does not fit: {e}")))?;
                scenario.validate().map_err(|e| bad(e.to_string()))?;
            }
        }
        Ok(())
    }

    fn check_baseline(&self) -> Result<()> {
        let Some(baseline) = &self.baseline else {
            return Ok(());
        };
        let bad = |message: &str| Error::bad_file(self.file.clone(), "baseline", message);
        match self.axes.iter().find(|a| a.path == "scheduler") {
            None => Err(bad("needs a scheduler axis")),
            Some(a) if !a.values.iter().any(|v| value_text(v) == *baseline) => {
                Err(bad("is not a value of the scheduler axis"))
            }
            Some(_) => Ok(()),
        }
    }

    /// Builds every point once; axes that are fine alone may still clash.
    fn check_points(&self) -> Result<()> {
        let points = self
            .axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
        match points.and_then(|p| p.checked_mul(self.replications())) {
            None => Err(Error::bad_file(
                self.file.clone(),
                "axes",
                "the grid has too many cells to count",
            )),
            Some(cells) if cells > MAX_CELLS => Err(Error::bad_file(
                self.file.clone(),
                "axes",
                format!(
                    "{cells} cells, more than {MAX_CELLS} (split the study into several grids)"
                ),
            )),
            Some(_) => (0..self.points()).try_for_each(|p| {
                let peak = self.scenario_at(p, 0)?.peak_workers();
                let what = format!("{}: point {p}", self.file);
                self.env.check_workers(&what, peak)
            }),
        }
    }
}

/// A value as it appears in a CSV cell: strings bare, anything else as
/// compact JSON.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replaces the value at a dotted path; every step must already exist, so
/// a typo is an error and not a silently ignored new field.
pub(crate) fn set_path(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let mut here = root;
    for (depth, step) in path.split('.').enumerate() {
        let so_far = path.split('.').take(depth).collect::<Vec<_>>().join(".");
        here = match here {
            Value::Object(map) => {
                let known = map.keys().cloned().collect::<Vec<_>>().join(", ");
                map.get_mut(step).ok_or_else(|| {
                    let at = if so_far.is_empty() {
                        "the scenario".to_string()
                    } else {
                        so_far.clone()
                    };
                    format!("no field '{step}' in {at} (fields: {known})")
                })?
            }
            Value::Array(items) => {
                let len = items.len();
                step.parse::<usize>()
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| format!("'{step}' is not an index of {so_far} (length {len})"))?
            }
            _ => return Err(format!("{so_far} has no fields")),
        };
    }
    *here = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: &str = r#"{
        "base": {"stress": {"tests": 20, "duration": 5}},
        "axes": {"scheduler": ["performance_based", "round_robin"], "workers": [2, 3, 4]},
        "replications": 2
    }"#;

    #[test]
    fn cells_are_point_major_with_the_last_axis_fastest() {
        let g = Grid::parse(GRID, "g.json", &EnvSettings::default()).unwrap();
        assert_eq!((g.points(), g.replications(), g.len()), (6, 2, 12));
        let c = g.cell(7).unwrap();
        assert_eq!((c.point, c.replication), (3, 1));
        assert_eq!(c.values, vec![Value::from("round_robin"), Value::from(2)]);
        assert_eq!(c.scenario.workers, 2);
        assert_eq!(c.scenario.scheduler, SchedulerName::RoundRobin);
        assert_eq!(c.scenario.seed, 43);
        assert_eq!(c.scenario.tests, 20);
        assert_eq!(g.baseline().as_deref(), Some("performance_based"));
    }

    #[test]
    fn the_hash_changes_with_any_part_of_the_grid() {
        let env = EnvSettings::default();
        let g = Grid::parse(GRID, "g.json", &env).unwrap();
        let h = g.hash();
        assert_eq!(h.len(), 16);
        assert_eq!(h, Grid::parse(GRID, "other.json", &env).unwrap().hash());
        assert_ne!(h, g.clone().with_replications(3).unwrap().hash());
        for other in [
            GRID.replace("\"tests\": 20", "\"tests\": 21"),
            GRID.replace("[2, 3, 4]", "[2, 3, 5]"),
            GRID.replace("\"replications\": 2", "\"seeds\": [42, 44]"),
        ] {
            assert_ne!(
                h,
                Grid::parse(&other, "g.json", &env).unwrap().hash(),
                "{other}"
            );
        }
    }

    #[test]
    fn the_same_seeds_serve_every_point() {
        let g = Grid::parse(GRID, "g.json", &EnvSettings::default()).unwrap();
        let seeds: Vec<u64> = (0..g.len())
            .map(|i| g.cell(i).unwrap().scenario.seed)
            .collect();
        assert_eq!(seeds, [42, 43].repeat(6));
    }

    #[test]
    fn nested_paths_and_listed_seeds_work() {
        let g = Grid::parse(
            r#"{"base": "stress", "seeds": [7, 9],
                "axes": {"test_profile.failure_probability": [0.0, 0.1],
                         "worker_profile.memory_gb.0": [64.0]}}"#,
            "g.json",
            &EnvSettings::default(),
        )
        .unwrap();
        let c = g.cell(3).unwrap();
        assert_eq!(c.scenario.seed, 9);
        assert_eq!(c.scenario.test_profile.failure_probability, 0.1);
        assert_eq!(c.scenario.worker_profile.memory_gb[0], 64.0);
    }

    fn err(text: &str) -> String {
        Grid::parse(text, "g.json", &EnvSettings::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_grids_name_the_path() {
        let e = err(r#"{"base": "stress", "axes": {"wrkers": [1]}}"#);
        assert!(
            e.starts_with("g.json: axes.wrkers: no field 'wrkers'"),
            "{e}"
        );
        let e = err(r#"{"base": "stress", "axes": {"churn.leave_probability": [0.1]}}"#);
        assert!(
            e.contains("axes.churn.leave_probability: no field 'leave_probability' in churn"),
            "{e}"
        );
        let e = err(r#"{"base": "stress", "axes": {"workers": []}}"#);
        assert_eq!(e, "g.json: axes.workers: must list at least one value");
        let e = err(r#"{"base": "stress", "axes": {"workers": ["many"]}}"#);
        assert!(
            e.starts_with("g.json: axes.workers[0]: \"many\" does not fit"),
            "{e}"
        );
        let e = err(r#"{"base": "stress", "axes": {"workers": [4, 0]}}"#);
        assert_eq!(
            e,
            "g.json: axes.workers[1]: invalid workers: must be at least 1"
        );
        let e = err(r#"{"base": "stress", "axes": {"scheduler": ["fastest"]}}"#);
        assert!(e.starts_with("g.json: axes.scheduler[0]"), "{e}");
        let e = err(r#"{"base": "stress", "axes": {}, "replicatons": 2}"#);
        assert!(e.contains("unknown field `replicatons`"), "{e}");
        let e = err(r#"{"base": "normal", "axes": {}}"#);
        assert!(
            e.contains("unknown scenario 'normal' (known: stress, normal_operation"),
            "{e}"
        );
        let e = err(r#"{"base": {"scenario": "worker_churn", "extra": 1}, "axes": {}}"#);
        assert!(e.contains("unknown field `extra`"), "{e}");
        // Named config scenarios are bases too, with their own profiles.
        let env = EnvSettings::default();
        let churn = resolve_base(&serde_json::json!("worker_churn"), "g.json", &env).unwrap();
        assert_eq!(churn.name.as_deref(), Some("worker_churn"));
        assert!(churn.is_dynamic());
        let normal = resolve_base(
            &serde_json::json!({"scenario": "normal_operation"}),
            "g.json",
            &env,
        )
        .unwrap();
        assert_eq!(normal.name.as_deref(), Some("normal_operation"));
        let e = err(r#"{"base": {"stress": {"workers": 0}}}"#);
        assert_eq!(
            e,
            "g.json: base.stress: invalid workers: must be at least 1"
        );
        let e = err(r#"{"base": "stress", "baseline": "round_robin"}"#);
        assert_eq!(e, "g.json: baseline: needs a scheduler axis");
    }

    #[test]
    fn the_environment_is_handed_in_not_read() {
        let env = EnvSettings {
            default_duration_s: Some(15.0),
            max_workers: Some(3),
            ..Default::default()
        };
        let e = Grid::parse(GRID, "g.json", &env).unwrap_err().to_string();
        assert_eq!(
            e,
            "g.json: point 2 could reach 4 workers, more than LB_MAX_WORKERS=3"
        );
        let env = EnvSettings {
            max_workers: None,
            ..env
        };
        let g = Grid::parse(r#"{"base": "stress"}"#, "g.json", &env).unwrap();
        assert_eq!(g.cell(0).unwrap().scenario.duration_s, 15.0);
    }

    #[test]
    fn axes_that_clash_name_the_point() {
        let e = err(r#"{"base": "stress", "axes": {"duration_s": [60, 6000]}}"#);
        assert!(e.contains("axes.duration_s[1]: invalid horizon"), "{e}");
    }
}
