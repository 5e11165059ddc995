//! `lbsim benchmark [--full]`: the reference grid, one steady run per cell,
//! on every core, printed as a table in grid order as it goes and written
//! as the reference's JSON.

use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::report::{self, BenchmarkDoc};
use crate::run::{self, Outputs, Overrides};
use crate::scenario::{EnvSettings, LogLevel};
use crate::sweep::{self, Shard, SuiteOptions};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Set by the first Ctrl-C: no new cell starts.
static STOP: AtomicBool = AtomicBool::new(false);

/// Options of `benchmark`: the grid sets workers, tests and duration.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct BenchmarkArgs {
    /// Scale up to 10,000 workers and 1,000,000 tests, for every scheduler
    #[arg(long)]
    pub(crate) full: bool,
    /// Master seed of every cell [default: 42]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub(crate) seed: Option<u64>,
    /// Scheduling policy of every cell (see --list-schedulers) [default: performance_based]
    #[arg(long, value_name = "NAME", value_parser = SchedulerName::parse, conflicts_with = "full")]
    pub(crate) scheduler: Option<SchedulerName>,
    /// Write the benchmark results JSON here (whole, or not at all); cells
    /// are journaled in FILE.cells.jsonl until then
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Threads running cells [default: all cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) jobs: Option<u32>,
    /// Run only cells with index % N == K-1 into FILE.cells.jsonl (needs
    /// --output); join the shards' journals into one and --resume it
    #[arg(long, value_name = "K/N", requires = "output")]
    pub(crate) shard: Option<String>,
    /// Continue FILE.cells.jsonl of an interrupted run: skip its cells
    #[arg(long, requires = "output")]
    pub(crate) resume: bool,
}

/// How the cells run: threads, shard, journal, progress.
fn suite_options(args: &BenchmarkArgs) -> Result<SuiteOptions> {
    let shard = Shard::from_flag(args.shard.as_deref())?;
    Ok(SuiteOptions {
        jobs: args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |j| j as usize,
        ),
        shard,
        journal: args.output.as_deref().map(sweep::journal_path),
        resume: args.resume,
        progress: std::io::stderr().is_terminal(),
    })
}

pub(crate) fn run(args: &BenchmarkArgs, env: &EnvSettings) -> Result<()> {
    let overrides = Overrides {
        seed: args.seed,
        scheduler: args.scheduler,
        ..Overrides::default()
    };
    let cells = run::benchmark(args.full, &overrides, env)?;
    let output = Outputs {
        results: args.output.clone(),
        ..Outputs::default()
    };
    output.check()?;
    let opts = suite_options(args)?;
    out!("{}", report::table_header());
    stop_on_ctrl_c();
    let outcome = sweep::run_suite(&cells, &opts, &STOP, |row| {
        env.log(
            LogLevel::Debug,
            &format!(
                "cell {} workers x {} tests ({})",
                row.workers, row.tests, row.scheduler
            ),
        );
        out!("{}", report::table_row(row));
        // The reader went away (`| head -1`) and no file is asked for:
        // nothing more would be seen, so the cells left are not run.
        if args.output.is_none() && crate::console::is_stdout_closed() {
            STOP.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    })?;
    if args.output.is_none() && crate::console::is_stdout_closed() {
        return Ok(());
    }
    let journal = opts.journal.as_deref().map(|p| p.display().to_string());
    if outcome.interrupted {
        return Err(Error::Run(format!(
            "interrupted: {} of {} cells are in {}; run the same command with --resume to finish",
            outcome.skipped + outcome.written,
            outcome.cells,
            journal.as_deref().unwrap_or("no journal (no --output)")
        )));
    }
    match (&args.output, outcome.complete) {
        (Some(path), true) => {
            let doc = BenchmarkDoc::new(&outcome.rows, args.full, overrides.seed());
            let json = report::to_pretty_json(&doc);
            report::write_atomically(path, json.as_bytes())?;
            sweep::remove_journal(&sweep::journal_path(path))?;
        }
        (Some(_), false) => outln!(
            "benchmark: shard {}: {} cells ({} run, {} already done) -> {}",
            opts.shard,
            outcome.cells,
            outcome.written,
            outcome.skipped,
            journal.unwrap_or_default()
        ),
        (None, _) => {}
    }
    Ok(())
}

/// First Ctrl-C: finish the cells in progress, journal them, stop.
/// Second: quit at once (journal lines are whole, so a resume can use it).
fn stop_on_ctrl_c() {
    static PRESSES: AtomicU32 = AtomicU32::new(0);
    // Fails only if a handler is already set (a second suite in one process).
    let _ = ctrlc::set_handler(|| {
        if PRESSES.fetch_add(1, Ordering::SeqCst) > 0 {
            std::process::exit(130);
        }
        STOP.store(true, Ordering::SeqCst);
        crate::console::print_err(
            "\nlbsim: stopping after the cells in progress (Ctrl-C again to quit now)\n",
        );
    });
}
