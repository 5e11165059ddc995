//! Option groups that several commands share, their checks, and their
//! conversion to the run request. Each command flattens the groups it
//! takes, so its help lists exactly what it accepts.

use crate::balancer::policy::{CompositeWeights, SchedulerName};
use crate::error::{Error, Result};
use crate::run::{Outputs, Overrides};
use crate::scenario::{BalancingOverrides, LoadView};
use clap::Args;
use std::path::PathBuf;

/// The size of a synthetic run.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct WorkloadArgs {
    /// Number of simulated workers [default: 20]
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) workers: Option<u32>,
    /// Number of tests to submit [default: 100]
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) tests: Option<u64>,
    /// Submission window in simulated seconds [default: LB_DEFAULT_DURATION, else 60]
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, value_parser = positive_seconds)]
    pub(crate) duration: Option<f64>,
}

/// The reference's `stress` switches.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct ModeArgs {
    /// Submit tests in bursts rather than evenly
    #[arg(long)]
    pub(crate) burst: bool,
    /// Workers join, leave and fail during the run
    #[arg(long)]
    pub(crate) dynamic: bool,
}

/// The seed and how the balancer decides.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct PolicyArgs {
    /// Master seed; the same seed gives the same bytes [default: 42]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub(crate) seed: Option<u64>,
    /// Scheduling policy (see --list-schedulers) [default: performance_based]
    #[arg(long, value_name = "NAME", value_parser = SchedulerName::parse)]
    pub(crate) scheduler: Option<SchedulerName>,
    /// Member weights of the composite policy, NAME:WEIGHT,...
    /// [default: performance_based:0.5,least_loaded:0.3,affinity_based:0.2]
    #[arg(long, value_name = "LIST", value_parser = CompositeWeights::parse)]
    pub(crate) composite_weights: Option<CompositeWeights>,
    /// Move young runs from busy to idle workers every 30 s and off
    /// overloaded workers every 60 s, when that finishes them sooner
    #[arg(long)]
    pub(crate) work_stealing: bool,
}

/// What the synthetic model adds to the reference's: concurrency keys on
/// the tests, and what the balancer sees of the workers' load.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct ModelArgs {
    /// Give tests one of N concurrency keys; tests sharing a key never run
    /// at the same time [default: 0, no keys]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub(crate) concurrency_keys: Option<u32>,
    /// What the balancer sees of the load: live (every redraw at once, the
    /// reference) or reported (heartbeats, as lbsim serve; for large pools)
    /// [default: the scenario's, else live]
    #[arg(long, value_name = "VIEW", value_parser = parse_load_view)]
    pub(crate) load_view: Option<LoadView>,
}

fn parse_load_view(s: &str) -> Result<LoadView, String> {
    match s {
        "live" => Ok(LoadView::Live),
        "reported" => Ok(LoadView::Reported),
        _ => Err(format!("'{s}' is not live or reported")),
    }
}

/// The files one run writes.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct OutputArgs {
    /// Write the results JSON here (whole, or not at all)
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Write one CSV row per test here
    #[arg(long, value_name = "FILE")]
    pub(crate) csv: Option<PathBuf>,
    /// Write the decision log (one CSV row per assignment) here
    #[arg(long, value_name = "FILE")]
    pub(crate) decisions: Option<PathBuf>,
    /// Print run statistics (events, events/s, wall time, speed-up) to stderr
    #[arg(long)]
    pub(crate) stats: bool,
}

/// The run request's overrides from the groups a command takes.
pub(crate) fn overrides(
    workload: &WorkloadArgs,
    policy: &PolicyArgs,
    model: &ModelArgs,
) -> Overrides {
    Overrides {
        workers: workload.workers,
        tests: workload.tests,
        duration_s: workload.duration,
        seed: policy.seed,
        scheduler: policy.scheduler,
        balancing: BalancingOverrides {
            composite_weights: policy.composite_weights.clone(),
            work_stealing: policy.work_stealing,
            concurrency_keys: model.concurrency_keys,
            load_view: model.load_view,
        },
    }
}

impl OutputArgs {
    pub(crate) fn outputs(&self) -> Outputs {
        Outputs {
            results: self.output.clone(),
            tests_csv: self.csv.clone(),
            decisions: self.decisions.clone(),
            stats: self.stats,
        }
    }
}

