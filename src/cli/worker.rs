//! `lbsim worker`: N fake workers against a live coordinator, until Ctrl-C
//! (`--exec`: one real agent, in `worker_exec`).

pub(crate) use super::worker_args::WorkerArgs;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::loadgen::fleet::{Fleet, FleetOptions};
use crate::loadgen::{initial_pool, registration};
use crate::scenario::{Config, EnvSettings, StressOptions, DEFAULT_SEED};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
