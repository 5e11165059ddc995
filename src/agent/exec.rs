//! The real backend of `lbsim worker --exec`: each lease becomes a process
//! group running the test's command (with `--allow-test-commands`) or the
//! worker's template, with the test's env plus `LBSIM_TEST_ID`,
//! `LBSIM_ATTEMPT` and `CUDA_VISIBLE_DEVICES` (exactly the devices handed
//! to this run), its output in a log file, a time limit, and its outcome
//! reported with the log's tail.

use super::devices::DevicePool;
use super::lease_loop::{now, Backend, Leases};
use super::load::LoadSampler;
use super::process::{self, RunCtl, Stop};
use super::wire::{self, Report};
use super::{logs, template};
use crate::client::Client;
use crate::service::api::Lease;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the agent runs tests.
#[derive(Clone, Debug)]
pub(crate) struct ExecOptions {
    /// Runs at once, at most.
    pub(crate) slots: usize,
    /// The worker's own command, `{name}`, `{test_id}`, `{attempt}` filled in.
    pub(crate) template: Option<Vec<String>>,
    /// Run a test's own `command` (a test submitter then runs what they like here).
    pub(crate) allow_test_commands: bool,
    /// Between SIGTERM and SIGKILL.
    pub(crate) grace: Duration,
    pub(crate) log_dir: PathBuf,
    /// The logs of this many finished runs stay (0: all).
    pub(crate) keep_logs: usize,
    /// The CUDA devices it hands out, by index.
    pub(crate) devices: Vec<String>,
    /// Whether to ask `nvidia-smi` for their utilisation.
    pub(crate) measure_gpu: bool,
}

/// How the runs ended.
#[derive(Debug, Default)]
pub(crate) struct ExecCounters {
    pub(crate) passed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) timed_out: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    /// Ended by the worker's own stop (not reported; the server requeues them).
    pub(crate) stopped: AtomicU64,
    /// Reports the server refused (the lease was no longer current).
    pub(crate) refused: AtomicU64,
}

/// The executor: one per agent.
pub(crate) struct Executor {
    client: Client,
    opts: ExecOptions,
    pool: DevicePool,
    runs: Mutex<BTreeMap<String, Arc<RunCtl>>>,
    sampler: Mutex<LoadSampler>,
    pub(crate) counters: ExecCounters,
    /// The agent's own time per run (spawn, start and complete calls, log
    /// tail; not the test's), milliseconds, up to a million runs.
    overhead_ms: Mutex<Vec<f64>>,
    /// The worker's own stop flag (set: it drains), shared with its loop:
    /// a report's answer then hands on no lease.
    stop: Arc<AtomicBool>,
    /// The runs' log files.
    kept: logs::Kept,
}

/// How often the watchdog looks at the runs' deadlines and grace periods.
const WATCH_EVERY: Duration = Duration::from_millis(20);

impl Executor {
    /// An executor, with its watchdog thread (which ends with it); `stop`
    /// is the worker's drain flag.
    pub(crate) fn new(client: Client, opts: ExecOptions, stop: Arc<AtomicBool>) -> Arc<Executor> {
        let gpu = if opts.measure_gpu {
            opts.devices.clone()
        } else {
            Vec::new()
        };
        let e = Arc::new(Executor {
            client,
            pool: DevicePool::new(opts.devices.clone()),
            kept: logs::Kept::new(opts.keep_logs),
            opts,
            runs: Mutex::new(BTreeMap::new()),
            sampler: Mutex::new(LoadSampler::new(gpu)),
            counters: ExecCounters::default(),
            overhead_ms: Mutex::new(Vec::new()),
            stop,
        });
        let weak = Arc::downgrade(&e);
        std::thread::spawn(move || watchdog(weak));
        e
    }

