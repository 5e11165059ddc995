//! `lbsim load SCENARIO`: a scenario's arrivals (and pool) against a live
//! coordinator, measured into the simulator's results JSON.

use super::args::CommonArgs;
use crate::error::{Error, Result};
use crate::loadgen::playback::{play, LoadOptions};
use crate::loadgen::results_json;
use crate::report;
use crate::scenario::config::Overrides;
use crate::scenario::{Config, EnvSettings};
use clap::Args;

/// Flags of `load` (`--output`, `--workers`, `--tests`, `--duration`,
/// `--seed`, `--scheduler` are the common ones).
#[derive(Clone, Debug, Args)]
pub struct LoadArgs {
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
}

fn positive(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s} is not a positive number")),
    }
}

pub fn run(common: &CommonArgs, args: &LoadArgs, config: Option<&std::path::Path>) -> Result<()> {
    let env = EnvSettings::from_env()?;
    let config = Config::load(config, env.config_path.as_deref())?;
    let overrides = Overrides {
        workers: common.workers,
        tests: common.tests,
        duration_s: common.duration,
        seed: common.seed,
        scheduler: common.scheduler,
        default_duration_s: env.default_duration_s,
    };
    let scenario = config.scenario(&args.scenario, &overrides)?;
    let options = LoadOptions {
        scenario,
        url: args.url.clone(),
        token: args.token.clone(),
        speed: args.speed,
        embedded_workers: !args.no_workers,
    };
    let run = play(&options).map_err(|e| Error::Run(e.to_string()))?;
    if let Some(path) = &common.output {
        let json = results_json(&run.out, &args.url, args.speed, !args.no_workers);
        report::write_atomically(path, json.as_bytes())?;
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
