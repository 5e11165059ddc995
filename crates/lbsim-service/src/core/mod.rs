//! The coordinator's state machine over the balancer core: ids, leases,
//! worker liveness and the store's ops. It is driven by calls that carry
//! `now` (µs since the store was created) and never reads a clock, never
//! awaits and never does I/O: each call leaves its changes in `out`, which
//! the caller takes (`Core::take_changes`, inside the crate) and acts on while still
//! holding the lock: it sends the batch to the writer and wakes the lease
//! calls the core names. The core holds no channel and no runtime type.

mod committed;
mod leases;
mod loads;
pub mod periodic;
mod plain;
mod restore;
mod submit;
pub mod views;
mod work;
mod workers;

use super::api::{
    ErrorBody, Heartbeat, TestRequest, TestState, WorkerRegistration, WorkerStatusView,
};
use super::store::{Op, Snapshot};
use crate::balancer::model::{TestSpec, WorkerId, WorkerSpec};
use crate::balancer::options::BalancerOptions;
use crate::balancer::policy::SchedulerName;
use crate::balancer::Balancer;
use crate::sim::{RngStreams, SimTime, Stream};
use crate::workload::trace::recording::Fact;
use indexmap::IndexMap;
use std::collections::VecDeque;

pub(crate) use committed::Committed;

/// A test lost with its worker this many times ends failed (the
/// reference's `max_requeue_attempts`).
pub(crate) const MAX_LOSSES: u32 = 5;

/// How the core is tuned.
#[derive(Clone, Debug, PartialEq)]
pub struct CoreConfig {
    pub scheduler: SchedulerName,
    pub balancing: BalancerOptions,
    /// A worker silent this long goes offline and its runs are requeued.
    pub(crate) heartbeat_timeout_us: u64,
    /// Seeds the policy's tie-breaks.
    pub seed: u64,
    /// The plain queue (`--disable-load-balancer`): no policy; a worker
    /// asking for work gets the first pending test that fits it.
    pub plain_queue: bool,
}

/// An error a call answers with: the HTTP status and one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    pub status: u16,
    pub message: String,
}

impl CallError {
    pub fn new(status: u16, message: impl Into<String>) -> CallError {
        CallError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: impl std::fmt::Display) -> CallError {
        CallError::new(404, format!("no {what}"))
    }

    pub(crate) fn conflict(message: impl Into<String>) -> CallError {
        CallError::new(409, message)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.message.clone(),
        }
    }
}

pub(crate) type CallResult<T> = Result<T, CallError>;

/// One run of a test.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub attempt: u32,
    pub worker: u64,
    pub(crate) assigned_us: u64,
    pub(crate) started_us: Option<u64>,
    pub(crate) ended_us: Option<u64>,
    pub outcome: Option<&'static str>,
    /// What its worker measured and reported.
    pub run_time_s: Option<f64>,
    pub exit_code: Option<i32>,
}

/// A test as the coordinator keeps it.
#[derive(Clone, Debug)]
pub(crate) struct TestEntry {
    pub(crate) request: TestRequest,
    pub(crate) spec: TestSpec,
    pub(crate) state: TestState,
    pub(crate) submitted_us: u64,
    pub(crate) first_assigned_us: Option<u64>,
    pub(crate) started_us: Option<u64>,
    pub(crate) finished_us: Option<u64>,
    pub(crate) worker: Option<u64>,
    /// The current lease, while assigned or running.
    pub(crate) lease: Option<String>,
    pub(crate) attempts: u32,
    pub(crate) losses: u32,
    pub(crate) run_time_s: Option<f64>,
    /// The worker's result, as JSON text.
    pub(crate) result: Option<String>,
    pub(crate) reason: Option<String>,
    /// The last reported run's exit code and log tail.
    pub(crate) exit_code: Option<i32>,
    pub(crate) log_tail: Option<String>,
    pub(crate) runs: Vec<Run>,
    /// The batch that recorded the current assignment: a lease is handed
    /// out only once it is committed.
    pub(crate) assign_seq: u64,
    /// When the current lease was handed to its worker (µs), if it was:
    /// a heartbeat that does not list it can only drop it after that.
    pub(crate) handed_us: Option<u64>,
    /// The lease whose report finished the test: a retried report of it
    /// gets the same answer rather than a conflict.
    pub(crate) done_lease: Option<String>,
}

