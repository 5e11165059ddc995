//! Parameter sweeps: a grid of scenarios run in parallel into one CSV row
//! per cell, byte-identical for any thread count, resumable after a kill,
//! and shardable over a batch system's job array.
//!
//! The only parallel code in lbsim lives here, across independent runs;
//! each run is the same single-threaded, seeded simulation `stress` runs.
//!
//! ```no_run
//! use lbsim::scenario::EnvSettings;
//! use lbsim::sweep::{self, Grid, Shard, SweepOptions};
//! use std::sync::atomic::AtomicBool;
//!
//! let grid = Grid::load("scenarios/policy_sweep.json".as_ref(), &EnvSettings::default())?;
//! let opts = SweepOptions {
//!     output: "results.csv".into(),
//!     jobs: 4,
//!     shard: Shard::WHOLE,
//!     resume: true,
//!     progress: false,
//! };
//! let outcome = sweep::run(&grid, &opts, &AtomicBool::new(false))?;
//! if outcome.complete {
//!     sweep::write_summary(&opts.output, grid.baseline().as_deref())?;
//! }
//! # Ok::<(), lbsim::Error>(())
//! ```

mod append;
mod complete;
mod grid;
mod input;
mod journal;
mod key;
mod merge;
mod parallel;
mod progress;
mod record;
mod row;
mod runner;
mod shard;
mod stats;
mod stop;
mod suite;
mod summary;

pub use complete::check as check_complete;
pub(crate) use complete::ShardFile;
pub use grid::{Cell, Grid};
pub(crate) use input::read_results;
pub(crate) use merge::merge;
pub(crate) use parallel::run_in_order;
pub(crate) use record::check_and_write as record_shard;
pub(crate) use record::ShardRecord;
pub use row::header;
pub(crate) use row::ResultsFile;
pub use runner::{run, Outcome, SweepOptions};
pub use shard::Shard;
pub(crate) use stats::Estimate;
pub use stop::exit_code as stop_exit_code;
pub(crate) use stop::{stop_flag, stop_on_signals, stopped_by};
pub(crate) use suite::{journal_path, remove_journal};
pub use suite::{run_suite, SuiteOptions};
pub(crate) use summary::{check_baseline, summarize};

use crate::error::Result;
use std::path::{Path, PathBuf};

/// Where the summary of a results file goes: `<output>.summary.csv`.
pub(crate) fn summary_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".summary.csv");
    PathBuf::from(name)
}

/// Writes the summary of a results file beside it (atomically), if some
/// point has two or more replications. Returns the path written.
pub fn write_summary(output: &Path, baseline: Option<&str>) -> Result<Option<PathBuf>> {
    let file = ResultsFile::read(output)?;
    let Some(header) = file.header.as_deref() else {
        return Ok(None);
    };
    let name = output.display().to_string();
    let Some(text) = summarize(&name, header, &file.rows, baseline)? else {
        return Ok(None);
    };
    let path = summary_path(output);
    crate::report::write_atomically(&path, text.as_bytes())?;
    Ok(Some(path))
}
