//! `lbsim worker`: N fake workers against a live coordinator, until Ctrl-C
//! (`--exec`: one real agent, in `worker_exec`).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::loadgen::fleet::{Fleet, FleetOptions};
use crate::loadgen::{initial_pool, registration};
use crate::scenario::{Config, EnvSettings, StressOptions, DEFAULT_SEED};
use clap::Args;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Options of `worker`.
#[derive(Clone, Debug, Args)]
pub(crate) struct WorkerArgs {
    /// Number of fake workers [default: 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) workers: Option<u32>,
    /// Seed of the workers' capabilities and failures [default: 42]
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Config file whose worker profiles --profile names [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<std::path::PathBuf>,
    /// The coordinator's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Draw capabilities from this worker profile of the config
    /// [default: the reference's: 4-32 GB, 0-4 GPUs, 4 cores]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Run each test for its expected duration times X (0: complete at once)
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = non_negative)]
    pub time_scale: f64,
    /// Probability that a run reports failure
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub fail_rate: f64,
    /// The coordinator's bearer token
    #[arg(long, env = "LB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub(crate) exec: super::worker_exec::ExecArgs,
}

pub(super) fn non_negative(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s} is not a non-negative number")),
    }
}

fn probability(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s} is not a probability from 0 to 1")),
    }
}

pub(crate) fn run(args: &WorkerArgs, env: &EnvSettings) -> Result<()> {
    super::worker_exec::check_mode(args)?;
    if args.exec.exec {
        return super::worker_exec::run(args);
    }
    let n = args.workers.unwrap_or(4);
    env.check_workers("lbsim worker", u64::from(n))?;
    let mut scenario = StressOptions {
        workers: n,
        seed: args.seed.unwrap_or(DEFAULT_SEED),
        ..StressOptions::default()
    }
    .to_scenario()?;
    if let Some(name) = &args.profile {
        let config = Config::load(args.config.as_deref(), env.config_path.as_deref())?;
        scenario.worker_profile = config.worker_profile(name)?;
    }
    let workers = initial_pool(&scenario)
        .iter()
        .enumerate()
        .map(|(i, spec)| registration(spec, format!("fake-{i}")))
        .collect();
    let client = Client::new(&args.url, args.token.clone());
    let options = FleetOptions {
        workers,
        time_scale: args.time_scale,
        fail_rate: args.fail_rate,
        seed: scenario.seed,
        plan: None,
    };
    let fleet = Fleet::start(client, options).map_err(|e| Error::Run(e.to_string()))?;
    outln!(
        "lbsim worker: {n} workers registered with {} (Ctrl-C drains them and exits)",
        args.url
    );
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    crate::console::print_err("lbsim worker: draining (Ctrl-C again to quit at once)\n");
    let (completed, failed) = fleet.stop();
    outln!("lbsim worker: {completed} runs completed, {failed} failed");
    Ok(())
}
