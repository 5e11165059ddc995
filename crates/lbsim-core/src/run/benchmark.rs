//! The benchmark suite as prepared runs: the reference grid, each cell a
//! run request of its own.

use super::overrides::BALANCING;
use super::{Outputs, Overrides, PreparedRun, RunRequest, Source};
use crate::error::Result;
use crate::scenario::presets::benchmark_grid;
use crate::scenario::EnvSettings;

/// One prepared run per cell, in grid order: the reference grid, or with
/// `full` the scaled grid over every scheduler. Only `seed` and
/// `scheduler` (not with `full`) apply. The whole grid is checked against
/// `LB_MAX_WORKERS` first: no half-run suite for a limit known up front.
pub fn benchmark(full: bool, overrides: &Overrides, env: &EnvSettings) -> Result<Vec<PreparedRun>> {
    overrides.refuse(
        &["--workers", "--tests", "--duration"],
        "the grid sets --workers, --tests and --duration itself",
    )?;
    overrides.refuse(BALANCING, "the benchmark runs the reference's plain cells")?;
    if full {
        overrides.refuse(&["--scheduler"], "--full runs every scheduler")?;
    }
    let cells = benchmark_grid(full, overrides.scheduler());
    let peak = cells
        .iter()
        .map(|c| u64::from(c.workers))
        .max()
        .unwrap_or(0);
    env.check_workers("the benchmark grid", peak)?;
    let seed_only = Overrides {
        seed: overrides.seed,
        ..Overrides::default()
    };
    cells
        .into_iter()
        .map(|cell| {
            RunRequest {
                source: Source::Benchmark(cell),
                overrides: seed_only.clone(),
                outputs: Outputs::default(),
            }
            .prepare(env)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::policy::SchedulerName;

    #[test]
    fn the_grid_takes_the_seed_and_scheduler_and_refuses_the_rest() {
        let env = EnvSettings::default();
        let o = Overrides {
            seed: Some(9),
            scheduler: Some(SchedulerName::Fifo),
            ..Default::default()
        };
        let runs = benchmark(false, &o, &env).unwrap();
        assert_eq!(runs.len(), 15);
        assert!(runs
            .iter()
            .all(|r| r.scenario().seed == 9 && r.scenario().scheduler == SchedulerName::Fifo));
        let err = benchmark(true, &o, &env).unwrap_err().to_string();
        assert_eq!(err, "invalid --scheduler: --full runs every scheduler");
        let o = Overrides {
            workers: Some(3),
            ..Default::default()
        };
        assert!(benchmark(false, &o, &env).is_err());
        let env = EnvSettings {
            max_workers: Some(50),
            ..Default::default()
        };
        let err = benchmark(false, &Overrides::default(), &env).unwrap_err();
        assert!(err
            .to_string()
            .contains("benchmark grid could reach 100 workers"));
    }
}
