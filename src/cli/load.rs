//! `lbsim load SCENARIO`: a scenario's arrivals (and pool) against a live
//! coordinator, measured into the simulator's results JSON, beside the
//! simulator's prediction of exactly what was played.

use super::options::{overrides, ModelArgs, PolicyArgs, WorkloadArgs};
use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::fidelity::metrics::{key_metrics, render};
use crate::loadgen::playback::{play, LoadOptions, LoadRun};
use crate::loadgen::prediction::{predict, PredictedFleet};
use crate::loadgen::results_doc;
use crate::report::{self, ResultsDoc};
use crate::run::{Outputs, RunRequest, Source};
use crate::scenario::EnvSettings;
use clap::Args;
use std::path::PathBuf;

/// Options of `load`: the scenario's own numbers unless overridden.
#[derive(Clone, Debug, Args)]
pub(crate) struct LoadArgs {
    /// The scenario of the config to play (see --list-scenarios)
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenario: String,
    /// The coordinator's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// Play X scenario seconds per wall second
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = positive)]
    pub(crate) speed: f64,
    /// Do not start the scenario's pool as embedded fake workers (the
    /// prediction then needs --fleet-time-scale)
    #[arg(long)]
    pub(crate) no_workers: bool,
    /// With --no-workers: the external workers' --time-scale (wall seconds
    /// per second of expected run time), so the prediction runs what they run
    #[arg(long, value_name = "S", value_parser = positive)]
    pub(crate) fleet_time_scale: Option<f64>,
    /// The coordinator's bearer token
    #[arg(long, env = "LB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Workers of the embedded pool [default: the scenario's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) workers: Option<u32>,
    /// Tests to submit [default: the scenario's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) tests: Option<u64>,
    /// Submission window in scenario seconds [default: the scenario's]
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    pub(crate) duration: Option<f64>,
    /// Master seed of the scenario's arrivals [default: the scenario's, else 42]
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Write the measured results JSON here (whole, or not at all)
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Write the simulator's prediction of the same run (results JSON) here
    #[arg(long, value_name = "FILE")]
    pub(crate) prediction: Option<PathBuf>,
    /// Config file replacing the embedded default [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

fn positive(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s} is not a positive number")),
    }
}

/// Flags that only make sense together are named before anything runs.
fn check(args: &LoadArgs) -> Result<()> {
    match (args.no_workers, args.fleet_time_scale) {
        (false, Some(_)) => Err(Error::invalid(
            "--fleet-time-scale",
            "only with --no-workers (the embedded workers run at 1/--speed)",
        )),
        (true, None) if args.prediction.is_some() => Err(Error::invalid(
            "--prediction",
            "with --no-workers the prediction needs --fleet-time-scale S, \
             the external workers' --time-scale",
        )),
        _ => Ok(()),
    }
}

pub(crate) fn run(args: &LoadArgs, env: &EnvSettings) -> Result<()> {
    check(args)?;
    let policy = PolicyArgs {
        seed: args.seed,
        ..PolicyArgs::default()
    };
    let workload = WorkloadArgs {
        workers: args.workers,
        tests: args.tests,
        duration: args.duration,
    };
    let request = RunRequest {
        source: Source::Scenario {
            name: args.scenario.clone(),
            config: args.config.clone(),
        },
        overrides: overrides(&workload, &policy, &ModelArgs::default()),
        outputs: Outputs {
            results: args.output.clone(),
            ..Outputs::default()
        },
    };
    if let Some(p) = &args.prediction {
        request.outputs.check_with(&[("--prediction", p)])?;
    }
    let scenario = request.prepare(env)?.scenario().clone();
    let options = LoadOptions {
        scenario,
        url: args.url.clone(),
        token: args.token.clone(),
        speed: args.speed,
        embedded_workers: !args.no_workers,
    };
    let run = play(&options).map_err(|e| Error::Run(e.to_string()))?;
    if let Some(path) = &args.output {
        results_doc(&run.out, &args.url, args.speed, !args.no_workers).write_file(path)?;
    }
    outln!(
        "lbsim load {}: {} tests played against {} at {}x in {:.1} s wall",
        args.scenario,
        run.test_ids.len(),
        args.url,
        args.speed,
        run.wall_s
    );
    out!("{}", report::summary(&run.out));
    compare(args, &options, &run)
}

/// The prediction beside the measurement, when there is one to make.
fn compare(args: &LoadArgs, options: &LoadOptions, run: &LoadRun) -> Result<()> {
    let fleet = match (args.no_workers, args.fleet_time_scale) {
        (false, _) => PredictedFleet::Embedded,
        (true, Some(time_scale)) => PredictedFleet::External {
            workers: &run.fleet,
            time_scale,
            speed: args.speed,
        },
        (true, None) => {
            crate::console::print_err(
                "lbsim: note: no prediction: with --no-workers the run times depend on the \
                 external workers' --time-scale; pass it as --fleet-time-scale S to compare\n",
            );
            return Ok(());
        }
    };
    let Ok(scheduler) = SchedulerName::parse(&run.scheduler) else {
        crate::console::print_err(&format!(
            "lbsim: note: no prediction: the coordinator runs '{}', which the simulator does not model\n",
            run.scheduler
        ));
        return Ok(());
    };
    let predicted = predict(&options.scenario, scheduler, &fleet)?;
    if let Some(path) = &args.prediction {
        ResultsDoc::from_run(&predicted).write_file(path)?;
    }
    let rows = key_metrics(&run.out, &predicted);
    let played = match &fleet {
        PredictedFleet::Embedded => "same arrivals, pool and run times".to_string(),
        PredictedFleet::External { time_scale, .. } => format!(
            "same arrivals; the workers registered at the start; each run its expected \
             duration x {time_scale} x {}",
            args.speed
        ),
    };
    outln!(
        "prediction ({scheduler}; {played}; no drift, thermal phases, churn or retries, as played):"
    );
    out!("{}", render(&rows, "predicted"));
    Ok(())
}