/// A positive, finite number of seconds.
pub(crate) fn positive_seconds(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!("{s} is not a positive number of seconds"))
    }
}

/// A number of wall-clock seconds within `[min, max]`: below `min` a
/// loop would spin (a heartbeat or a poll every 1e-300 s is none at all),
/// above `max` it would never come.
pub(crate) fn seconds_within(s: &str, min: f64, max: f64) -> Result<f64, String> {
    let x = positive_seconds(s)?;
    if (min..=max).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{s} is not between {min} and {max} seconds"))
    }
}

/// Moves an option given before the command into the command's own;
/// given in both places, it is refused rather than one silently winning.
pub(crate) fn take<T>(flag: &str, before: &mut Option<T>, into: &mut Option<T>) -> Result<()> {
    match (before.take(), into.is_some()) {
        (Some(_), true) => Err(Error::invalid(
            flag,
            "given both before and after the command",
        )),
        (Some(value), false) => {
            *into = Some(value);
            Ok(())
        }
        (None, _) => Ok(()),
    }
}

/// `take` for a switch: given anywhere, it is on.
pub(crate) fn take_switch(before: &mut bool, into: &mut bool) {
    *into |= std::mem::take(before);
}

impl WorkloadArgs {
    pub(crate) fn absorb(&mut self, before: &mut WorkloadArgs) -> Result<()> {
        take("--workers", &mut before.workers, &mut self.workers)?;
        take("--tests", &mut before.tests, &mut self.tests)?;
        take("--duration", &mut before.duration, &mut self.duration)
    }

    pub(crate) fn first_given(&self) -> Option<&'static str> {
        first_of(&[
            ("--workers", self.workers.is_some()),
            ("--tests", self.tests.is_some()),
            ("--duration", self.duration.is_some()),
        ])
    }
}

impl ModeArgs {
    pub(crate) fn absorb(&mut self, before: &mut ModeArgs) {
        take_switch(&mut before.burst, &mut self.burst);
        take_switch(&mut before.dynamic, &mut self.dynamic);
    }

    pub(crate) fn first_given(&self) -> Option<&'static str> {
        first_of(&[("--burst", self.burst), ("--dynamic", self.dynamic)])
    }
}

impl PolicyArgs {
    pub(crate) fn absorb(&mut self, before: &mut PolicyArgs) -> Result<()> {
        take("--seed", &mut before.seed, &mut self.seed)?;
        take("--scheduler", &mut before.scheduler, &mut self.scheduler)?;
        take(
            "--composite-weights",
            &mut before.composite_weights,
            &mut self.composite_weights,
        )?;
        take_switch(&mut before.work_stealing, &mut self.work_stealing);
        Ok(())
    }

    pub(crate) fn first_given(&self) -> Option<&'static str> {
        first_of(&[
            ("--seed", self.seed.is_some()),
            ("--scheduler", self.scheduler.is_some()),
            ("--composite-weights", self.composite_weights.is_some()),
            ("--work-stealing", self.work_stealing),
        ])
    }
}

impl ModelArgs {
    pub(crate) fn absorb(&mut self, before: &mut ModelArgs) -> Result<()> {
        take(
            "--concurrency-keys",
            &mut before.concurrency_keys,
            &mut self.concurrency_keys,
        )
    }

    pub(crate) fn first_given(&self) -> Option<&'static str> {
        first_of(&[("--concurrency-keys", self.concurrency_keys.is_some())])
    }
}

impl OutputArgs {
    pub(crate) fn absorb(&mut self, before: &mut OutputArgs) -> Result<()> {
        take("--output", &mut before.output, &mut self.output)?;
        take("--csv", &mut before.csv, &mut self.csv)?;
        take("--decisions", &mut before.decisions, &mut self.decisions)?;
        take_switch(&mut before.stats, &mut self.stats);
        Ok(())
    }

    pub(crate) fn first_given(&self) -> Option<&'static str> {
        first_of(&[
            ("--output", self.output.is_some()),
            ("--csv", self.csv.is_some()),
            ("--decisions", self.decisions.is_some()),
            ("--stats", self.stats),
        ])
    }
}

fn first_of(flags: &[(&'static str, bool)]) -> Option<&'static str> {
    flags
        .iter()
        .find(|(_, given)| *given)
        .map(|(flag, _)| *flag)
}
