//! The agent loop every worker runs, fake or real: register, heartbeat on
//! the server's pace with the load its backend measures and the leases it
//! holds, long-poll for leases while it has a free slot, hand each lease
//! to the backend, and drain when told to stop. What a run *is* (a sleep,
//! a process) is the backend's business.

use crate::client::Client;
use crate::service::api::{Heartbeat, Lease, WorkerRegistration};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Wall time is the point here: agents run in real time.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// The leases a worker holds: handed out and not yet reported. Every
/// heartbeat lists them, so the server can square its view; a slot frees
/// when its lease is reported.
#[derive(Default)]
pub(crate) struct Leases {
    set: Mutex<BTreeSet<String>>,
    freed: Condvar,
    /// The worker's id with the server (it changes when the worker
    /// registers again): a backend that reports a run names it to be
    /// handed the next lease in the answer.
    worker: AtomicU64,
}

impl Leases {
    /// The worker's id now.
    pub(crate) fn worker(&self) -> u64 {
        self.worker.load(Ordering::SeqCst)
    }

    fn set_worker(&self, id: u64) {
        self.worker.store(id, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.set.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a lease; false if it was held already (after a server restart
    /// a lease may be handed out again: it runs once).
    pub(crate) fn insert(&self, lease: &str) -> bool {
        self.lock().insert(lease.to_string())
    }

    /// The run's report is in (or the lease is void): its slot is free.
    pub(crate) fn remove(&self, lease: &str) {
        self.lock().remove(lease);
        self.freed.notify_all();
    }

    pub(crate) fn contains(&self, lease: &str) -> bool {
        self.lock().contains(lease)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn list(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    /// Waits, at most `timeout`, until fewer than `slots` leases are held;
    /// whether there is room.
    pub(crate) fn wait_room(&self, slots: usize, timeout: Duration) -> bool {
        let guard = self.lock();
        let (guard, _) = self
            .freed
            .wait_timeout_while(guard, timeout, |s| s.len() >= slots)
            .unwrap_or_else(|e| e.into_inner());
        guard.len() < slots
    }
}

/// What runs a lease. The loop calls it from the worker's thread.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Utilisation for the heartbeat, percent: (cpu, memory, gpu).
    fn load(&self) -> (f64, f64, f64);
    /// Runs held at once, at most.
    fn slots(&self) -> usize {
        usize::MAX
    }
    /// Runs a lease (already in `leases`); the backend reports it and then
    /// removes it from `leases`. A run that goes on after this returns is
    /// handed back as a thread, which the loop waits for when draining.
    /// A backend may take further leases itself, in its reports' answers:
    /// each goes into `leases` before the lease it follows leaves it, so
    /// the worker never holds more than its slots.
    fn start(self: Arc<Self>, lease: Lease, leases: &Arc<Leases>) -> Option<JoinHandle<()>>;
    /// The server no longer knows these leases: stop their runs, report
    /// nothing for them.
    fn cancel(&self, leases: &[String]);
}

/// What a worker's loop shares with whoever started it.
pub(crate) struct LoopCtx<'a> {
    pub(crate) client: &'a Client,
    /// Set: drain (take nothing new, finish the runs held, return).
    pub(crate) stop: &'a AtomicBool,
    /// Set: return at once, whatever runs.
    pub(crate) abort: &'a AtomicBool,
    /// Calls that failed (counted, then retried).
    pub(crate) errors: &'a AtomicU64,
}

/// How long a stopping worker waits for a server that does not answer
/// (long enough for a restart) before it gives up.
const AWAY_LIMIT: Duration = Duration::from_secs(60);

/// A stopping worker's way out: tell the server it drains, then wait for
/// its runs to be reported and nothing more to be assigned.
#[derive(Default)]
struct Drain {
    /// The server knows the worker drains (or does not know the worker).
    told: bool,
    /// Since when the server has not answered, if it has not.
    away_since: Option<Instant>,
}

impl Drain {
    /// One look; false when the worker is done (drained, or the server
    /// stayed away for `AWAY_LIMIT`).
    fn step(&mut self, ctx: &LoopCtx<'_>, id: u64, idle: bool) -> bool {
        if !self.told {
            match ctx.client.drain_worker(id) {
                Ok(_) => (self.told, self.away_since) = (true, None),
                // The server does not know this worker (any more): there is
                // nothing of its to drain but the runs it holds.
                Err(e) if matches!(e.status(), Some(404 | 409)) => self.told = true,
                Err(_) => return self.away(),
            }
        }
        if !(self.told && idle) {
            return true;
        }
        match ctx.client.get_assignments(id) {
            Ok(t) => {
                self.away_since = None;
                !t.is_empty()
            }
            // It knows nothing of this worker: nothing is assigned to it.
            Err(e) if e.status() == Some(404) => {
                self.away_since = None;
                false
            }
            Err(_) => self.away(),
        }
    }

    /// The server is away: wait for it, a bounded while.
    fn away(&mut self) -> bool {
        let since = *self.away_since.get_or_insert_with(now);
        std::thread::sleep(Duration::from_millis(200));
        now() - since < AWAY_LIMIT
    }
}

/// Per-worker state of the loop (its id is kept in `Leases`).
struct Beat {
    every_s: f64,
    next: Instant,
}

/// How a worker's loop ended.
pub(crate) struct Ended {
    /// The worker's id (it may change on re-registration).
    pub(crate) id: u64,
    /// It ended because the coordinator stopped answering (while it
    /// drained, or when it had to register again), not because it drained
    /// or was aborted: what the coordinator did not hear of comes back to
    /// it by lease expiry.
    pub(crate) server_gone: bool,
}

/// One worker's loop: heartbeat when due, lease while there is room, run;
/// re-register if the server declared it offline. Ends once drained or
/// aborted, or when the coordinator stays away.
pub(crate) fn work<B: Backend>(
    ctx: &LoopCtx<'_>,
    backend: &Arc<B>,
    r: &WorkerRegistration,
    id: u64,
    every_s: f64,
) -> Ended {
    let leases = Arc::new(Leases::default());
    leases.set_worker(id);
    let mut runs: Vec<JoinHandle<()>> = Vec::new();
    let mut beat = Beat {
        every_s,
        next: now() + Duration::from_secs_f64(every_s),
    };
    let mut drain = Drain::default();
    let mut server_gone = false;
    for _ in 0..u32::MAX {
        if ctx.abort.load(Ordering::SeqCst) {
            break;
        }
        runs.retain(|h| !h.is_finished());
        let idle = runs.is_empty() && leases.is_empty();
        if ctx.stop.load(Ordering::SeqCst) && !drain.step(ctx, leases.worker(), idle) {
            server_gone = drain.away_since.is_some();
            break;
        }
        if now() >= beat.next && !heartbeat(ctx, backend, r, &leases, &mut beat) {
            server_gone = true;
            break;
        }
        let wait = beat
            .next
            .saturating_duration_since(now())
            .min(Duration::from_secs(2));
        if !leases.wait_room(backend.slots(), wait) {
            continue;
        }
        let wait = beat
            .next
            .saturating_duration_since(now())
            .as_secs_f64()
            .clamp(0.0, 2.0);
        match ctx.client.get_next_assignment(leases.worker(), wait) {
            Ok(Some(lease)) => {
                if leases.insert(&lease.lease_id) {
                    if let Some(h) = backend.clone().start(lease, &leases) {
                        runs.push(h);
                    }
                }
            }
            Ok(None) => {}
            Err(e) if e.status() == Some(409) => beat.next = now(),
            Err(_) => {
                ctx.errors.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    if !ctx.abort.load(Ordering::SeqCst) {
        for h in runs {
            let _ = h.join();
        }
    }
    Ended {
        id: leases.worker(),
        server_gone,
    }
}

/// Sends one heartbeat and applies its answer; false when the worker
/// must give up (it could not register again).
fn heartbeat<B: Backend>(
    ctx: &LoopCtx<'_>,
    backend: &Arc<B>,
    r: &WorkerRegistration,
    leases: &Leases,
    beat: &mut Beat,
) -> bool {
    let (cpu, memory, gpu) = backend.load();
    let load = Heartbeat {
        cpu: clamp_pct(cpu),
        memory: clamp_pct(memory),
        gpu: clamp_pct(gpu),
        leases: Some(leases.list()),
    };
    match ctx.client.update_worker_load(leases.worker(), &load) {
        Ok(reply) => {
            beat.every_s = reply.next_heartbeat_s;
            let mine: Vec<String> = reply
                .cancel
                .into_iter()
                .filter(|l| leases.contains(l))
                .collect();
            if !mine.is_empty() {
                backend.cancel(&mine);
            }
        }
        Err(e) if e.status() == Some(409) || e.status() == Some(404) => {
            match ctx.client.register_worker_retrying(r) {
                Ok(me) => {
                    beat.every_s = me.heartbeat_interval_s;
                    leases.set_worker(me.worker_id);
                }
                Err(_) => return false,
            }
        }
        Err(_) => {
            ctx.errors.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    beat.next = now() + Duration::from_secs_f64(beat.every_s);
    true
}

/// A percentage the server accepts (0 to 100; NaN as 0).
pub(crate) fn clamp_pct(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(0.0, 100.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::Leases;
    use std::time::Duration;

    #[test]
    fn a_slot_frees_when_its_lease_is_reported() {
        let l = Leases::default();
        assert!(l.insert("a"));
        assert!(!l.insert("a"), "a lease handed out again runs once");
        assert!(!l.wait_room(1, Duration::from_millis(10)));
        l.remove("a");
        assert!(l.wait_room(1, Duration::from_millis(10)));
        assert!(l.is_empty());
    }
}
