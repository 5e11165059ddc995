//! Fake workers: each registers, heartbeats on the server's pace with the
//! load its runs cause, long-polls for leases and "runs" each test for its
//! expected duration × the time scale (or a planned run time), then reports.
//! One thread per worker, one per run in progress; the loop is the real
//! agent's (`crate::agent::lease_loop`), with runs that sleep.

use crate::agent::lease_loop::{self, now, Backend, Leases, LoopCtx};
use crate::client::{AssignmentStatus, Client, ClientError};
use crate::service::api::{Lease, WorkerRegistration};
use crate::sim::SimRng;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A run's planned length (seconds of scenario time) and outcome, by test
/// id and attempt; `None` falls back to the expected duration.
pub(crate) type RunPlan = Arc<dyn Fn(u64, u32) -> Option<(f64, bool)> + Send + Sync>;

/// How the fleet behaves.
#[derive(Clone)]
pub(crate) struct FleetOptions {
    pub(crate) workers: Vec<WorkerRegistration>,
    /// Wall seconds per second of run time (0: complete at once).
    pub(crate) time_scale: f64,
    /// Probability that a run reports failure.
    pub(crate) fail_rate: f64,
    pub(crate) seed: u64,
    pub(crate) plan: Option<RunPlan>,
}

/// What the fleet did.
#[derive(Debug, Default)]
pub(crate) struct FleetCounters {
    pub(crate) registered: AtomicU64,
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) errors: AtomicU64,
}

/// A running fleet; `stop` drains it.
pub(crate) struct Fleet {
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

struct Shared {
    client: Client,
    options: FleetOptions,
    stop: AtomicBool,
    counters: FleetCounters,
    cancelled: Mutex<BTreeSet<String>>,
    rng: Mutex<SimRng>,
}

impl Fleet {
    /// Registers every worker, then returns with them working.
    pub(crate) fn start(client: Client, options: FleetOptions) -> Result<Fleet, ClientError> {
        let rng = crate::sim::RngStreams::new(options.seed).stream(crate::sim::Stream::Churn);
        let shared = Arc::new(Shared {
            client,
            options,
            stop: AtomicBool::new(false),
            counters: FleetCounters::default(),
            cancelled: Mutex::new(BTreeSet::new()),
            rng: Mutex::new(rng),
        });
        let mut threads = Vec::new();
        for r in shared.options.workers.clone() {
            let me = shared.client.register_worker_retrying(&r)?;
            shared.counters.registered.fetch_add(1, Ordering::SeqCst);
            let s = shared.clone();
            threads.push(std::thread::spawn(move || {
                work(&s, r, me.worker_id, me.heartbeat_interval_s)
            }));
        }
        Ok(Fleet { shared, threads })
    }

    /// Drains every worker and waits for the runs in progress to end;
    /// returns (completed, failed) runs.
    pub(crate) fn stop(self) -> (u64, u64) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        let c = &self.shared.counters;
        (
            c.completed.load(Ordering::SeqCst),
            c.failed.load(Ordering::SeqCst),
        )
    }
}

/// One fake worker as the agent loop's backend: its runs sleep, and its
/// load is what they reserve of its capacity.
struct Sleeper {
    s: Arc<Shared>,
    r: WorkerRegistration,
    held: Mutex<Held>,
}

/// The load a worker's runs cause.
#[derive(Default)]
struct Held {
    cores: u32,
    memory_gb: f64,
    cuda: u32,
}

impl Backend for Sleeper {
    fn load(&self) -> (f64, f64, f64) {
        let h = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let r = &self.r;
        let pct = |a: f64, b: f64| if b > 0.0 { 100.0 * a / b } else { 0.0 };
        (
            pct(f64::from(h.cores), f64::from(r.cpu_cores)),
            pct(h.memory_gb, r.memory_gb),
            pct(f64::from(h.cuda), f64::from(r.cuda_devices)),
        )
    }

