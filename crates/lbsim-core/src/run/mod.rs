//! The run request: the one way a source (the stress flags, a named
//! scenario, the spike, a trace, a benchmark cell, a ready scenario) and the
//! user's overrides become a validated scenario and a run.
//!
//! Every default is applied once, here, while the scenario is built; no
//! scenario is patched after. The environment is read by the caller and
//! handed in ([`EnvSettings`]), so library code never reads the process
//! environment. Output paths are checked before anything runs.
//!
//! ```no_run
//! use lbsim_core::engine::NoObserver;
//! use lbsim_core::run::{Outputs, Overrides, RunRequest, Source};
//! use lbsim_core::scenario::EnvSettings;
//!
//! let request = RunRequest {
//!     source: Source::Scenario { name: "worker_churn".into(), config: None },
//!     overrides: Overrides { seed: Some(7), ..Default::default() },
//!     outputs: Outputs { results: Some("churn.json".into()), ..Default::default() },
//! };
//! let report = request.prepare(&EnvSettings::default())?.run(&mut NoObserver)?;
//! println!("p99 latency {:.3} s", report.output.metrics.latency.p99);
//! # Ok::<(), lbsim_core::Error>(())
//! ```

mod benchmark;
mod execute;
mod memory;
mod outputs;
mod overrides;
mod prepare;
mod wall_clock;

pub use benchmark::benchmark;
pub use execute::{Drive, PreparedRun, RunReport};
pub use outputs::Outputs;
pub use overrides::Overrides;
pub use wall_clock::WallClock;

use crate::scenario::presets::BenchmarkCell;
use crate::scenario::{EnvSettings, Scenario};
use crate::workload::trace::junit::JunitOptions;
use crate::workload::trace::TraceFormat;
use std::path::PathBuf;

/// What to run, with what, and where its results go.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// Where the scenario comes from.
    pub source: Source,
    /// What the user set over it.
    pub overrides: Overrides,
    /// Which files the run writes.
    pub outputs: Outputs,
}

/// Where a run's scenario comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// The reference's stress test: its defaults, steady or in bursts, with
    /// or without dynamic workers.
    Stress {
        /// In bursts rather than steady.
        burst: bool,
        /// Workers join and leave during the run.
        dynamic: bool,
    },
    /// The `spike` command: bursts, dynamic workers and one load spike.
    Spike,
    /// A named scenario of a config file (`None`: `LB_CONFIG_PATH`, else
    /// the embedded default).
    Scenario {
        /// The scenario's name in the config.
        name: String,
        /// The config file.
        config: Option<PathBuf>,
    },
    /// A recorded workload.
    Trace(TraceSource),
    /// One cell of the benchmark grid (only the seed may be overridden).
    Benchmark(BenchmarkCell),
    /// A scenario built elsewhere, whole (a sweep's grid cell); it takes
    /// no overrides.
    Ready(Box<Scenario>),
}

/// A trace to replay and how.
#[derive(Clone, Debug)]
pub struct TraceSource {
    /// The trace file.
    pub path: PathBuf,
    /// More JUnit reports (or directories of them) merged with `path`'s.
    pub more_paths: Vec<PathBuf>,
    /// `None`: detected from the file name and its first line.
    pub format: Option<TraceFormat>,
    /// Multiplies every time (submissions and run times).
    pub time_scale: f64,
    /// Submits this many times as many jobs per second.
    pub load_factor: f64,
    /// Runs on a config scenario's worker pool instead of the trace's.
    pub cluster: Option<ClusterSource>,
    /// A JUnit suite's requirements map and arrival pattern.
    pub junit: JunitOptions,
}

impl TraceSource {
    /// The trace at `path`, detected, replayed as recorded.
    pub fn new(path: impl Into<PathBuf>) -> TraceSource {
        TraceSource {
            path: path.into(),
            more_paths: Vec::new(),
            format: None,
            time_scale: 1.0,
            load_factor: 1.0,
            cluster: None,
            junit: JunitOptions::default(),
        }
    }

    /// Every path named, `path` first.
    pub fn paths(&self) -> Vec<PathBuf> {
        std::iter::once(self.path.clone())
            .chain(self.more_paths.iter().cloned())
            .collect()
    }
}

/// The config scenario whose worker pool a replay runs on.
#[derive(Clone, Debug)]
pub struct ClusterSource {
    /// The scenario's name in the config.
    pub scenario: String,
    /// `None`: `LB_CONFIG_PATH`, else the embedded default.
    pub config: Option<PathBuf>,
}

impl RunRequest {
    /// A request with no overrides and no outputs.
    pub fn new(source: Source) -> RunRequest {
        RunRequest {
            source,
            overrides: Overrides::default(),
            outputs: Outputs::default(),
        }
    }

    /// Builds the validated scenario (and, for a trace, its jobs) with the
    /// overrides applied, checks `LB_MAX_WORKERS` and the output paths.
    /// Nothing has run and nothing is written yet.
    pub fn prepare(&self, env: &EnvSettings) -> crate::Result<PreparedRun> {
        prepare::prepare(self, env)
    }

    /// The validated scenario alone, without the run's checks: for a base
    /// that other runs are derived from (a sweep's grid base).
    pub fn scenario(&self, env: &EnvSettings) -> crate::Result<Scenario> {
        Ok(prepare::build(self, env)?.scenario)
    }
}
