//! `lbsim sweep` and `lbsim merge`: flags to options, then the library.

use crate::console::print_err;
use crate::error::{Error, Result};
use crate::run::Outputs;
use crate::scenario::EnvSettings;
use crate::sweep::{self, Grid, ResultsFile, Shard, SweepOptions};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// `--output` of `sweep` when none is given.
pub(crate) const DEFAULT_OUTPUT: &str = "sweep_results.csv";

/// Set by the first Ctrl-C: no new cell starts.
static STOP: AtomicBool = AtomicBool::new(false);

/// Options of `sweep`: every scenario comes from the grid file.
#[derive(Clone, Debug, Args)]
pub(crate) struct SweepArgs {
    /// The grid file (JSON: base, axes, replications or seeds)
    #[arg(value_name = "GRID")]
    pub(crate) grid: PathBuf,
    /// Write the results CSV here, one row per cell, and its summary
    /// beside it (FILE.summary.csv) [default: sweep_results.csv]
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Threads running cells [default: all cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) jobs: Option<u32>,
    /// Replications per point (seeds seed, seed+1, ...), overriding the grid's
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) replications: Option<u32>,
    /// Run only cells with index % N == K-1 (for job arrays)
    #[arg(long, value_name = "K/N")]
    pub(crate) shard: Option<String>,
    /// Continue the output file: skip the cells it already holds
    #[arg(long)]
    pub(crate) resume: bool,
}

/// Options of `merge`.
#[derive(Clone, Debug, Args)]
pub(crate) struct MergeArgs {
    /// Shard files written by `lbsim sweep --shard`
    #[arg(value_name = "FILE", required = true)]
    pub(crate) inputs: Vec<PathBuf>,
    /// Write the merged results CSV here, and its summary beside it (required)
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Scheduler the summary's paired differences are taken against
    /// [default: the scheduler of the first point]
    #[arg(long, value_name = "NAME")]
    pub(crate) baseline: Option<String>,
}

pub(crate) fn run(args: &SweepArgs, env: &EnvSettings) -> Result<()> {
    let shard = Shard::from_flag(args.shard.as_deref())?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    check_output(&output)?;
    let mut grid = Grid::load(&args.grid, env)?;
    if let Some(r) = args.replications {
        grid = grid.with_replications(r as usize)?;
    }
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |j| j as usize,
    );
    let opts = SweepOptions {
        output,
        jobs,
        shard,
        resume: args.resume,
        progress: std::io::stderr().is_terminal(),
    };
    stop_on_ctrl_c();
    let out = sweep::run(&grid, &opts, &STOP)?;
    let path = opts.output.display();
    if out.interrupted {
        return Err(Error::Run(format!(
            "interrupted: {} of {} cells are in {path}; run the same command with --resume to finish",
            out.skipped + out.written,
            out.cells
        )));
    }
    let of_shard = if shard.is_whole() {
        String::new()
    } else {
        format!(" of shard {shard}")
    };
    outln!(
        "sweep: {} cells{of_shard} ({} run, {} already done) -> {path}",
        out.cells,
        out.written,
        out.skipped
    );
    if out.complete {
        if let Some(p) = sweep::write_summary(&opts.output, grid.baseline().as_deref())? {
            outln!("summary -> {}", p.display());
        }
    } else if !shard.is_whole() {
        outln!("merge the shards with `lbsim merge` for the whole file and its summary");
    }
    Ok(())
}

pub(crate) fn merge(args: &MergeArgs) -> Result<()> {
    let Some(output) = &args.output else {
        return Err(Error::invalid("--output", "merge needs --output FILE"));
    };
    check_output(output)?;
    let mut inputs = Vec::new();
    for path in &args.inputs {
        if !path.exists() {
            return Err(Error::invalid(
                "merge",
                format!("{} does not exist", path.display()),
            ));
        }
        let file = ResultsFile::read(path)?;
        if file.torn {
            print_err(&format!(
                "lbsim: warning: {}: torn last line left out\n",
                path.display()
            ));
        }
        inputs.push((path.display().to_string(), file));
    }
    let merged = sweep::merge(&inputs)?;
    // A bad --baseline is bad input: refused before anything is written.
    let file = ResultsFile::parse(&merged.text, &output.display().to_string())?;
    if let Some(header) = file.header.as_deref() {
        sweep::check_baseline(header, &file.rows, args.baseline.as_deref())?;
    }
    crate::report::write_atomically(output, merged.text.as_bytes())?;
    if !merged.missing.is_empty() {
        print_err(&format!(
            "lbsim: warning: {} cells missing below the last one (first: {}); a shard is incomplete\n",
            merged.missing.len(),
            merged.missing[0]
        ));
    }
    outln!("merge: {} rows -> {}", merged.rows, output.display());
    if let Some(p) = sweep::write_summary(output, args.baseline.as_deref())? {
        outln!("summary -> {}", p.display());
    }
    Ok(())
}

/// The results CSV's directory must exist and be writable before any work.
fn check_output(path: &Path) -> Result<()> {
    Outputs {
        results: Some(path.to_path_buf()),
        ..Outputs::default()
    }
    .check()
}

/// First Ctrl-C: finish the cells in progress, write their rows, stop.
/// Second: quit at once (rows are whole lines, so the file stays usable).
fn stop_on_ctrl_c() {
    static PRESSES: AtomicU32 = AtomicU32::new(0);
    // Fails only if a handler is already set (a second sweep in one process).
    let _ = ctrlc::set_handler(|| {
        if PRESSES.fetch_add(1, Ordering::SeqCst) > 0 {
            crate::report::remove_live_temps();
            std::process::exit(130);
        }
        STOP.store(true, Ordering::SeqCst);
        print_err("\nlbsim: stopping after the cells in progress (Ctrl-C again to quit now)\n");
    });
}