/// A worker as the coordinator keeps it.
#[derive(Debug)]
pub struct WorkerEntry {
    pub registration: WorkerRegistration,
    pub spec: WorkerSpec,
    /// Its index in the balancer, while it is not offline.
    pub balancer: Option<WorkerId>,
    pub status: WorkerStatusView,
    pub(crate) last_heartbeat_us: u64,
    pub heartbeats: u64,
    pub load: Heartbeat,
    /// Tests assigned here and not yet handed out by a lease call.
    pub(crate) inbox: VecDeque<u64>,
    /// Leases it may still be running that are no longer current.
    pub cancel: Vec<String>,
    pub(crate) joined_us: u64,
    pub(crate) left_us: Option<u64>,
    pub reason: Option<String>,
    pub assignments: u64,
    /// Listed in `Core::idle` (plain queue only).
    pub idle: bool,
}

/// Totals since the server started, for `/metrics` and `/v1/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub submitted: u64,
    pub assigned: u64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
    pub lost: u64,
    pub worker_timeouts: u64,
}

/// What a call changed, waiting to be committed.
#[derive(Default)]
struct Pending {
    ops: Vec<Op>,
    facts: Vec<String>,
    /// Workers whose long-polling lease call should look again.
    wake: Vec<u64>,
}

/// One call's changes, as the core hands them to the service: the batch
/// to save (the service sends it to the writer and awaits it) and the
/// lease calls to wake (the service notifies them). Values, so the core
/// never holds a channel or knows the runtime.
#[derive(Debug, Default)]
pub struct Changes {
    /// The batch to save, with its sequence number; `None` when nothing
    /// changed.
    pub batch: Option<(u64, Vec<Op>, Vec<String>)>,
    /// Workers whose long-polling lease call should look again.
    pub(crate) wake: Vec<u64>,
}

/// The coordinator's state.
pub struct Core {
    balancer: Balancer,
    cfg: CoreConfig,
    /// Test `id` is at `tests[id - 1]`.
    tests: Vec<TestEntry>,
    /// Worker `id` is at `workers[id - 1]`.
    workers: Vec<WorkerEntry>,
    /// The service id of each balancer worker index.
    by_balancer: Vec<u64>,
    /// Draws the secret part of lease ids (a CSPRNG seeded from the OS).
    lease_rng: rand_chacha::ChaCha20Rng,
    /// Unix time (µs) of the store's time zero, for `expires_at`.
    epoch_unix_us: u64,
    keys: IndexMap<String, u32>,
    families: IndexMap<String, u32>,
    /// Labels of tests and workers, in the order first seen: label `i` is
    /// the balancer's bit `Backends::label(i)`.
    labels: indexmap::IndexSet<String>,
    /// The last successful run times per test name (learned durations).
    durations: IndexMap<String, VecDeque<f64>>,
    /// Every worker shape that ever registered: a test none of them could
    /// hold is rejected.
    shapes: Vec<WorkerSpec>,
    counts: [u64; TestState::ALL.len()],
    pub totals: Totals,
    /// Sequence number of the last batch handed to the writer.
    seq: u64,
    out: Pending,
    /// First-assignment latencies (µs) with their time, for the last minute.
    recent: VecDeque<(u64, u64)>,
    recent_completions: VecDeque<u64>,
    /// First-assignment latencies (s) not yet read by `/metrics` (bounded).
    new_latencies: Vec<f64>,
    recording: bool,
    /// Plain queue: workers whose last lease call found nothing, oldest
    /// first; a new pending test wakes one of them rather than all.
    idle: VecDeque<u64>,
    /// Lost workers whose runs are still being requeued, a bounded
    /// number per call (`work_losses`).
    losing: VecDeque<Loss>,
    /// The last pass stopped at `SCHEDULE_STEP` assignments with more to
    /// place.
    scheduling_left: bool,
    /// Counts the rollbacks: batches of an older generation were never
    /// saved.
    generation: u64,
    /// The totals after each batch not yet known to be committed, and the
    /// totals as of the last committed one: a rollback keeps those.
    batch_totals: VecDeque<(u64, Totals)>,
    committed_totals: Totals,
}

