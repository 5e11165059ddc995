//! The simulator's commands as functions: a run request built from the
//! keywords the Python layer passes (the CLI's flags, same defaults), run
//! off the GIL and stoppable, and its results document made exactly as the
//! CLI's `--output` makes it.

use crate::errors::{invalid, to_py};
use crate::interrupt;
use crate::records::{decision_dict, test_dict, Recorder};
use lbsim::balancer::policy::{CompositeWeights, SchedulerName};
use lbsim::balancer::{Assignment, TestRecord};
use lbsim::report::{self, BenchmarkDoc, ResultsDoc};
use lbsim::run::{ClusterSource, Outputs, Overrides, RunRequest, Source, TraceSource};
use lbsim::scenario::{BalancingOverrides, Config, EnvSettings, LoadView};
use lbsim::sweep::{self, Grid, Shard, SuiteOptions, SweepOptions};
use lbsim::workload::trace::TraceFormat;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeResults>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(benchmark, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_grid, m)?)?;
    m.add_function(wrap_pyfunction!(list_scenarios, m)?)?;
    Ok(())
}

fn env() -> PyResult<EnvSettings> {
    EnvSettings::from_env().map_err(to_py)
}

/// A keyword's value, `None` when absent or `None`.
fn get<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<T>> {
    match d.get_item(key)? {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v.extract::<T>().map(Some).map_err(|e| {
            let e: PyErr = e.into();
            invalid(key, e.value(d.py()).to_string())
        }),
    }
}

fn positive(key: &str, v: Option<f64>) -> PyResult<Option<f64>> {
    match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(invalid(key, "must be a positive number")),
        other => Ok(other),
    }
}

fn at_least_one<T: PartialOrd + From<u8>>(key: &str, v: Option<T>) -> PyResult<Option<T>> {
    match v {
        Some(x) if x < T::from(1u8) => Err(invalid(key, "must be at least 1")),
        other => Ok(other),
    }
}

fn scheduler(d: &Bound<'_, PyDict>) -> PyResult<Option<SchedulerName>> {
    get::<String>(d, "scheduler")?
        .map(|s| SchedulerName::parse(&s).map_err(|e| invalid("scheduler", e)))
        .transpose()
}

/// The overrides from the keywords, checked as the CLI checks its flags.
fn overrides(d: &Bound<'_, PyDict>) -> PyResult<Overrides> {
    let weights = get::<String>(d, "composite_weights")?
        .map(|w| CompositeWeights::parse(&w).map_err(|e| invalid("composite_weights", e)))
        .transpose()?;
    let load_view = match get::<String>(d, "load_view")?.as_deref() {
        None => None,
        Some("live") => Some(LoadView::Live),
        Some("reported") => Some(LoadView::Reported),
        Some(other) => {
            return Err(invalid(
                "load_view",
                format!("'{other}' is not live or reported"),
            ))
        }
    };
    Ok(Overrides {
        workers: at_least_one("workers", get::<u32>(d, "workers")?)?,
        tests: at_least_one("tests", get::<u64>(d, "tests")?)?,
        duration_s: positive("duration", get::<f64>(d, "duration")?)?,
        seed: get::<u64>(d, "seed")?,
        scheduler: scheduler(d)?,
        balancing: BalancingOverrides {
            composite_weights: weights,
            work_stealing: get::<bool>(d, "work_stealing")?.unwrap_or(false),
            concurrency_keys: get::<u32>(d, "concurrency_keys")?,
            load_view,
        },
    })
}

fn outputs(d: &Bound<'_, PyDict>) -> PyResult<Outputs> {
    Ok(Outputs {
        results: get::<PathBuf>(d, "output")?,
        tests_csv: get::<PathBuf>(d, "csv")?,
        decisions: get::<PathBuf>(d, "decisions")?,
        stats: get::<bool>(d, "stats")?.unwrap_or(false),
    })
}