    fn runs(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<RunCtl>>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends every run (a second Ctrl-C): SIGTERM, grace, SIGKILL; they are
    /// not reported, and the server requeues them when the worker leaves.
    pub(crate) fn stop_all(&self) {
        for ctl in self.runs().values() {
            ctl.stop(Stop::Stopped);
        }
    }

    /// Runs in progress.
    pub(crate) fn running(&self) -> usize {
        self.runs().len()
    }

    /// The agent's own time per run so far, milliseconds.
    pub(crate) fn overhead_ms(&self) -> Vec<f64> {
        self.overhead_ms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Holds a lease's run, so the watchdog, a cancel and a stop see it.
    fn track(&self, lease: &Lease) -> Arc<RunCtl> {
        let timeout = wire::timeout(&lease.requirements).map(Duration::from_secs_f64);
        let ctl = Arc::new(RunCtl::new(timeout));
        self.runs().insert(lease.lease_id.clone(), ctl.clone());
        ctl
    }

    /// One lease, start to report; the lease the report's answer handed
    /// on (already held and tracked), if any.
    fn run_lease(
        &self,
        lease: &Lease,
        ctl: &RunCtl,
        leases: &Leases,
    ) -> Option<(Lease, Arc<RunCtl>)> {
        let t0 = now();
        let log = logs::path(
            &self.opts.log_dir,
            lease.test_id,
            lease.attempt,
            &lease.lease_id,
        );
        let file = self.kept.create(&log);
        let (report, test_time) = self.execute(lease, ctl, &log, file);
        self.kept.finished(log);
        let mut next = None;
        if let Some(report) = report {
            self.count(report.outcome);
            next = self.report(lease, &report, leases);
        } else {
            self.counters.stopped.fetch_add(1, Ordering::SeqCst);
        }
        let own = (now() - t0).saturating_sub(test_time);
        self.runs().remove(&lease.lease_id);
        leases.remove(&lease.lease_id);
        let mut o = self.overhead_ms.lock().unwrap_or_else(|e| e.into_inner());
        if o.len() < 1_000_000 {
            o.push(own.as_secs_f64() * 1e3);
        }
        next
    }

    /// Reports a run, asking (unless the worker drains) for the worker's
    /// next lease in the answer: a busy worker then makes one call per
    /// test. The lease handed on is held before the reported one is let
    /// go, so the worker's slots are never exceeded.
    fn report(
        &self,
        lease: &Lease,
        report: &Report,
        leases: &Leases,
    ) -> Option<(Lease, Arc<RunCtl>)> {
        let take = !self.stop.load(Ordering::SeqCst);
        let next_for = take.then(|| leases.worker());
        match wire::complete(&self.client, &lease.lease_id, report, next_for) {
            Ok(ack) => {
                let next = ack.next?;
                // Handed out again after a server restart: it runs once.
                if !leases.insert(&next.lease_id) {
                    return None;
                }
                let ctl = self.track(&next);
                Some((next, ctl))
            }
            Err(e) => {
                self.counters.refused.fetch_add(1, Ordering::SeqCst);
                crate::console::print_err(&format!(
                    "lbsim worker: test {} attempt {}: report refused: {e}\n",
                    lease.test_id, lease.attempt
                ));
                None
            }
        }
    }

    fn count(&self, outcome: wire::Outcome) {
        let c = &self.counters;
        match outcome {
            wire::Outcome::Passed => &c.passed,
            wire::Outcome::Failed => &c.failed,
            wire::Outcome::TimedOut => &c.timed_out,
            wire::Outcome::Cancelled => &c.cancelled,
        }
        .fetch_add(1, Ordering::SeqCst);
    }

    /// Runs the lease's command; its report (`None`: the worker stopped
    /// it, nothing to report) and how long the test itself ran.
    fn execute(
        &self,
        lease: &Lease,
        ctl: &RunCtl,
        log: &Path,
        file: std::io::Result<File>,
    ) -> (Option<Report>, Duration) {
        let argv = match self.argv(lease) {
            Ok(argv) => argv,
            Err(why) => {
                logs::note(log, &why);
                return (Some(self.failed_to_start(log)), Duration::ZERO);
            }
        };
        let Some(devices) = self.devices_for(lease, ctl) else {
            return (self.ended_before_start(ctl, log), Duration::ZERO);
        };
        let result = self.spawn_and_wait(lease, ctl, &argv, &devices, (log, file));
        self.pool.give(devices);
        result
    }

    fn spawn_and_wait(
        &self,
        lease: &Lease,
        ctl: &RunCtl,
        argv: &[String],
        devices: &[String],
        (log, file): (&Path, std::io::Result<File>),
    ) -> (Option<Report>, Duration) {
        // A cancel that came before the run stops it when the watchdog's
        // start report learns of it (`START_AFTER`), or the complete call
        // is refused: the test is final already.
        if ctl.stopped().is_some() {
            return (self.ended_before_start(ctl, log), Duration::ZERO);
        }
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                let why = format!("cannot write the log {}: {e}", log.display());
                crate::console::print_err(&format!("lbsim worker: {why}\n"));
                return (Some(self.failed_to_start(log)), Duration::ZERO);
            }
        };
        let env = self.env_for(lease, devices);
        match process::run(argv, &env, &file, ctl) {
            Ok(exited) => {
                drop(file);
                let run_time = exited.run_time;
                (self.ended(ctl, exited, log), run_time)
            }
            Err(e) => {
                drop(file);
                logs::note(log, &format!("cannot run '{}': {e}", argv[0]));
                (Some(self.failed_to_start(log)), Duration::ZERO)
            }
        }
    }

    /// The argv of a run: the test's own command if this worker allows it,
    /// else the worker's template.
    fn argv(&self, lease: &Lease) -> Result<Vec<String>, String> {
        let q = &lease.requirements;
        match (&self.opts.template, wire::command(q)) {
            (_, Some(cmd)) if self.opts.allow_test_commands => Ok(cmd.to_vec()),
            (Some(t), _) => template::expand(
                t,
                &template::Fields {
                    name: wire::name(q),
                    test_id: lease.test_id,
                    attempt: lease.attempt,
                },
            ),
            (None, Some(_)) => Err("this worker does not run a test's own command \
                                    (it was started without --allow-test-commands)"
                .into()),
            (None, None) => Err("the test has no command and this worker has no template".into()),
        }
    }

