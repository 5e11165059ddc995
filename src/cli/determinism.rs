//! `lbsim check-determinism`: runs a stress configuration or a scenario
//! twice and proves it reproducible, or shows the first fact that differs
//! (exit 1).

use super::options::{overrides, ModeArgs, ModelArgs, PolicyArgs, WorkloadArgs};
use crate::compare::{check_determinism, Verdict};
use crate::error::{Error, Result};
use crate::run::{RunRequest, Source};
use crate::scenario::{EnvSettings, LogLevel};
use clap::Args;
use std::path::PathBuf;

/// Options of `check-determinism`: a stress configuration, or a scenario
/// (whose own values are then the defaults). It writes no files.
#[derive(Clone, Debug, Default, Args)]
#[command(
    mut_arg("workers", |a| a.help("Number of simulated workers [default: 20, or the scenario's]")),
    mut_arg("tests", |a| a.help("Number of tests to submit [default: 100, or the scenario's]")),
    mut_arg("duration", |a| a.help(
        "Submission window in simulated seconds [default: LB_DEFAULT_DURATION, else 60, or the scenario's]")),
    mut_arg("burst", |a| a.help("Submit tests in bursts rather than evenly (stress configuration only)")),
    mut_arg("dynamic", |a| a.help("Workers join, leave and fail during the run (stress configuration only)")),
    mut_arg("seed", |a| a.help("Master seed [default: 42, or the scenario's]")),
    mut_arg("scheduler", |a| a.help(
        "Scheduling policy (see --list-schedulers) [default: performance_based, or the scenario's]")),
)]
pub(crate) struct DeterminismArgs {
    /// A scenario from the config (see --list-scenarios) instead of a stress configuration
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenario: Option<String>,
    #[command(flatten)]
    pub(crate) workload: WorkloadArgs,
    #[command(flatten)]
    pub(crate) mode: ModeArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) keys: ModelArgs,
    /// Config file of SCENARIO, replacing the embedded default [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

impl DeterminismArgs {
    /// The run it checks: the named scenario, or else the stress
    /// configuration the flags describe; the balancing flags apply to
    /// either, as they do when it runs.
    fn request(&self) -> Result<RunRequest> {
        let source = match &self.scenario {
            Some(name) => {
                if let Some(flag) = self.mode.first_given() {
                    return Err(Error::invalid(
                        flag,
                        "applies to a stress configuration; a scenario sets its own arrivals and churn",
                    ));
                }
                Source::Scenario {
                    name: name.clone(),
                    config: self.config.clone(),
                }
            }
            None if self.config.is_some() => {
                return Err(Error::invalid(
                    "--config",
                    "applies to a scenario: name one (check-determinism SCENARIO)",
                ))
            }
            None => Source::Stress {
                burst: self.mode.burst,
                dynamic: self.mode.dynamic,
            },
        };
        Ok(RunRequest {
            overrides: overrides(&self.workload, &self.policy, &self.keys),
            ..RunRequest::new(source)
        })
    }
}

pub(crate) fn run(args: &DeterminismArgs, env: &EnvSettings) -> Result<()> {
    let prepared = args.request()?.prepare(env)?;
    if let Some(file) = prepared.config_file() {
        env.log(LogLevel::Info, &format!("config {file}"));
    }
    let scenario = prepared.scenario();
    let v = check_determinism(scenario.scheduler, |o| Ok(prepared.run(o)?.output))?;
    let what = args
        .scenario
        .as_ref()
        .map_or(String::new(), |n| format!("scenario {n}, "));
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
    verdict(&v)
}

/// Prints the verdict; two runs that differ fail the command (exit 1).
fn verdict(v: &Verdict) -> Result<()> {
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