/// The source named by `kind` with its own keywords.
fn source(kind: &str, d: &Bound<'_, PyDict>) -> PyResult<Source> {
    Ok(match kind {
        "stress" => Source::Stress {
            burst: get::<bool>(d, "burst")?.unwrap_or(false),
            dynamic: get::<bool>(d, "dynamic")?.unwrap_or(false),
        },
        "spike" => Source::Spike,
        "scenario" => Source::Scenario {
            name: get::<String>(d, "name")?.ok_or_else(|| invalid("name", "is required"))?,
            config: get::<PathBuf>(d, "config")?,
        },
        "replay" => {
            let config = get::<PathBuf>(d, "config")?;
            let cluster = match (get::<String>(d, "cluster")?, config) {
                (Some(scenario), config) => Some(ClusterSource { scenario, config }),
                (None, Some(_)) => {
                    return Err(invalid(
                        "config",
                        "replay takes only a worker pool from a config: add cluster=SCENARIO",
                    ))
                }
                (None, None) => None,
            };
            let format = get::<String>(d, "format")?
                .map(|f| TraceFormat::parse(&f).map_err(|e| invalid("format", e)))
                .transpose()?;
            Source::Trace(TraceSource {
                path: get::<PathBuf>(d, "trace")?.ok_or_else(|| invalid("trace", "is required"))?,
                format,
                time_scale: positive("time_scale", get::<f64>(d, "time_scale")?)?.unwrap_or(1.0),
                load_factor: positive("load_factor", get::<f64>(d, "load_factor")?)?.unwrap_or(1.0),
                cluster,
                more_paths: Vec::new(),
                junit: Default::default(),
            })
        }
        other => return Err(invalid("kind", format!("unknown run kind '{other}'"))),
    })
}

/// A finished run: its results document and, if kept, its rows.
#[pyclass(module = "lbsim._native", frozen)]
pub struct NativeResults {
    json: String,
    policy: &'static str,
    tests: Vec<TestRecord>,
    decisions: Vec<Assignment>,
    stats: Option<String>,
}

#[pymethods]
impl NativeResults {
    /// The results document, byte for byte the CLI's `--output` file.
    fn to_json(&self) -> &str {
        &self.json
    }

    /// The `--stats` line, when asked for.
    #[getter]
    fn stats(&self) -> Option<&str> {
        self.stats.as_deref()
    }

    /// One dict per test, in the per-test CSV's order and columns.
    fn tests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows: PyResult<Vec<_>> = self.tests.iter().map(|r| test_dict(py, r)).collect();
        PyList::new(py, rows?)
    }

    /// One dict per decision, in the decision log's order and columns.
    fn decisions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows: PyResult<Vec<_>> = self
            .decisions
            .iter()
            .map(|a| decision_dict(py, a, self.policy))
            .collect();
        PyList::new(py, rows?)
    }

    /// Whether rows were kept (`keep_rows=True`).
    #[getter]
    fn kept(&self) -> bool {
        !self.tests.is_empty()
    }
}

/// One run: `kind` is stress, spike, scenario or replay; `params` holds
/// its keywords, `files` the outputs to write; `keep_rows` keeps the
/// per-test rows and decisions in memory.
#[pyfunction]
#[pyo3(signature = (kind, params, files, keep_rows=true))]
fn run(
    py: Python<'_>,
    kind: &str,
    params: &Bound<'_, PyDict>,
    files: &Bound<'_, PyDict>,
    keep_rows: bool,
) -> PyResult<NativeResults> {
    let request = RunRequest {
        source: source(kind, params)?,
        overrides: overrides(params)?,
        outputs: outputs(files)?,
    };
    let env = env()?;
    let prepared = crate::errors::guard(|| request.prepare(&env).map_err(to_py))?;
    let (done, tests, decisions) = interrupt::run(py, |stop| {
        let mut recorder = Recorder::new(keep_rows, stop);
        let done = prepared.run(&mut recorder);
        (done, recorder.tests, recorder.decisions)
    })?;
    let report = done.map_err(to_py)?;
    let mut doc = ResultsDoc::from_run(&report.output);
    doc.trace = prepared.trace().cloned();
    Ok(NativeResults {
        json: doc.to_json(),
        policy: report.output.scenario.scheduler.as_str(),
        tests,
        decisions,
        stats: report.stats,
    })
}

