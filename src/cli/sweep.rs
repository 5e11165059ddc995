//! `lbsim sweep` and `lbsim merge`: flags to options, then the library.

use super::args::{CommonArgs, MergeArgs, SweepArgs};
use crate::error::{Error, Result};
use crate::sweep::{self, Grid, ResultsFile, Shard, SweepOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// `--output` of `sweep` when none is given.
pub const DEFAULT_OUTPUT: &str = "sweep_results.csv";

/// Set by the first Ctrl-C: no new cell starts.
static STOP: AtomicBool = AtomicBool::new(false);

pub fn run(common: &CommonArgs, args: &SweepArgs) -> Result<()> {
    reject_run_flags(common)?;
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()?
        .unwrap_or(Shard::WHOLE);
    let mut grid = Grid::load(&args.grid)?;
    if let Some(r) = args.replications {
        grid = grid.with_replications(r as usize)?;
    }
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |j| j as usize,
    );
    let opts = SweepOptions {
        output: common
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT)),
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

pub fn merge(common: &CommonArgs, args: &MergeArgs) -> Result<()> {
    reject_run_flags(common)?;
    let Some(output) = &common.output else {
        return Err(Error::invalid("--output", "merge needs --output FILE"));
    };
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
            eprintln!(
                "lbsim: warning: {}: torn last line left out",
                path.display()
            );
        }
        inputs.push((path.display().to_string(), file));
    }
    let merged = sweep::merge(&inputs)?;
    crate::report::write_atomically(output, merged.text.as_bytes())?;
    if !merged.missing.is_empty() {
        eprintln!(
            "lbsim: warning: {} cells missing below the last one (first: {}); a shard is incomplete",
            merged.missing.len(),
            merged.missing[0]
        );
    }
    outln!("merge: {} rows -> {}", merged.rows, output.display());
    if let Some(p) = sweep::write_summary(output, args.baseline.as_deref())? {
        outln!("summary -> {}", p.display());
    }
    Ok(())
}

/// A sweep takes every scenario from its grid; a run flag would be
/// silently ignored, so it is refused.
fn reject_run_flags(c: &CommonArgs) -> Result<()> {
    let given = [
        ("--workers", c.workers.is_some()),
        ("--tests", c.tests.is_some()),
        ("--duration", c.duration.is_some()),
        ("--seed", c.seed.is_some()),
        ("--scheduler", c.scheduler.is_some()),
        ("--csv", c.csv.is_some()),
        ("--decisions", c.decisions.is_some()),
    ];
    match given.iter().find(|(_, set)| *set) {
        Some((flag, _)) => Err(Error::invalid(
            *flag,
            "sweeps take their scenarios from the grid file; set it in its base or axes",
        )),
        None => Ok(()),
    }
}

/// First Ctrl-C: finish the cells in progress, write their rows, stop.
/// Second: quit at once (rows are whole lines, so the file stays usable).
fn stop_on_ctrl_c() {
    static PRESSES: AtomicU32 = AtomicU32::new(0);
    // Fails only if a handler is already set (a second sweep in one process).
    let _ = ctrlc::set_handler(|| {
        if PRESSES.fetch_add(1, Ordering::SeqCst) > 0 {
            std::process::exit(130);
        }
        STOP.store(true, Ordering::SeqCst);
        eprintln!("\nlbsim: stopping after the cells in progress (Ctrl-C again to quit now)");
    });
}
