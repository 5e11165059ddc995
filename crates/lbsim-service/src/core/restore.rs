//! Rebuilding the core from the store after a restart. The balancer is
//! rebuilt through its public calls only: each live worker registers, and
//! its leased runs are submitted and placed by a scheduling pass while every
//! other worker is held at full load (so the pass can only pick it). Then
//! the waiting tests are submitted in id order. Every live worker gets one
//! heartbeat timeout of grace from `now`.

use super::{Core, CoreConfig, Run, TestEntry, WorkerEntry};
use crate::api::{Heartbeat, TestRequest, TestState, WorkerRegistration, WorkerStatusView};
use crate::balancer::model::{LoadDrift, TestId};
use crate::sim::SimTime;
use crate::store::{Snapshot, TestRow, WorkerRow};
use std::collections::VecDeque;

/// A drift that puts any worker above the capacity gate.
const FULL: LoadDrift = LoadDrift {
    cpu: 1.0,
    memory: 1.0,
    gpu: 1.0,
    io: 1.0,
    network: 1.0,
};

fn outcome_str(s: &str) -> &'static str {
    match s {
        "completed" => "completed",
        "failed" => "failed",
        "timed_out" => "timed_out",
        "cancelled" => "cancelled",
        "lost" => "lost",
        "moved" => "moved",
        _ => "requeued",
    }
}

fn worker_entry(row: &WorkerRow, now: u64) -> Option<WorkerEntry> {
    let registration: WorkerRegistration = serde_json::from_str(&row.registration).ok()?;
    let spec = registration.to_spec().ok()?;
    let status = match row.status.as_str() {
        "active" => WorkerStatusView::Active,
        "draining" => WorkerStatusView::Draining,
        _ => WorkerStatusView::Offline,
    };
    Some(WorkerEntry {
        registration,
        spec,
        balancer: None,
        status,
        last_heartbeat_us: now,
        heartbeats: 0,
        load: Heartbeat::default(),
        inbox: VecDeque::new(),
        cancel: Vec::new(),
        joined_us: row.joined_us,
        left_us: row.left_us,
        reason: row.reason.clone(),
        assignments: 0,
        idle: false,
    })
}

fn state_of(s: &str) -> TestState {
    TestState::parse(s).unwrap_or(TestState::Pending)
}

impl Core {
    /// The core a store describes. Rows that cannot be read (never written
    /// by this version) are skipped with a warning.
    pub fn restore(
        cfg: CoreConfig,
        snap: &Snapshot,
        recording: bool,
        seed: [u8; 32],
        now: u64,
    ) -> Core {
        let mut core = Core::new(cfg, recording, seed, snap.epoch_unix_us);
        for row in &snap.workers {
            let entry = worker_entry(row, now).unwrap_or_else(|| {
                tracing::warn!(worker = row.id, "unreadable worker row: treated as offline");
                let mut e = worker_entry(
                    &WorkerRow {
                        registration: r#"{"memory_gb":1}"#.into(),
                        status: "offline".into(),
                        ..row.clone()
                    },
                    now,
                )
                .expect("a fixed registration reads");
                e.status = WorkerStatusView::Offline;
                e
            });
            let mut entry = entry;
            if let Some(bits) = core.label_bits(&entry.registration.labels) {
                entry.spec.backends = entry.spec.backends.union(bits);
            }
            if !core.shapes.contains(&entry.spec) {
                core.shapes.push(entry.spec.clone());
            }
            core.workers.push(entry);
        }
        for row in &snap.tests {
            let entry = core.test_entry(row);
            core.counts[entry.state as usize] += 1;
            core.tests.push(entry);
        }
        for run in &snap.runs {
            if let Some(t) = core.tests.get_mut(run.test as usize - 1) {
                t.runs.push(Run {
                    attempt: run.attempt,
                    worker: run.worker,
                    assigned_us: run.assigned_us,
                    started_us: run.started_us,
                    ended_us: run.ended_us,
                    outcome: run.outcome.as_deref().map(outcome_str),
                    run_time_s: run.run_time_s,
                    exit_code: run.exit_code,
                });
                if let Some(w) = core.workers.get_mut(run.worker as usize - 1) {
                    w.assignments += 1;
                }
            }
        }
        core.learn_from_runs(snap);
        core.place_live(now);
        core
    }

