//! `lbsim check-determinism`: runs a stress configuration twice and proves
//! it reproducible, or shows the first fact that differs (exit 1).

use super::args::{CommonArgs, StressArgs};
use crate::compare::check_determinism;
use crate::engine;
use crate::error::{Error, Result};
use crate::scenario::StressOptions;

pub fn run(common: &CommonArgs, args: &StressArgs) -> Result<()> {
    for (flag, given) in [
        ("--output", common.output.is_some()),
        ("--csv", common.csv.is_some()),
        ("--decisions", common.decisions.is_some()),
    ] {
        if given {
            return Err(Error::invalid(flag, "check-determinism writes no files"));
        }
    }
    let defaults = StressOptions::default();
    let scenario = StressOptions {
        workers: common.workers.unwrap_or(defaults.workers),
        tests: common.tests.unwrap_or(defaults.tests),
        duration_s: common.duration.unwrap_or(defaults.duration_s),
        burst: args.burst,
        dynamic: args.dynamic,
        seed: common.seed.unwrap_or(defaults.seed),
        scheduler: common.scheduler.unwrap_or(defaults.scheduler),
    }
    .to_scenario()?;
    let v = check_determinism(scenario.scheduler, |o| engine::run(&scenario, o))?;
    outln!(
        "check-determinism: {} workers, {} tests, seed {}, scheduler {}: 2 runs",
        scenario.workers,
        scenario.tests,
        scenario.seed,
        scenario.scheduler
    );
    for i in 0..2 {
        outln!(
            "  run {}: {} facts, hash {}; results JSON hash {}",
            i + 1,
            v.facts[i],
            v.hashes[i].hex(),
            v.json_hashes[i].hex()
        );
    }
    match &v.divergence {
        None => {
            outln!("deterministic");
            Ok(())
        }
        Some(d) => {
            let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "(nothing)".into());
            outln!("first divergence at fact #{}:", d.index);
            outln!("  run 1: {}", side(&d.run1));
            outln!("  run 2: {}", side(&d.run2));
            Err(Error::Run("the two runs differ".into()))
        }
    }
}
