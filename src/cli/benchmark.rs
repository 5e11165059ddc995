//! `lbsim benchmark [--full]`: the reference grid, one steady run per cell,
//! printed as a table as it goes and written as the reference's JSON.

use crate::balancer::policy::SchedulerName;
use crate::engine::NoObserver;
use crate::error::Result;
use crate::report::{self, BenchmarkDoc, BenchmarkRow};
use crate::run::{self, Outputs, Overrides};
use crate::scenario::{EnvSettings, LogLevel};
use clap::Args;
use std::path::PathBuf;

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
    /// Write the benchmark results JSON here (whole, or not at all)
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
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
    out!("{}", report::table_header());
    let mut rows = Vec::with_capacity(cells.len());
    for cell in &cells {
        let s = cell.scenario();
        env.log(
            LogLevel::Debug,
            &format!(
                "cell {} workers x {} tests ({})",
                s.workers, s.tests, s.scheduler
            ),
        );
        let row = BenchmarkRow {
            workers: s.workers,
            tests: s.tests,
            duration: s.duration_s,
            scheduler: s.scheduler,
            metrics: cell.run(&mut NoObserver)?.output.metrics,
        };
        out!("{}", report::table_row(&row));
        rows.push(row);
        // The reader went away (`| head -1`) and no file is asked for:
        // nothing more would be seen.
        if args.output.is_none() && crate::console::is_stdout_closed() {
            return Ok(());
        }
    }
    if let Some(path) = &args.output {
        let doc = BenchmarkDoc::new(&rows, args.full, overrides.seed());
        let json = report::to_pretty_json(&doc);
        report::write_atomically(path, json.as_bytes())?;
    }
    Ok(())
}