/// A lost worker whose runs go back to pending in bounded steps.
#[derive(Clone, Debug)]
struct Loss {
    worker: u64,
    reason: String,
    outcome: &'static str,
}

/// At most this many latencies wait for a `/metrics` scrape.
const MAX_UNREAD_LATENCIES: usize = 100_000;

/// Assignments per scheduling pass in the coordinator: one lock hold and
/// one commit stay short however many tests a new worker could take (a
/// registration once placed 100,000 in one 1.1 s pass); the expiry timer
/// runs the next pass at once after the commit.
const SCHEDULE_STEP: usize = 1_000;

impl Core {
    /// An empty coordinator. `lease_seed` must come from the OS's CSPRNG
    /// (lease ids are credentials); `epoch_unix_us` is the store's time zero.
    pub fn new(cfg: CoreConfig, recording: bool, lease_seed: [u8; 32], epoch_unix_us: u64) -> Core {
        let streams = RngStreams::new(cfg.seed);
        let mut balancer = Balancer::with_options(
            cfg.scheduler,
            &cfg.balancing,
            streams.stream(Stream::Policy),
        );
        balancer.declare_possible_worker(&WorkerSpec::universal());
        Core {
            balancer,
            cfg,
            tests: Vec::new(),
            workers: Vec::new(),
            by_balancer: Vec::new(),
            lease_rng: rand_core::SeedableRng::from_seed(lease_seed),
            epoch_unix_us,
            keys: IndexMap::new(),
            families: IndexMap::new(),
            labels: indexmap::IndexSet::new(),
            durations: IndexMap::new(),
            shapes: Vec::new(),
            counts: [0; TestState::ALL.len()],
            totals: Totals::default(),
            seq: 0,
            out: Pending::default(),
            recent: VecDeque::new(),
            recent_completions: VecDeque::new(),
            new_latencies: Vec::new(),
            recording,
            idle: VecDeque::new(),
            losing: VecDeque::new(),
            scheduling_left: false,
            generation: 0,
            batch_totals: VecDeque::new(),
            committed_totals: Totals::default(),
        }
    }

    pub fn config(&self) -> &CoreConfig {
        &self.cfg
    }

    pub fn scheduler(&self) -> SchedulerName {
        self.cfg.scheduler
    }

