//! `lbsim worker --exec`: one real agent on this machine, running tests as
//! processes (see `crate::agent`), until Ctrl-C drains it.

use super::worker_args::{ExecArgs, WorkerArgs};
use crate::agent::exec::{ExecOptions, Executor};
use crate::agent::lease_loop::{self, LoopCtx};
use crate::agent::{detect, logs, template};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::service::api::WorkerRegistration;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The fake fleet's flags, refused with `--exec`, and the agent's, refused
/// without it.
pub(crate) fn check_mode(args: &WorkerArgs) -> Result<()> {
    let x = &args.exec;
    if x.exec {
        let fake = [
            ("--workers", args.workers.is_some()),
            ("--seed", args.seed.is_some()),
            ("--profile", args.profile.is_some()),
            ("--config", args.config.is_some()),
            ("--time-scale", args.time_scale != 1.0),
            ("--fail-rate", args.fail_rate != 0.0),
        ];
        if let Some((flag, _)) = fake.iter().find(|(_, given)| *given) {
            return Err(Error::invalid(
                *flag,
                "is for fake workers: drop it or --exec",
            ));
        }
        return Ok(());
    }
    let real = [
        ("--slots", x.slots.is_some()),
        ("--cores", x.cores.is_some()),
        ("--memory-gb", x.memory_gb.is_some()),
        ("--cuda-devices", x.cuda_devices.is_some()),
        ("--labels", !x.labels.is_empty()),
        ("--name", x.name.is_some()),
        ("--allow-test-commands", x.allow_test_commands),
        ("--grace", x.grace != 10.0),
        ("--log-dir", x.log_dir.is_some()),
        ("--keep-logs", x.keep_logs != 1000),
        ("a template after --", !x.template.is_empty()),
    ];
    match real.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(Error::invalid(*flag, "runs real tests: add --exec")),
        None => Ok(()),
    }
}

/// Whether `url` names this machine (loopback), so only its users reach it.
pub(crate) fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What this worker offers: detected, then overridden by the flags.
fn registration(x: &ExecArgs) -> Result<(WorkerRegistration, Vec<String>, bool)> {
    let detected = if x.cuda_devices.is_some() {
        Vec::new()
    } else {
        detect::cuda_devices()
    };
    let measure_gpu = !detected.is_empty();
    let devices: Vec<String> = match x.cuda_devices {
        Some(n) => (0..n).map(|i| i.to_string()).collect(),
        None => detected,
    };
    let memory_gb = match x.memory_gb.or_else(detect::memory_gb) {
        Some(m) => m,
        None => {
            return Err(Error::invalid(
                "--memory-gb",
                "cannot read /proc/meminfo: give it",
            ))
        }
    };
    let r = WorkerRegistration {
        memory_gb,
        cpu_cores: x.cores.unwrap_or_else(detect::cores),
        cuda_devices: devices.len() as u32,
        backends: None,
        name: x.name.clone().or_else(detect::hostname),
        labels: x.labels.clone(),
    };
    if let Err((field, message)) = r.to_spec() {
        let flag = match field.split('[').next().unwrap_or("") {
            "memory_gb" => "--memory-gb",
            "cpu_cores" => "--cores",
            "cuda_devices" => "--cuda-devices",
            "labels" => "--labels",
            _ => "--name",
        };
        return Err(Error::invalid(flag, format!("{field}: {message}")));
    }
    Ok((r, devices, measure_gpu))
}

/// The run options, each flag checked.
fn exec_options(
    args: &WorkerArgs,
    r: &WorkerRegistration,
    devices: Vec<String>,
) -> Result<ExecOptions> {
    let x = &args.exec;
    if x.template.is_empty() && !x.allow_test_commands {
        return Err(Error::invalid(
            "--exec",
            "needs a command template after -- (lbsim worker --exec -- pytest {name}) \
             or --allow-test-commands",
        ));
    }
    if !x.template.is_empty() {
        template::check(&x.template).map_err(|e| Error::invalid("TEMPLATE", e))?;
    }
    if x.allow_test_commands && args.token.is_none() && !is_loopback(&args.url) {
        return Err(Error::invalid(
            "--allow-test-commands",
            "runs what any submitter sends: use it with --token (LB_TOKEN) or a loopback --url",
        ));
    }
    let log_dir = x.log_dir.clone().unwrap_or_else(logs::default_dir);
    std::fs::create_dir_all(&log_dir)
        .map_err(|e| Error::invalid("--log-dir", format!("{}: {e}", log_dir.display())))?;
    Ok(ExecOptions {
        slots: x.slots.unwrap_or(r.cpu_cores) as usize,
        template: (!x.template.is_empty()).then(|| x.template.clone()),
        allow_test_commands: x.allow_test_commands,
        grace: Duration::from_secs_f64(x.grace),
        log_dir,
        keep_logs: x.keep_logs,
        devices,
        measure_gpu: false,
    })
}

