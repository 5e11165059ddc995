//! `lbsim benchmark [--full]`: the reference grid, one steady run per cell,
//! printed as a table as it goes and written as the reference's JSON.

use super::args::{BenchmarkArgs, CommonArgs};
use crate::balancer::policy::SchedulerName;
use crate::engine::{self, NoObserver};
use crate::error::{Error, Result};
use crate::report::{self, BenchmarkDoc, BenchmarkRow};
use crate::scenario::presets::benchmark_grid;
use crate::scenario::{EnvSettings, LogLevel, DEFAULT_SEED};

pub fn run(common: &CommonArgs, args: &BenchmarkArgs, env: &EnvSettings) -> Result<()> {
    if common.workers.is_some() || common.tests.is_some() || common.duration.is_some() {
        return Err(Error::invalid(
            "benchmark",
            "the grid sets --workers, --tests and --duration itself",
        ));
    }
    let seed = common.seed.unwrap_or(DEFAULT_SEED);
    let cells = benchmark_grid(
        args.full,
        common.scheduler.unwrap_or(SchedulerName::DEFAULT),
    );
    // Check the whole grid first: no half-run suite for a limit we knew about.
    let peak = cells
        .iter()
        .map(|c| u64::from(c.workers))
        .max()
        .unwrap_or(0);
    env.check_workers("the benchmark grid", peak)?;
    out!("{}", report::table_header());
    let mut rows = Vec::with_capacity(cells.len());
    for cell in &cells {
        env.log(
            LogLevel::Debug,
            &format!(
                "cell {} workers x {} tests ({})",
                cell.workers, cell.tests, cell.scheduler
            ),
        );
        let out = engine::run(&cell.to_scenario(seed)?, &mut NoObserver)?;
        let row = BenchmarkRow {
            workers: cell.workers,
            tests: cell.tests,
            duration: cell.duration_s,
            scheduler: cell.scheduler,
            metrics: out.metrics,
        };
        out!("{}", report::table_row(&row));
        rows.push(row);
    }
    if let Some(path) = &common.output {
        let json = report::to_pretty_json(&BenchmarkDoc::new(&rows, args.full, seed));
        report::write_atomically(path, json.as_bytes())?;
    }
    Ok(())
}
