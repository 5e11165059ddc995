//! `lbsim sweep` and `lbsim merge`: flags to options, then the library.

use crate::console::print_err;
use crate::error::{Error, Result};
use crate::run::Outputs;
use crate::scenario::EnvSettings;
use crate::sweep::{self, Grid, ResultsFile, Shard, ShardFile, ShardRecord, SweepOptions};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// `--output` of `sweep` when none is given.
pub(crate) const DEFAULT_OUTPUT: &str = "sweep_results.csv";

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
    /// Run only cells with index % N == K-1 (for job arrays); `auto`: K-1
    /// is the batch system's 0-based array index (SLURM_ARRAY_TASK_ID,
    /// PBS_ARRAY_INDEX, PBS_ARRAYID or JOB_COMPLETION_INDEX) and N is
    /// --shards or LBSIM_SHARDS. `{shard}` in --output becomes K
    #[arg(long, value_name = "K/N|auto")]
    pub(crate) shard: Option<String>,
    /// With --shard auto: N, the whole array's size [env: LBSIM_SHARDS]
    #[arg(long, value_name = "N")]
    pub(crate) shards: Option<u64>,
    /// With --shard auto: the 0-based array index, for a batch system that
    /// passes it as an argument (HTCondor's $(Process))
    #[arg(long, value_name = "I")]
    pub(crate) shard_index: Option<u64>,
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
    /// The grid file the shards ran: every cell must be present exactly
    /// once, with this grid's key (without it, the shards' records are
    /// checked the same way)
    #[arg(long, value_name = "GRID")]
    pub(crate) grid: Option<PathBuf>,
    /// Scheduler the summary's paired differences are taken against
    /// [default: the grid's baseline with --grid, else the scheduler of
    /// the first point]
    #[arg(long, value_name = "NAME")]
    pub(crate) baseline: Option<String>,
}

