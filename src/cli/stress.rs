//! `lbsim stress` (and `lbsim` alone): one stress test on the reference's
//! defaults.

use super::options::{overrides, ModeArgs, ModelArgs, OutputArgs, PolicyArgs, WorkloadArgs};
use super::output::run_and_print;
use crate::error::Result;
use crate::run::{RunRequest, Source};
use crate::scenario::EnvSettings;
use clap::Args;

/// Options of `stress`.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct StressArgs {
    #[command(flatten)]
    pub(crate) workload: WorkloadArgs,
    #[command(flatten)]
    pub(crate) mode: ModeArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) keys: ModelArgs,
    #[command(flatten)]
    pub(crate) outputs: OutputArgs,
}

impl StressArgs {
    pub(crate) fn request(&self) -> RunRequest {
        RunRequest {
            source: Source::Stress {
                burst: self.mode.burst,
                dynamic: self.mode.dynamic,
            },
            overrides: overrides(&self.workload, &self.policy, &self.keys),
            outputs: self.outputs.outputs(),
        }
    }
}

pub(crate) fn run(args: &StressArgs, env: &EnvSettings) -> Result<()> {
    run_and_print(&args.request().prepare(env)?, |_| Ok(()), || Ok(()))
}