fn jobs(jobs: Option<usize>) -> PyResult<usize> {
    match jobs {
        Some(0) => Err(invalid("jobs", "must be at least 1")),
        Some(j) => Ok(j),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// The benchmark grid; returns the CLI's `--output` document.
#[pyfunction]
#[pyo3(signature = (full=false, seed=None, scheduler=None, jobs=None))]
fn benchmark(
    py: Python<'_>,
    full: bool,
    seed: Option<u64>,
    scheduler: Option<String>,
    jobs: Option<usize>,
) -> PyResult<String> {
    let scheduler = scheduler
        .map(|s| SchedulerName::parse(&s).map_err(|e| invalid("scheduler", e)))
        .transpose()?;
    let overrides = Overrides {
        seed,
        scheduler,
        ..Overrides::default()
    };
    let env = env()?;
    let cells = lbsim::run::benchmark(full, &overrides, &env).map_err(to_py)?;
    let opts = SuiteOptions {
        jobs: self::jobs(jobs)?,
        shard: Shard::from_flag(None).map_err(to_py)?,
        journal: None,
        resume: false,
        progress: false,
    };
    let outcome = interrupt::run(py, |stop: &AtomicBool| {
        sweep::run_suite(&cells, &opts, stop, |_| Ok(()))
    })?
    .map_err(to_py)?;
    if outcome.interrupted {
        return Err(PyKeyboardInterrupt::new_err("the benchmark was stopped"));
    }
    let doc = BenchmarkDoc::new(&outcome.rows, full, overrides.seed());
    Ok(report::to_pretty_json(&doc))
}

/// A sweep: the grid as JSON text (`file` names it in errors), its rows
/// written to `output` as the CLI writes them, plus the summary when the
/// grid is complete. Returns the summary's path, if written.
#[pyfunction]
#[pyo3(signature = (grid_text, file, output, jobs=None, replications=None, resume=false))]
fn sweep_grid(
    py: Python<'_>,
    grid_text: &str,
    file: &str,
    output: PathBuf,
    jobs: Option<usize>,
    replications: Option<usize>,
    resume: bool,
) -> PyResult<Option<PathBuf>> {
    let env = env()?;
    let mut grid = Grid::parse(grid_text, file, &env).map_err(to_py)?;
    if let Some(r) = replications {
        if r == 0 {
            return Err(invalid("replications", "must be at least 1"));
        }
        grid = grid.with_replications(r).map_err(to_py)?;
    }
    let opts = SweepOptions {
        output,
        jobs: self::jobs(jobs)?,
        shard: Shard::from_flag(None).map_err(to_py)?,
        resume,
        progress: false,
    };
    let out =
        interrupt::run(py, |stop: &AtomicBool| sweep::run(&grid, &opts, stop))?.map_err(to_py)?;
    if out.interrupted {
        return Err(PyKeyboardInterrupt::new_err("the sweep was stopped"));
    }
    if !out.complete {
        return Ok(None);
    }
    sweep::write_summary(&opts.output, grid.baseline().as_deref()).map_err(to_py)
}

/// The config's scenarios as `(name, description)`.
#[pyfunction]
#[pyo3(signature = (config=None))]
fn list_scenarios(config: Option<PathBuf>) -> PyResult<Vec<(String, String)>> {
    let env = env()?;
    let config = Config::load(config.as_deref(), env.config_path.as_deref()).map_err(to_py)?;
    Ok(config
        .scenarios()
        .into_iter()
        .map(|(n, d)| (n.to_string(), d.to_string()))
        .collect())
}
