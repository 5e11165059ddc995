//! `lbsim fidelity REC`: a coordinator's recording replayed and set beside
//! the live run; exit 1 when the model is off by more than --tolerance.

use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::fidelity::{fidelity, render, FidelityOptions, RunTime};
use crate::run::Outputs;
use clap::Args;
use std::path::PathBuf;

/// Flags of `fidelity`.
#[derive(Clone, Debug, Args)]
pub(crate) struct FidelityArgs {
    /// A coordinator's recording (`lbsim serve --record FILE`)
    #[arg(value_name = "REC")]
    pub(crate) recording: PathBuf,
    /// Replay under this policy [default: the one the recording names]
    #[arg(long, value_name = "NAME", value_parser = SchedulerName::parse)]
    pub(crate) scheduler: Option<SchedulerName>,
    /// Largest accepted share of decisions placed elsewhere, and error of each
    /// gated metric, in percent
    #[arg(long, value_name = "PCT", default_value_t = 5.0, allow_hyphen_values = true,
          value_parser = tolerance)]
    pub(crate) tolerance: f64,
    /// Write the report as JSON here (whole, or not at all)
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// How long a replayed run holds its worker: `held`, from its assignment
    /// to its report (what the live balancer saw), or `reported`, the run time
    /// the worker reported (what `lbsim replay` uses)
    #[arg(long, value_name = "HOW", default_value = "held", value_parser = RunTime::parse)]
    pub(crate) run_time: RunTime,
    /// The coordinator's seed (its policy's tie-breaks; `lbsim serve --seed`)
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub(crate) seed: u64,
}

fn tolerance(s: &str) -> std::result::Result<f64, String> {
    match s.trim().trim_end_matches('%').parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s} is not a percentage (0 or more)")),
    }
}

pub(crate) fn run(args: &FidelityArgs) -> Result<()> {
    if let Some(path) = &args.json {
        Outputs::default().check_with(&[("--json", path)])?;
    }
    let options = FidelityOptions {
        scheduler: args.scheduler,
        seed: args.seed,
        tolerance_pct: args.tolerance,
        run_time: args.run_time,
    };
    let report = fidelity(&args.recording, &options)?;
    out!("{}", render(&report));
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::Run(format!("--json: {e}")))?;
        text.push('\n');
        crate::report::write_atomically(path, text.as_bytes())?;
    }
    if report.within_tolerance {
        Ok(())
    } else {
        Err(Error::Run(format!(
            "{}: the replay is off by {:.1} %, beyond the tolerance of {} %",
            report.recording, report.worst_pct, args.tolerance
        )))
    }
}
