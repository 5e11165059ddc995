//! `lbsim load SCENARIO`: a scenario's arrivals (and pool) against a live
//! coordinator, measured into the simulator's results JSON.

use super::options::{overrides, ModelArgs, PolicyArgs, WorkloadArgs};
use crate::error::{Error, Result};
use crate::loadgen::playback::{play, LoadOptions};
use crate::loadgen::results_doc;
use crate::report;
use crate::run::{Outputs, RunRequest, Source};
use crate::scenario::EnvSettings;
use clap::Args;

/// Options of `load`: the scenario's own numbers unless overridden.
#[derive(Clone, Debug, Args)]
pub(crate) struct LoadArgs {
    /// The scenario of the config to play (see --list-scenarios)
    #[arg(value_name = "SCENARIO")]
    pub scenario: String,
    /// The coordinator's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Play X scenario seconds per wall second
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = positive)]
    pub speed: f64,
    /// Do not start the scenario's pool as embedded fake workers
    #[arg(long)]
    pub no_workers: bool,
    /// The coordinator's bearer token
    #[arg(long, env = "LB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub(crate) workload: WorkloadArgs,
    /// Master seed of the scenario's arrivals [default: the scenario's, else 42]
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Write the measured results JSON here (whole, or not at all)
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<std::path::PathBuf>,
    /// Config file replacing the embedded default [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<std::path::PathBuf>,
}

fn positive(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s} is not a positive number")),
    }
}

pub(crate) fn run(args: &LoadArgs, env: &EnvSettings) -> Result<()> {
    let policy = PolicyArgs {
        seed: args.seed,
        ..PolicyArgs::default()
    };
    let request = RunRequest {
        source: Source::Scenario {
            name: args.scenario.clone(),
            config: args.config.clone(),
        },
        overrides: overrides(&args.workload, &policy, &ModelArgs::default()),
        outputs: Outputs {
            results: args.output.clone(),
            ..Outputs::default()
        },
    };
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
    Ok(())
}
