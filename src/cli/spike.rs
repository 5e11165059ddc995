//! `lbsim spike`: bursts, dynamic workers and one load spike.

use super::options::{overrides, ModelArgs, OutputArgs, PolicyArgs, WorkloadArgs};
use super::output::run_and_print;
use crate::error::Result;
use crate::run::{RunRequest, Source};
use crate::scenario::EnvSettings;
use clap::Args;

/// Options of `spike` (bursts and dynamic workers are always on).
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct SpikeArgs {
    #[command(flatten)]
    pub(crate) workload: WorkloadArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) keys: ModelArgs,
    #[command(flatten)]
    pub(crate) outputs: OutputArgs,
}

impl SpikeArgs {
    pub(crate) fn request(&self) -> RunRequest {
        RunRequest {
            source: Source::Spike,
            overrides: overrides(&self.workload, &self.policy, &self.keys),
            outputs: self.outputs.outputs(),
        }
    }
}

pub(crate) fn run(args: &SpikeArgs, env: &EnvSettings) -> Result<()> {
    let prepared = args.request().prepare(env)?;
    run_and_print(
        &prepared,
        |_| Ok(()),
        || {
            for s in prepared.scenario().arrivals.spikes() {
                outln!(
                    "  spike      {:.1} s to {:.1} s, rate x{}",
                    s.start_s,
                    s.end_s(),
                    s.multiplier
                );
            }
            Ok(())
        },
    )
}
