//! `lbsim spike`: bursts, dynamic workers and one load spike.

use super::args::CommonArgs;
use super::stress::run_and_write;
use crate::error::Result;
use crate::report;
use crate::scenario::presets::spike_scenario;
use crate::scenario::{EnvSettings, StressOptions};

pub fn run(common: &CommonArgs, env: &EnvSettings) -> Result<()> {
    let d = StressOptions::default();
    let scenario = spike_scenario(
        common.workers.unwrap_or(d.workers),
        common.tests.unwrap_or(d.tests),
        common
            .duration
            .or(env.default_duration_s)
            .unwrap_or(d.duration_s),
        common.seed.unwrap_or(d.seed),
        common.scheduler.unwrap_or(d.scheduler),
    )?;
    let out = run_and_write(&scenario, common)?;
    out!("{}", report::summary(&out));
    for s in scenario.arrivals.spikes() {
        outln!(
            "  spike      {:.1} s to {:.1} s, rate x{}",
            s.start_s,
            s.end_s(),
            s.multiplier
        );
    }
    Ok(())
}