    /// Learned durations from the stored runs, oldest first.
    fn learn_from_runs(&mut self, snap: &Snapshot) {
        let mut done: Vec<(u64, u64, f64)> = snap
            .runs
            .iter()
            .filter(|r| r.outcome.as_deref() == Some("completed"))
            .filter_map(|r| Some((r.ended_us?, r.test, r.run_time_s?)))
            .collect();
        done.sort_by_key(|&(at, test, _)| (at, test));
        for (_, test, run_time_s) in done {
            let name = self
                .tests
                .get(test as usize - 1)
                .and_then(|t| t.request.name.clone());
            self.learn(name.as_deref(), run_time_s);
        }
    }

    fn test_entry(&mut self, row: &TestRow) -> TestEntry {
        let request: TestRequest = serde_json::from_str(&row.request).unwrap_or_else(|_| {
            tracing::warn!(test = row.id, "unreadable test request: using the defaults");
            TestRequest::default()
        });
        let spec = self
            .labelled_spec(&request)
            .unwrap_or_else(|(spec, _)| spec);
        let state = state_of(&row.state);
        let (lease, done_lease) = if state.is_final() {
            (None, row.lease.clone())
        } else {
            (row.lease.clone(), None)
        };
        TestEntry {
            request,
            spec,
            state,
            submitted_us: row.submitted_us,
            first_assigned_us: row.first_assigned_us,
            started_us: row.started_us,
            finished_us: row.finished_us,
            worker: row.worker,
            lease,
            attempts: row.attempts,
            losses: row.losses,
            run_time_s: row.run_time_s,
            result: row.result.clone(),
            reason: row.reason.clone(),
            exit_code: row.exit_code,
            log_tail: row.log_tail.clone(),
            runs: Vec::new(),
            assign_seq: 0,
            // A run that was going when the server stopped counts as handed
            // out long ago: the worker's first heartbeat squares it.
            handed_us: (state == TestState::Running).then_some(0),
            done_lease,
        }
    }

    /// Registers the live workers, places their leased runs, submits the
    /// waiting tests.
    fn place_live(&mut self, now: u64) {
        let t = SimTime(now);
        let mut placed_on_previous = None;
        for wi in 0..self.workers.len() {
            let id = wi as u64 + 1;
            if self.workers[wi].status == WorkerStatusView::Offline {
                continue;
            }
            if let Some(prev) = placed_on_previous {
                self.balancer.set_drift(prev, FULL);
            }
            let bw = self
                .balancer
                .register_worker(self.workers[wi].spec.clone(), t);
            self.by_balancer.push(id);
            self.workers[wi].balancer = Some(bw);
            placed_on_previous = Some(bw);
            let held: Vec<u64> = (0..self.tests.len())
                .filter(|&i| {
                    let s = &self.tests[i];
                    s.worker == Some(id)
                        && matches!(s.state, TestState::Assigned | TestState::Running)
                })
                .map(|i| i as u64 + 1)
                .collect();
            for test in held {
                self.place(test, bw, now);
            }
        }
        for wi in 0..self.workers.len() {
            if let Some(bw) = self.workers[wi].balancer {
                self.balancer.set_drift(bw, LoadDrift::default());
                if self.workers[wi].status == WorkerStatusView::Draining {
                    self.balancer.drain_worker(bw, t);
                    self.check_drained(bw, now);
                }
            }
        }
        for i in 0..self.tests.len() {
            if self.tests[i].state == TestState::Pending {
                let spec = self.tests[i].spec.clone();
                let _ = self.balancer.submit(TestId(i as u64 + 1), spec, t);
            }
        }
    }

    /// Puts a leased run back on its worker (the only one taking work).
    fn place(&mut self, test: u64, bw: crate::balancer::model::WorkerId, now: u64) {
        let spec = self.tests[test as usize - 1].spec.clone();
        let _ = self.balancer.submit(TestId(test), spec, SimTime(now));
        let mut out = Vec::new();
        self.balancer.schedule(SimTime(now), &mut out);
        if out.is_empty() {
            // Cannot happen while capacities are what they were (the other
            // workers are full, so the pass can only pick this one); if it
            // does, the test waits in the queue rather than being lost.
            tracing::warn!(test, "could not restore its lease: requeued");
            self.end_run(test, now, "requeued");
            return;
        }
        debug_assert!(out.len() == 1 && out[0].test == TestId(test) && out[0].worker == bw);
        let t = &self.tests[test as usize - 1];
        if t.state == TestState::Assigned {
            let worker = t.worker.unwrap_or(0);
            self.worker_mut(worker).inbox.push_back(test);
        }
    }
}