    fn start(self: Arc<Self>, lease: Lease, leases: &Arc<Leases>) -> Option<JoinHandle<()>> {
        run(self, leases.clone(), lease)
    }

    /// A run still going will not report; one not started is forgotten.
    fn cancel(&self, leases: &[String]) {
        let mut c = self.s.cancelled.lock().unwrap_or_else(|e| e.into_inner());
        c.extend(leases.iter().cloned());
    }
}

/// One worker's loop (the agent loop, with sleeping runs).
fn work(s: &Arc<Shared>, r: WorkerRegistration, id: u64, every_s: f64) {
    let never = AtomicBool::new(false);
    let ctx = LoopCtx {
        client: &s.client,
        stop: &s.stop,
        abort: &never,
        errors: &s.counters.errors,
    };
    let backend = Arc::new(Sleeper {
        s: s.clone(),
        r: r.clone(),
        held: Mutex::new(Held::default()),
    });
    lease_loop::work(&ctx, &backend, &r, id, every_s);
}

/// Starts a run: at once when it takes no time, else on its own thread.
fn run(b: Arc<Sleeper>, leases: Arc<Leases>, lease: Lease) -> Option<JoinHandle<()>> {
    let s = &b.s;
    let planned = s
        .options
        .plan
        .as_ref()
        .and_then(|p| p(lease.test_id, lease.attempt));
    let (run_s, mut success) = planned.unwrap_or((lease.requirements.expected_duration(), true));
    if s.options.fail_rate > 0.0 {
        let mut rng = s.rng.lock().unwrap_or_else(|e| e.into_inner());
        success &= !rng.chance(s.options.fail_rate);
    }
    let wall = run_s * s.options.time_scale;
    // The run starts when its lease arrives: it ends `wall` after that,
    // however long the start report took (the simulator's run starts at
    // its assignment; a sleep after the round trip would lengthen it).
    let received = now();
    if wall <= 0.0 {
        finish(s, &lease, 0.0, success);
        leases.remove(&lease.lease_id);
        return None;
    }
    Some(std::thread::spawn(move || {
        let q = &lease.requirements;
        {
            let mut h = b.held.lock().unwrap_or_else(|e| e.into_inner());
            h.cores += q.cpu_cores;
            h.memory_gb += q.memory_gb;
            h.cuda += q.cuda_devices;
        }
        if b.s
            .client
            .update_assignment_status(&lease.lease_id, AssignmentStatus::Running)
            .is_ok()
        {
            let end = received + Duration::from_secs_f64(wall);
            std::thread::sleep(end.saturating_duration_since(now()));
            finish(&b.s, &lease, received.elapsed().as_secs_f64(), success);
        }
        let mut h = b.held.lock().unwrap_or_else(|e| e.into_inner());
        h.cores -= q.cpu_cores;
        h.memory_gb -= q.memory_gb;
        h.cuda -= q.cuda_devices;
        drop(h);
        leases.remove(&lease.lease_id);
    }))
}

/// Reports the end of a run (unless the server cancelled its lease).
fn finish(s: &Shared, lease: &Lease, run_time_s: f64, success: bool) {
    let cancelled = s
        .cancelled
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&lease.lease_id);
    if cancelled {
        s.counters.cancelled.fetch_add(1, Ordering::SeqCst);
        return;
    }
    if run_time_s == 0.0 {
        let _ = s
            .client
            .update_assignment_status(&lease.lease_id, AssignmentStatus::Running);
    }
    let status = if success {
        AssignmentStatus::Completed {
            run_time_s,
            result: None,
        }
    } else {
        AssignmentStatus::Failed {
            run_time_s,
            result: None,
        }
    };
    match s.client.update_assignment_status(&lease.lease_id, status) {
        Ok(_) if success => s.counters.completed.fetch_add(1, Ordering::SeqCst),
        Ok(_) => s.counters.failed.fetch_add(1, Ordering::SeqCst),
        Err(_) => s.counters.errors.fetch_add(1, Ordering::SeqCst),
    };
}