pub(crate) fn run(args: &WorkerArgs) -> Result<()> {
    let (r, devices, measure_gpu) = registration(&args.exec)?;
    let mut opts = exec_options(args, &r, devices)?;
    opts.measure_gpu = measure_gpu;
    let client = Client::new(&args.url, args.token.clone());
    let me = client
        .register_worker(&r)
        .map_err(|e| Error::Run(e.to_string()))?;
    outln!(
        "lbsim worker: worker {} registered with {}: {} cores, {:.1} GB, {} CUDA devices, {} slots",
        me.worker_id,
        args.url,
        r.cpu_cores,
        r.memory_gb,
        r.cuda_devices,
        opts.slots
    );
    outln!(
        "lbsim worker: logs in {} (Ctrl-C drains, twice stops the runs)",
        opts.log_dir.display()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let executor = Executor::new(client.clone(), opts.clone(), stop.clone());
    let presses = Arc::new(AtomicU32::new(0));
    let p = presses.clone();
    let _ = ctrlc::set_handler(move || {
        if p.fetch_add(1, Ordering::SeqCst) >= 2 {
            std::process::exit(130);
        }
    });
    let (abort, errors) = (AtomicBool::new(false), AtomicU64::new(0));
    let ctx = LoopCtx {
        client: &client,
        stop: &stop,
        abort: &abort,
        errors: &errors,
    };
    let ended = std::thread::scope(|scope| {
        let worker = scope
            .spawn(|| lease_loop::work(&ctx, &executor, &r, me.worker_id, me.heartbeat_interval_s));
        watch_presses(&presses, &stop, &abort, &executor, &worker);
        worker.join().unwrap_or(lease_loop::Ended {
            id: me.worker_id,
            server_gone: false,
        })
    });
    if abort.load(Ordering::SeqCst) {
        stop_runs(&executor, &client, ended.id, &opts)?;
    }
    summary(&executor)?;
    if ended.server_gone {
        return Err(Error::Run(format!(
            "the coordinator at {} stopped answering; the runs it did not hear of \
             come back to it when their leases expire",
            args.url
        )));
    }
    Ok(())
}

/// Follows Ctrl-C until the loop ends: once drains, twice stops the runs.
fn watch_presses<T>(
    presses: &AtomicU32,
    stop: &AtomicBool,
    abort: &AtomicBool,
    executor: &Executor,
    worker: &std::thread::ScopedJoinHandle<'_, T>,
) {
    let mut seen = 0;
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        let now = presses.load(Ordering::SeqCst);
        if now >= 1 && seen == 0 {
            crate::console::print_err(
                "lbsim worker: draining: the runs in progress finish, nothing new starts \
                 (Ctrl-C again stops them)\n",
            );
            stop.store(true, Ordering::SeqCst);
        }
        if now >= 2 && seen < 2 {
            crate::console::print_err("lbsim worker: stopping the runs (SIGTERM, then SIGKILL)\n");
            abort.store(true, Ordering::SeqCst);
            executor.stop_all();
        }
        seen = now;
    }
}

/// After a second Ctrl-C: waits (grace + 5 s at most) for the stopped runs
/// to end, then leaves, so the coordinator requeues them at once.
fn stop_runs(executor: &Executor, client: &Client, id: u64, opts: &ExecOptions) -> Result<()> {
    let bound = opts.grace + Duration::from_secs(5);
    let mut waited = Duration::ZERO;
    while executor.running() > 0 && waited < bound {
        executor.stop_all();
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    let stopped = executor.counters.stopped.load(Ordering::SeqCst);
    match client.unregister_worker(id) {
        Ok(_) => outln!("lbsim worker: {stopped} runs stopped; the coordinator requeued them"),
        Err(e) => outln!("lbsim worker: {stopped} runs stopped; leaving failed ({e}): they come back when the lease expires"),
    }
    Ok(())
}

/// The runs' outcomes and the agent's own time per run.
fn summary(executor: &Executor) -> Result<()> {
    let c = &executor.counters;
    let n = |a: &AtomicU64| a.load(Ordering::SeqCst);
    let mut own = executor.overhead_ms();
    own.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        own.get(((own.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    outln!(
        "lbsim worker: {} passed, {} failed, {} timed out, {} cancelled; own time per run p50 {:.2} ms, p99 {:.2} ms",
        n(&c.passed),
        n(&c.failed),
        n(&c.timed_out),
        n(&c.cancelled),
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cli::worker_exec::is_loopback;

    #[test]
    fn loopback_urls_are_this_machine_only() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:1/x",
            "http://[::1]:80",
            "127.0.0.2",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "http://[::2]:1",
            "http://127.0.0.1.evil.com",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
