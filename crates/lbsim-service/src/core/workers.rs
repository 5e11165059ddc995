//! Workers: registration, heartbeats (measured load, the server's pace),
//! draining, leaving, and the loss of a silent worker.

use super::{CallError, CallResult, Core, Loss, WorkerEntry, MAX_LOSSES};
use crate::api::{
    Heartbeat, HeartbeatReply, Registered, TestState, WorkerRegistration, WorkerStatusView,
};
use crate::balancer::model::{LoadDrift, TestId, WorkerStatus};
use crate::sim::SimTime;
use crate::store::Op;
use crate::workload::trace::recording::Fact;
use std::collections::VecDeque;

/// Heartbeats per second the server aims at, at most, across the fleet: the
/// interval stretches as the fleet grows past `TARGET_RATE × base interval`.
const TARGET_RATE: f64 = 500.0;

impl Core {
    /// The pace for a worker's next heartbeat: a few per timeout, slower as
    /// the fleet grows, with ±10 % jitter so a fleet that started together
    /// does not stay in step.
    pub fn heartbeat_interval_s(&self, worker: u64, beat: u64) -> f64 {
        let timeout = self.cfg.heartbeat_timeout_us as f64 / 1e6;
        let ceiling = timeout / 3.0;
        let live = self.balancer.active_workers() as f64;
        let interval = (timeout / 4.0)
            .min(5.0)
            .max(live / TARGET_RATE)
            .min(ceiling);
        // A cheap, deterministic spread (not a secret: no CSPRNG needed).
        let h = (worker.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ beat.wrapping_mul(0xbf58_476d_1ce4_e5b9))
            >> 11;
        let spread = 0.9 + 0.2 * (h as f64 / (1u64 << 53) as f64);
        interval * spread
    }

    pub fn register(
        &mut self,
        registration: WorkerRegistration,
        now: u64,
    ) -> CallResult<Registered> {
        let mut spec = registration
            .to_spec()
            .map_err(|(field, msg)| CallError::new(400, format!("{field}: {msg}")))?;
        let labels = self
            .label_bits(&registration.labels)
            .ok_or_else(|| CallError::new(400, super::work::TOO_MANY_LABELS))?;
        spec.backends = spec.backends.union(labels);
        let id = self.workers.len() as u64 + 1;
        let text = serde_json::to_string(&registration).unwrap_or_default();
        self.out.ops.push(Op::WorkerJoined {
            id,
            registration: text,
            at: now,
        });
        let fact = Fact::join(
            id,
            &spec,
            registration.name.clone(),
            registration.labels.clone(),
        );
        self.fact(now, fact);
        if !self.shapes.contains(&spec) {
            self.shapes.push(spec.clone());
        }
        let bw = self.balancer.register_worker(spec.clone(), SimTime(now));
        self.by_balancer.push(id);
        self.workers.push(WorkerEntry {
            registration,
            spec,
            balancer: Some(bw),
            status: WorkerStatusView::Active,
            last_heartbeat_us: now,
            heartbeats: 0,
            load: Heartbeat::default(),
            inbox: VecDeque::new(),
            cancel: Vec::new(),
            joined_us: now,
            left_us: None,
            reason: None,
            assignments: 0,
            idle: false,
        });
        self.schedule(now);
        Ok(Registered {
            worker_id: id,
            heartbeat_interval_s: self.heartbeat_interval_s(id, 0),
        })
    }

    /// A worker that may take calls: known and not offline.
    pub(super) fn live_worker(&self, id: u64) -> CallResult<&WorkerEntry> {
        let w = self
            .worker(id)
            .ok_or_else(|| CallError::not_found(format!("worker {id}")))?;
        if w.status == WorkerStatusView::Offline {
            let why = w.reason.as_deref().unwrap_or("it left");
            return Err(CallError::conflict(format!(
                "worker {id} is offline ({why}); register again"
            )));
        }
        Ok(w)
    }

    /// Whether worker `id` is known (a lease call of an unknown one does
    /// not wait).
    pub(crate) fn knows_worker(&self, id: u64) -> bool {
        self.worker(id).is_some()
    }

    /// Records a heartbeat: renews the worker's leases, turns its measured
    /// load into the balancer's drift (the load its tests do not explain)
    /// and, when `reconcile` and the worker lists its leases, squares them
    /// with the server's (`reconcile_leases`).
    pub fn heartbeat(
        &mut self,
        id: u64,
        mut load: Heartbeat,
        now: u64,
        reconcile: bool,
    ) -> CallResult<HeartbeatReply> {
        load.validate()
            .map_err(|(field, msg)| CallError::new(400, format!("{field}: {msg}")))?;
        let bw = self.live_worker(id)?.balancer;
        let listed = load.leases.take();
        let w = self.worker_mut(id);
        let since = w.last_heartbeat_us;
        w.last_heartbeat_us = now;
        w.heartbeats += 1;
        w.load = load.clone();
        let beat = w.heartbeats;
        if let Some(bw) = bw {
            self.drift_from(bw, &load, now);
        }
        let mut cancel = match (reconcile, listed) {
            (true, Some(listed)) => self.reconcile_leases(id, &listed, since, now),
            _ => Vec::new(),
        };
        cancel.append(&mut self.worker_mut(id).cancel);
        cancel.sort();
        cancel.dedup();
        Ok(HeartbeatReply {
            next_heartbeat_s: self.heartbeat_interval_s(id, beat),
            cancel,
        })
    }