    /// The devices for a run, waiting while other runs hold them; `None`
    /// if the run was stopped meanwhile or asks for more than there are.
    fn devices_for(&self, lease: &Lease, ctl: &RunCtl) -> Option<Vec<String>> {
        let n = lease.requirements.cuda_devices as usize;
        if n > self.pool.total() {
            ctl.stop(Stop::Cancelled);
            return None;
        }
        loop {
            if ctl.stopped().is_some() {
                return None;
            }
            if let Some(d) = self.pool.take(n, Duration::from_millis(100)) {
                return Some(d);
            }
        }
    }

    fn env_for(&self, lease: &Lease, devices: &[String]) -> Vec<(String, String)> {
        let mut env = wire::env(&lease.requirements);
        env.push(("LBSIM_TEST_ID".into(), lease.test_id.to_string()));
        env.push(("LBSIM_ATTEMPT".into(), lease.attempt.to_string()));
        env.push(("CUDA_VISIBLE_DEVICES".into(), devices.join(",")));
        env
    }

    /// The report of a process that ended.
    fn ended(&self, ctl: &RunCtl, exited: process::Exited, log: &Path) -> Option<Report> {
        let outcome = match ctl.stopped() {
            Some(Stop::Stopped) => {
                logs::note(log, "stopped: the worker was told to quit");
                return None;
            }
            Some(Stop::TimedOut) => {
                logs::note(
                    log,
                    "timed out: SIGTERM to its process group, SIGKILL after the grace period",
                );
                wire::Outcome::TimedOut
            }
            Some(Stop::Cancelled) => {
                logs::note(
                    log,
                    "cancelled: SIGTERM to its process group, SIGKILL after the grace period",
                );
                wire::Outcome::Cancelled
            }
            None if exited.status.success() => wire::Outcome::Passed,
            None => wire::Outcome::Failed,
        };
        Some(Report {
            outcome,
            exit_code: exited.status.code(),
            run_time_s: exited.run_time.as_secs_f64(),
            log_tail: logs::tail(log),
        })
    }

    /// A run that never started: cancelled, or stopped by the worker.
    fn ended_before_start(&self, ctl: &RunCtl, log: &Path) -> Option<Report> {
        match ctl.stopped() {
            Some(Stop::Stopped) => None,
            Some(Stop::TimedOut) => Some(Report {
                outcome: wire::Outcome::TimedOut,
                exit_code: None,
                run_time_s: 0.0,
                log_tail: logs::tail(log),
            }),
            _ => Some(Report {
                outcome: wire::Outcome::Cancelled,
                exit_code: None,
                run_time_s: 0.0,
                log_tail: logs::tail(log),
            }),
        }
    }

    fn failed_to_start(&self, log: &Path) -> Report {
        Report {
            outcome: wire::Outcome::Failed,
            exit_code: None,
            run_time_s: 0.0,
            log_tail: logs::tail(log),
        }
    }
}

impl Backend for Executor {
    fn load(&self) -> (f64, f64, f64) {
        self.sampler
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sample()
    }

    fn slots(&self) -> usize {
        self.opts.slots
    }

    /// One thread runs the lease, then each lease its report's answer
    /// hands on, until an answer hands none.
    fn start(self: Arc<Self>, lease: Lease, leases: &Arc<Leases>) -> Option<JoinHandle<()>> {
        let ctl = self.track(&lease);
        let leases = leases.clone();
        Some(std::thread::spawn(move || {
            let mut run = Some((lease, ctl));
            while let Some((lease, ctl)) = run {
                run = self.run_lease(&lease, &ctl, &leases);
            }
        }))
    }

    fn cancel(&self, leases: &[String]) {
        let runs = self.runs();
        for l in leases {
            if let Some(ctl) = runs.get(l) {
                ctl.stop(Stop::Cancelled);
            }
        }
    }
}

/// Looks at every run's deadline and grace period, and reports as started
/// the runs that went on past `START_AFTER`, until the executor is gone.
fn watchdog(e: Weak<Executor>) {
    while let Some(e) = e.upgrade() {
        let at: Instant = now();
        let runs: Vec<(String, Arc<RunCtl>)> = e
            .runs()
            .iter()
            .map(|(l, c)| (l.clone(), c.clone()))
            .collect();
        for (lease, ctl) in runs {
            ctl.tick(at, e.opts.grace);
            if ctl.claim_start(at) {
                report_start(e.client.clone(), lease, ctl);
            }
        }
        drop(e);
        std::thread::sleep(WATCH_EVERY);
    }
}

/// Tells the coordinator a run started, on a thread of its own (the call
/// retries while the server is away; the watchdog must not wait). A
/// refusal means the test was cancelled or the lease is no longer
/// current: the run is ended as cancelled.
fn report_start(client: Client, lease: String, ctl: Arc<RunCtl>) {
    std::thread::spawn(move || {
        if let Err(e) = wire::start(&client, &lease) {
            if e.status().is_some() {
                ctl.stop(Stop::Cancelled);
            }
        }
    });
}
