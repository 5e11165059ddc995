//! Fake workers: each registers, heartbeats on the server's pace with the
//! load its runs cause, long-polls for leases and "runs" each test for its
//! expected duration × the time scale (or a planned run time), then reports.
//! One thread per worker, one per run in progress.

use crate::client::{AssignmentStatus, Client, ClientError};
use crate::service::api::{Heartbeat, Lease, WorkerRegistration};
use crate::sim::SimRng;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A run's planned length (seconds of scenario time) and outcome, by test
/// id and attempt; `None` falls back to the expected duration.
pub type RunPlan = Arc<dyn Fn(u64, u32) -> Option<(f64, bool)> + Send + Sync>;

/// How the fleet behaves.
#[derive(Clone)]
pub struct FleetOptions {
    pub workers: Vec<WorkerRegistration>,
    /// Wall seconds per second of run time (0: complete at once).
    pub time_scale: f64,
    /// Probability that a run reports failure.
    pub fail_rate: f64,
    pub seed: u64,
    pub plan: Option<RunPlan>,
}

/// What the fleet did.
#[derive(Debug, Default)]
pub struct FleetCounters {
    pub registered: AtomicU64,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub cancelled: AtomicU64,
    pub errors: AtomicU64,
}

/// A running fleet; `stop` drains it.
pub struct Fleet {
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

/// Wall time is the point here: these workers run in real time.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

impl Fleet {
    /// Registers every worker, then returns with them working.
    pub fn start(client: Client, options: FleetOptions) -> Result<Fleet, ClientError> {
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
            let me = shared.client.register_worker(&r)?;
            shared.counters.registered.fetch_add(1, Ordering::SeqCst);
            let s = shared.clone();
            threads.push(std::thread::spawn(move || {
                work(&s, r, me.worker_id, me.heartbeat_interval_s)
            }));
        }
        Ok(Fleet { shared, threads })
    }

    pub fn counters(&self) -> &FleetCounters {
        &self.shared.counters
    }

    /// Drains every worker and waits for the runs in progress to end;
    /// returns (completed, failed) runs.
    pub fn stop(self) -> (u64, u64) {
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

/// What a worker's runs hold: the load they cause, and their leases
/// (listed in every heartbeat, so the server can square its view).
#[derive(Default)]
struct Held {
    cores: u32,
    memory_gb: f64,
    cuda: u32,
    leases: BTreeSet<String>,
}

fn load_of(r: &WorkerRegistration, held: &Mutex<Held>) -> Heartbeat {
    let h = held.lock().unwrap_or_else(|e| e.into_inner());
    let pct = |a: f64, b: f64| {
        if b > 0.0 {
            (100.0 * a / b).clamp(0.0, 100.0)
        } else {
            0.0
        }
    };
    Heartbeat {
        cpu: pct(f64::from(h.cores), f64::from(r.cpu_cores)),
        memory: pct(h.memory_gb, r.memory_gb),
        gpu: pct(f64::from(h.cuda), f64::from(r.cuda_devices)),
        leases: Some(h.leases.iter().cloned().collect()),
    }
}

/// One worker's loop: heartbeat when due, lease, run; re-register if the
/// server declared it offline.
fn work(s: &Arc<Shared>, r: WorkerRegistration, mut id: u64, mut every_s: f64) {
    let held = Arc::new(Mutex::new(Held::default()));
    let mut runs: Vec<std::thread::JoinHandle<()>> = Vec::new();
    let mut next_beat = now() + Duration::from_secs_f64(every_s);
    let mut draining = false;
    let mut unreachable = 0;
    for _ in 0..u32::MAX {
        if s.stop.load(Ordering::SeqCst) && !draining {
            draining = s.client.drain_worker(id).is_ok();
        }
        runs.retain(|h| !h.is_finished());
        if draining && runs.is_empty() {
            match s.client.get_assignments(id) {
                Ok(t) if t.is_empty() => return,
                Ok(_) => {}
                // The server is away: wait for it, a bounded while.
                Err(_) if unreachable < MAX_UNREACHABLE => {
                    unreachable += 1;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(_) => return,
            }
        }
        if now() >= next_beat {
            match s.client.update_worker_load(id, &load_of(&r, &held)) {
                Ok(reply) => {
                    every_s = reply.next_heartbeat_s;
                    drop_cancelled(s, &held, reply.cancel);
                }
                Err(e) if e.status() == Some(409) || e.status() == Some(404) => {
                    match s.client.register_worker(&r) {
                        Ok(me) => (id, every_s) = (me.worker_id, me.heartbeat_interval_s),
                        Err(_) => return,
                    }
                }
                Err(_) => {
                    s.counters.errors.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
            next_beat = now() + Duration::from_secs_f64(every_s);
        }
        let wait = next_beat
            .saturating_duration_since(now())
            .as_secs_f64()
            .clamp(0.0, 2.0);
        match s.client.get_next_assignment(id, wait) {
            Ok(Some(lease)) => {
                // After a server restart a lease may come again: run it once.
                let fresh = held
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .leases
                    .insert(lease.lease_id.clone());
                if fresh {
                    if let Some(h) = run(s, &held, lease) {
                        runs.push(h);
                    }
                }
            }
            Ok(None) => {}
            Err(e) if e.status() == Some(409) => next_beat = now(),
            Err(_) => {
                s.counters.errors.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// Starts a run: at once when it takes no time, else on its own thread.
fn run(
    s: &Arc<Shared>,
    held: &Arc<Mutex<Held>>,
    lease: Lease,
) -> Option<std::thread::JoinHandle<()>> {
    let planned = s
        .options
        .plan
        .as_ref()
        .and_then(|p| p(lease.test_id, lease.attempt));
    let (run_s, mut success) = planned.unwrap_or((lease.requirements.expected_duration_s, true));
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
        release(held, &lease.lease_id);
        return None;
    }
    let (s, held) = (s.clone(), held.clone());
    Some(std::thread::spawn(move || {
        let q = &lease.requirements;
        {
            let mut h = held.lock().unwrap_or_else(|e| e.into_inner());
            h.cores += q.cpu_cores;
            h.memory_gb += q.memory_gb;
            h.cuda += q.cuda_devices;
        }
        if s.client
            .update_assignment_status(&lease.lease_id, AssignmentStatus::Running)
            .is_ok()
        {
            let end = received + Duration::from_secs_f64(wall);
            std::thread::sleep(end.saturating_duration_since(now()));
            finish(&s, &lease, received.elapsed().as_secs_f64(), success);
        }
        let mut h = held.lock().unwrap_or_else(|e| e.into_inner());
        h.cores -= q.cpu_cores;
        h.memory_gb -= q.memory_gb;
        h.cuda -= q.cuda_devices;
        h.leases.remove(&lease.lease_id);
    }))
}

/// The run's report is in (or the lease is void): no longer held.
fn release(held: &Mutex<Held>, lease: &str) {
    held.lock()
        .unwrap_or_else(|e| e.into_inner())
        .leases
        .remove(lease);
}

/// Leases the server no longer knows on this worker: a run still going
/// will not report; one not started is forgotten.
fn drop_cancelled(s: &Shared, held: &Mutex<Held>, cancel: Vec<String>) {
    if cancel.is_empty() {
        return;
    }
    let mut c = s.cancelled.lock().unwrap_or_else(|e| e.into_inner());
    let h = held.lock().unwrap_or_else(|e| e.into_inner());
    c.extend(cancel.into_iter().filter(|l| h.leases.contains(l)));
}

/// Lease checks a draining worker makes while the server is unreachable
/// (200 ms apart) before it gives up.
const MAX_UNREACHABLE: u32 = 600;

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