    /// The measured load the worker's booked runs do not explain.
    fn drift_from(&mut self, bw: crate::balancer::model::WorkerId, load: &Heartbeat, now: u64) {
        let state = self.balancer.worker(bw);
        let frac = |used: f64, total: f64| if total > 0.0 { used / total } else { 0.0 };
        let booked_cpu = frac(f64::from(state.used_cores), f64::from(state.spec.cpu_cores));
        let booked_mem = frac(state.used_memory_mib as f64, state.spec.memory_mib as f64);
        let booked_gpu = frac(
            f64::from(state.used_cuda),
            f64::from(state.spec.cuda_devices),
        );
        let drift = LoadDrift {
            cpu: (load.cpu / 100.0 - booked_cpu).max(0.0),
            memory: (load.memory / 100.0 - booked_mem).max(0.0),
            gpu: (load.gpu / 100.0 - booked_gpu).max(0.0),
            io: 0.0,
            network: 0.0,
        };
        if state.drift != drift {
            self.balancer.set_drift(bw, drift);
            self.record_load(bw, &drift, now);
        }
    }

    /// Takes nothing new; goes offline once its runs end.
    pub fn drain(&mut self, id: u64, now: u64) -> CallResult<WorkerStatusView> {
        let w = self.live_worker(id)?;
        let Some(bw) = w.balancer else {
            return Ok(w.status);
        };
        if w.status == WorkerStatusView::Active {
            self.balancer.drain_worker(bw, SimTime(now));
            self.worker_mut(id).status = WorkerStatusView::Draining;
            self.out.ops.push(Op::WorkerStatus {
                id,
                status: "draining",
                left_at: None,
                reason: None,
            });
            self.fact(now, Fact::Drain { worker: id });
            self.check_drained(bw, now);
        }
        Ok(self.worker_mut(id).status)
    }

    /// Leaves now: its runs are requeued (not counted as losses).
    pub fn leave(&mut self, id: u64, now: u64) -> CallResult<()> {
        self.live_worker(id)?;
        self.lose_worker(id, now, "left (DELETE)", "requeued");
        // What is left past the first step, the expiry timer finishes.
        self.work_losses(now);
        Ok(())
    }

    /// A draining worker whose last run ended is offline now.
    pub(super) fn check_drained(&mut self, bw: crate::balancer::model::WorkerId, now: u64) {
        if self.balancer.worker(bw).status != WorkerStatus::Offline {
            return;
        }
        let id = self.by_balancer[bw.0 as usize];
        let w = self.worker_mut(id);
        if w.status == WorkerStatusView::Offline {
            return;
        }
        w.status = WorkerStatusView::Offline;
        w.balancer = None;
        w.left_us = Some(now);
        w.reason = Some("drained".into());
        w.inbox.clear();
        self.out.ops.push(Op::WorkerStatus {
            id,
            status: "offline",
            left_at: Some(now),
            reason: Some("drained".into()),
        });
    }

    /// The worker is gone: it takes nothing more, and every run it held
    /// goes back to pending (`outcome` `lost` counts toward `MAX_LOSSES`;
    /// `requeued` does not), `LOSS_STEP` runs per call of `work_losses`.
    pub(super) fn lose_worker(&mut self, id: u64, now: u64, reason: &str, outcome: &'static str) {
        let Some(bw) = self.worker(id).and_then(|w| w.balancer) else {
            return;
        };
        self.balancer.drain_worker(bw, SimTime(now));
        let w = self.worker_mut(id);
        w.status = WorkerStatusView::Offline;
        w.left_us = Some(now);
        w.reason = Some(reason.to_string());
        w.inbox.clear();
        w.cancel.clear();
        self.out.wake.push(id);
        self.out.ops.push(Op::WorkerStatus {
            id,
            status: "offline",
            left_at: Some(now),
            reason: Some(reason.to_string()),
        });
        self.fact(
            now,
            Fact::Fail {
                worker: id,
                reason: reason.to_string(),
            },
        );
        self.losing.push_back(Loss {
            worker: id,
            reason: reason.to_string(),
            outcome,
        });
    }

    /// Requeues up to `LOSS_STEP` runs of lost workers, then schedules (a
    /// bounded pass). Returns true while runs are left to requeue or tests
    /// to place (the caller calls again after releasing the lock).
    pub(crate) fn work_losses(&mut self, now: u64) -> bool {
        let mut budget = LOSS_STEP;
        while let Some(loss) = self.losing.front().cloned() {
            let bw = self.worker(loss.worker).and_then(|w| w.balancer);
            let Some(bw) = bw else {
                self.losing.pop_front();
                continue;
            };
            while budget > 0 {
                let Some(&t) = self.balancer.worker(bw).running.last() else {
                    break;
                };
                self.lose_run(t, now, &loss.reason, loss.outcome);
                budget -= 1;
            }
            if !self.balancer.worker(bw).running.is_empty() {
                break;
            }
            // Idle and draining: the balancer has let it go.
            self.worker_mut(loss.worker).balancer = None;
            self.losing.pop_front();
        }
        self.schedule(now);
        !self.losing.is_empty() || self.scheduling_left
    }

    /// One run of a lost worker, or a lease its worker no longer holds:
    /// back to pending, or failed for good at the loss limit.
    pub(super) fn lose_run(&mut self, t: TestId, now: u64, reason: &str, outcome: &'static str) {
        let counts = outcome == "lost";
        if counts && self.tests[t.0 as usize - 1].losses + 1 >= MAX_LOSSES {
            self.balancer.finish(t, SimTime(now), false);
            self.end_run(t.0, now, outcome);
            let why = format!("lost {MAX_LOSSES} times with its worker (last: {reason})");
            self.finish_test(t.0, now, TestState::Failed, None, None, Some(why));
        } else {
            self.balancer.retry(t, SimTime(now));
            self.end_run(t.0, now, outcome);
        }
    }
}

/// Runs requeued per call when a worker is lost: one lock hold and one
/// commit stay short however many runs the worker held.
const LOSS_STEP: usize = 1_000;