    /// What assigns tests, as `/v1/status` and recordings name it.
    pub(crate) fn scheduler_label(&self) -> &'static str {
        if self.cfg.plain_queue {
            "plain_queue"
        } else {
            self.cfg.scheduler.as_str()
        }
    }

    /// Takes this call's changes (in order: the caller sends the batch to
    /// the writer before releasing the lock), given what the writer has
    /// saved so far.
    pub(crate) fn take_changes(&mut self, committed: Committed) -> Changes {
        self.note_committed(committed);
        let wake = std::mem::take(&mut self.out.wake);
        if self.out.ops.is_empty() && self.out.facts.is_empty() {
            return Changes { batch: None, wake };
        }
        self.seq += 1;
        self.batch_totals.push_back((self.seq, self.totals));
        let p = std::mem::take(&mut self.out);
        Changes {
            batch: Some((self.seq, p.ops, p.facts)),
            wake,
        }
    }

    /// Forgets the totals of batches the store has saved, keeping the last.
    fn note_committed(&mut self, c: Committed) {
        if c.generation != self.generation {
            return;
        }
        while let Some(&(seq, totals)) = self.batch_totals.front() {
            if seq > c.seq {
                break;
            }
            self.committed_totals = totals;
            self.batch_totals.pop_front();
        }
    }

    /// This core's generation: it grows with every rollback.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The core the store describes after a failed commit: it takes over
    /// this core's totals as of the last saved batch (`before`, read while
    /// the writer refused everything after it) and the writer's new
    /// generation.
    pub(crate) fn rolled_back(
        &mut self,
        before: Committed,
        snap: &Snapshot,
        lease_seed: [u8; 32],
        now: u64,
        generation: u64,
    ) -> Core {
        self.note_committed(before);
        let mut core = Core::restore(self.cfg.clone(), snap, self.recording, lease_seed, now);
        core.totals = self.committed_totals;
        core.committed_totals = self.committed_totals;
        core.generation = generation;
        for (new, old) in core.workers.iter_mut().zip(&self.workers) {
            // Liveness is not stored: keep what the heartbeats said.
            new.last_heartbeat_us = old.last_heartbeat_us;
            new.heartbeats = old.heartbeats;
        }
        core
    }

    /// The sequence number the batch being built will get.
    fn next_seq(&self) -> u64 {
        self.seq + 1
    }

    pub(crate) fn last_seq(&self) -> u64 {
        self.seq
    }

    fn fact(&mut self, now: u64, fact: Fact) {
        if self.recording {
            self.out.facts.push(fact.line(now));
        }
    }

    /// The `session` fact a recording starts with at each server start.
    pub(crate) fn record_session(&mut self, now: u64, version: u32) {
        let fact = Fact::Session {
            lbsim_recording: version,
            scheduler: self.scheduler_label().to_string(),
        };
        self.fact(now, fact);
    }

    fn test(&self, id: u64) -> Option<&TestEntry> {
        usize::try_from(id)
            .ok()?
            .checked_sub(1)
            .and_then(|i| self.tests.get(i))
    }

    fn test_mut(&mut self, id: u64) -> &mut TestEntry {
        &mut self.tests[id as usize - 1]
    }

    fn worker(&self, id: u64) -> Option<&WorkerEntry> {
        usize::try_from(id)
            .ok()?
            .checked_sub(1)
            .and_then(|i| self.workers.get(i))
    }

    fn worker_mut(&mut self, id: u64) -> &mut WorkerEntry {
        &mut self.workers[id as usize - 1]
    }

    /// Moves a test to a new state, keeping the per-state counts.
    fn set_state(&mut self, id: u64, state: TestState) {
        let old = self.test_mut(id).state;
        self.counts[old as usize] -= 1;
        self.counts[state as usize] += 1;
        self.test_mut(id).state = state;
    }

    /// Latencies (s) of first assignments since the last call.
    pub(crate) fn take_latencies(&mut self) -> Vec<f64> {
        std::mem::take(&mut self.new_latencies)
    }

    fn note_latency(&mut self, us: u64) {
        if self.new_latencies.len() < MAX_UNREAD_LATENCIES {
            self.new_latencies.push(us as f64 / 1e6);
        }
    }

    /// Workers (active, draining, offline).
    pub(crate) fn worker_counts(&self) -> (u64, u64, u64) {
        let mut c = (0, 0, 0);
        for w in &self.workers {
            match w.status {
                WorkerStatusView::Active => c.0 += 1,
                WorkerStatusView::Draining => c.1 += 1,
                WorkerStatusView::Offline => c.2 += 1,
            }
        }
        c
    }

    /// Tests per state, in `TestState::ALL` order.
    pub fn counts(&self) -> [u64; TestState::ALL.len()] {
        self.counts
    }

    /// One scheduling pass; its assignments become leases. The plain
    /// queue has no pass: it wakes as many idle workers as tests wait, and
    /// each takes what fits it when it asks (`next_lease`).
    pub fn schedule(&mut self, now: u64) {
        if self.cfg.plain_queue {
            self.wake_idle();
            return;
        }
        let mut out = Vec::new();
        self.scheduling_left =
            self.balancer
                .schedule_at_most(SimTime(now), &mut out, SCHEDULE_STEP);
        for a in out {
            self.assigned(a.test.0, a.worker, now);
        }
    }

    /// True while a bounded pass left tests it could still place: the
    /// expiry timer runs the next one after the lock is released.
    pub fn scheduling_left(&self) -> bool {
        self.scheduling_left
    }
}

#[cfg(test)]
mod tests;