pub(crate) fn run(args: &SweepArgs, env: &EnvSettings) -> Result<()> {
    let shard = shard_of(args)?;
    let output = output_of(args, shard)?;
    check_output(&output)?;
    let mut grid = Grid::load(&args.grid, env)?;
    if let Some(r) = args.replications {
        grid = grid.with_replications(r as usize)?;
    }
    match shard {
        Some(shard) => sweep::record_shard(&grid, shard, &output, args.resume)?,
        None => refuse_unsharded_resume(&output, args.resume)?,
    }
    let shard = shard.unwrap_or(Shard::WHOLE);
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
    sweep::stop_on_signals();
    let out = sweep::run(&grid, &opts, sweep::stop_flag())?;
    let path = opts.output.display();
    if out.interrupted {
        let message = format!(
            "interrupted: {} of {} cells are in {path}; run the same command with --resume to finish",
            out.skipped + out.written,
            out.cells
        );
        return stopped(message);
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

/// A sweep stopped by a signal: exit 1 after Ctrl-C, 128 + the signal
/// after SIGTERM or SIGHUP (see `sweep::stop_on_signals`).
fn stopped(message: String) -> Result<()> {
    match sweep::stopped_by() {
        Some(signal) if signal != 2 => {
            print_err(&format!("lbsim: error: {message}\n"));
            std::process::exit(sweep::stop_exit_code(signal));
        }
        _ => Err(Error::Run(message)),
    }
}

/// The shard flags: `K/N`, or `auto` with the scheduler's index; none
/// without `--shard`. `--shards` and `--shard-index` serve `auto` only.
fn shard_of(args: &SweepArgs) -> Result<Option<Shard>> {
    let auto = args.shard.as_deref() == Some("auto");
    for (flag, given) in [
        ("--shards", args.shards.is_some()),
        ("--shard-index", args.shard_index.is_some()),
    ] {
        if given && !auto {
            return Err(Error::invalid(flag, "goes with --shard auto"));
        }
    }
    if auto {
        // The batch system's variables are read here, beside EnvSettings:
        // they choose the cells, never a cell's result.
        let var = |name: &str| std::env::var(name).ok();
        return Shard::auto(args.shard_index, args.shards, var).map(Some);
    }
    args.shard.as_deref().map(Shard::parse).transpose()
}

/// A shard's file resumed without `--shard` would fill in every other
/// shard's cells too: refused, naming the shard it is.
fn refuse_unsharded_resume(output: &Path, resume: bool) -> Result<()> {
    if !resume || !output.exists() {
        return Ok(());
    }
    match ShardRecord::read(output)? {
        Some(record) => Err(Error::invalid(
            "--shard",
            format!(
                "{} is shard {}; resume it with --shard {} (or --shard auto)",
                output.display(),
                record.shard,
                record.shard
            ),
        )),
        None => Ok(()),
    }
}

/// `--output` with `{shard}` replaced by the shard's number K.
fn output_of(args: &SweepArgs, shard: Option<Shard>) -> Result<PathBuf> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    let text = output.to_string_lossy();
    if !text.contains("{shard}") {
        return Ok(output);
    }
    match shard {
        Some(s) => Ok(PathBuf::from(
            text.replace("{shard}", &s.number().to_string()),
        )),
        None => Err(Error::invalid(
            "--output",
            format!("'{text}' has {{shard}} but no --shard is given"),
        )),
    }
}

pub(crate) fn merge(args: &MergeArgs, env: &EnvSettings) -> Result<()> {
    let Some(output) = &args.output else {
        return Err(Error::invalid("--output", "merge needs --output FILE"));
    };
    check_output(output)?;
    let grid = match &args.grid {
        Some(path) => Some(Grid::load(path, env)?),
        None => None,
    };
    let inputs = read_inputs(&args.inputs)?;
    let checked = sweep::check_complete(&inputs, grid.as_ref())?;
    let named: Vec<(String, ResultsFile)> = inputs.into_iter().map(|i| (i.name, i.file)).collect();
    let merged = sweep::merge(&named)?;
    if !merged.missing.is_empty() {
        return Err(Error::Run(format!(
            "merge refused, no output written: {} cells missing below the last one (first: {}); a shard is incomplete",
            merged.missing.len(),
            merged.missing[0]
        )));
    }
    // A bad --baseline is bad input: refused before anything is written.
    let baseline = args
        .baseline
        .clone()
        .or_else(|| grid.as_ref().and_then(Grid::baseline));
    let file = ResultsFile::parse(&merged.text, &output.display().to_string())?;
    if let Some(header) = file.header.as_deref() {
        sweep::check_baseline(header, &file.rows, baseline.as_deref())?;
    }
    crate::report::write_atomically(output, merged.text.as_bytes())?;
    if !checked {
        print_err(
            "lbsim: warning: no --grid and no shard records: cells after the last one found are not checked\n",
        );
    }
    outln!("merge: {} rows -> {}", merged.rows, output.display());
    if let Some(p) = sweep::write_summary(output, baseline.as_deref())? {
        outln!("summary -> {}", p.display());
    }
    Ok(())
}

/// Each input read (bounded), its values checked, with its shard record.
fn read_inputs(paths: &[PathBuf]) -> Result<Vec<ShardFile>> {
    let mut inputs = Vec::new();
    for path in paths {
        if !path.exists() {
            return Err(Error::invalid(
                "merge",
                format!("{} does not exist", path.display()),
            ));
        }
        let file = sweep::read_results(path)?;
        if file.torn {
            print_err(&format!(
                "lbsim: warning: {}: torn last line left out\n",
                path.display()
            ));
        }
        inputs.push(ShardFile {
            name: path.display().to_string(),
            file,
            record: ShardRecord::read(path)?,
        });
    }
    Ok(inputs)
}

/// The results CSV's directory must exist and be writable before any work.
fn check_output(path: &Path) -> Result<()> {
    Outputs {
        results: Some(path.to_path_buf()),
        ..Outputs::default()
    }
    .check()
}
