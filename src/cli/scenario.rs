//! `lbsim scenario NAME` and `lbsim --scenario NAME`: a named scenario of
//! the config, its own values overridden by the flags given.

use super::options::{overrides, ModelArgs, OutputArgs, PolicyArgs, WorkloadArgs};
use super::output::run_and_print;
use crate::error::Result;
use crate::run::{RunRequest, Source};
use crate::scenario::{EnvSettings, LogLevel};
use clap::Args;
use std::path::PathBuf;

/// Options of `scenario`: a scenario runs its own numbers, so every
/// default is the scenario's.
#[derive(Clone, Debug, Default, Args)]
#[command(
    mut_arg("workers", |a| a.help("Number of simulated workers [default: the scenario's]")),
    mut_arg("tests", |a| a.help("Number of tests to submit [default: the scenario's]")),
    mut_arg("duration", |a| a.help(
        "Submission window in simulated seconds [default: the scenario's, else LB_DEFAULT_DURATION, else 60]")),
    mut_arg("seed", |a| a.help(
        "Master seed; the same seed gives the same bytes [default: the scenario's, else 42]")),
    mut_arg("scheduler", |a| a.help(
        "Scheduling policy (see --list-schedulers) [default: the scenario's, else performance_based]")),
    mut_arg("composite_weights", |a| a.help(
        "Member weights of the composite policy, NAME:WEIGHT,... [default: the scenario's, else performance_based:0.5,least_loaded:0.3,affinity_based:0.2]")),
    mut_arg("work_stealing", |a| a.help(
        "Turn work stealing on, with the scenario's work_stealing settings (else every 30 s and 60 s)")),
    mut_arg("concurrency_keys", |a| a.help(
        "Give tests one of N concurrency keys; tests sharing a key never run at the same time [default: the scenario's, else 0]")),
)]
pub(crate) struct ScenarioArgs {
    /// The scenario's name (see --list-scenarios)
    #[arg(value_name = "NAME")]
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) workload: WorkloadArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) keys: ModelArgs,
    #[command(flatten)]
    pub(crate) outputs: OutputArgs,
    /// Config file replacing the embedded default [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

impl ScenarioArgs {
    pub(crate) fn request(&self) -> RunRequest {
        RunRequest {
            source: Source::Scenario {
                name: self.name.clone(),
                config: self.config.clone(),
            },
            overrides: overrides(&self.workload, &self.policy, &self.keys),
            outputs: self.outputs.outputs(),
        }
    }
}

pub(crate) fn run(args: &ScenarioArgs, env: &EnvSettings) -> Result<()> {
    let prepared = args.request().prepare(env)?;
    if let Some(file) = prepared.config_file() {
        env.log(LogLevel::Info, &format!("config {file}"));
    }
    env.log(
        LogLevel::Info,
        &format!("scenario {}, seed {}", args.name, prepared.scenario().seed),
    );
    run_and_print(&prepared, |_| Ok(()), || Ok(()))
}
