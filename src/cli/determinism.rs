//! `lbsim check-determinism`: runs a stress configuration or a scenario
//! twice and proves it reproducible, or shows the first fact that differs
//! (exit 1).

use super::args::{Cli, DeterminismArgs};
use crate::compare::check_determinism;
use crate::engine;
use crate::error::{Error, Result};
use crate::scenario::EnvSettings;

/// Checks the named scenario, or else the stress configuration the flags
/// describe; the balancing flags apply to either, as they do when it runs.
pub fn run(
    cli: &Cli,
    args: &DeterminismArgs,
    scenario_name: Option<&str>,
    env: &EnvSettings,
) -> Result<()> {
    let common = &cli.common;
    for (flag, given) in [
        ("--output", common.output.is_some()),
        ("--csv", common.csv.is_some()),
        ("--decisions", common.decisions.is_some()),
    ] {
        if given {
            return Err(Error::invalid(flag, "check-determinism writes no files"));
        }
    }
    let base = match scenario_name {
        Some(name) => {
            for (flag, given) in [
                ("--burst", args.stress.burst),
                ("--dynamic", args.stress.dynamic),
            ] {
                if given {
                    return Err(Error::invalid(
                        flag,
                        "applies to a stress configuration; a scenario sets its own arrivals and churn",
                    ));
                }
            }
            super::scenario::build(name, cli, env)?
        }
        None => super::stress::scenario(common, &args.stress, env)?,
    };
    let scenario = super::balancing::apply(&base, common)?;
    env.check_workers("this run", scenario.peak_workers())?;
    let v = check_determinism(scenario.scheduler, |o| engine::run(&scenario, o))?;
    let what = scenario_name.map_or(String::new(), |n| format!("scenario {n}, "));
    outln!(
        "check-determinism: {what}{} workers, {} tests, seed {}, scheduler {}: 2 runs",
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
