//! The balancer core: workers, the pending queue, assignments and the
//! scheduling pass. It never reads a clock (every call takes `now`), never
//! does I/O and draws randomness only from the stream it was handed, so the
//! simulator and a real coordinator can drive the same code.

#[doc(hidden)]
pub mod decision_bench;
pub mod index;
mod invariants;
mod keys;
pub mod leaf;
mod load_sum;
mod memory_order;
pub mod model;
pub mod options;
mod pass;
mod pending;
pub mod policy;
mod pull;
mod record;
mod stealing;
pub mod tally;
mod withdraw;
mod worker;

use crate::sim::{IdMap, SimDuration, SimRng, SimTime};
use index::FitTree;
use keys::KeyLocks;
use load_sum::LoadSum;
use model::{LoadDrift, Outcome, TestId, TestSpec, Thermal, WorkerId, WorkerSpec, WorkerStatus};
use options::BalancerOptions;
use pass::PassBuffers;
use pending::{ClassId, PendingQueues};
use policy::{Finished, Policy, Request, SchedulerName};

pub use record::{Assignment, Carried, TestRecord};
pub use stealing::Moved;
pub(crate) use worker::performance_level_in;
pub use worker::{Usage, WorkerState};

/// Where a live test is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Pending {
        class: ClassId,
        marker: u64,
    },
    Running {
        worker: WorkerId,
        epoch: u32,
    },
    /// Waiting for its concurrency key (not in the pending queue).
    Parked,
}

/// A test that is not final yet.
#[derive(Clone, Debug)]
pub struct LiveTest {
    /// What it needs and expects.
    pub spec: TestSpec,
    /// Submission order (the test id's number).
    order: u64,
    /// When it was submitted.
    pub submitted_at: SimTime,
    pub(crate) first_assigned_at: Option<SimTime>,
    /// When its current run started (`None` while it is not running).
    pub started_at: Option<SimTime>,
    pending_since: SimTime,
    /// Time spent pending in earlier stints (before requeues).
    waited: SimDuration,
    /// Failed attempts in earlier stints, plus successful ones.
    attempts: u32,
    /// Times it went back to pending (worker lost, or a retry).
    pub requeues: u32,
    place: Place,
    /// Pace (speed × performance level) of the worker at the start of the
    /// current run, for work stealing's estimates.
    start_pace: f64,
    /// Incremented on every assignment, so a stale completion (from before a
    /// worker failure) can be recognised.
    epoch: u32,
    /// The driver's own data for this test (see [`Carried`]).
    pub carried: Carried,
}

/// Memory and CUDA offered and in use over the workers not yet offline,
/// kept up to date so charts can sample them without a pass over the pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolTotals {
    /// Memory offered, MiB.
    pub memory_mib: u64,
    /// Memory booked by running tests, MiB.
    pub memory_used_mib: u64,
    /// CUDA devices offered.
    pub cuda: u64,
    /// CUDA devices booked by running tests.
    pub cuda_used: u64,
}

/// Counters the metrics layer reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BalancerCounters {
    /// Scheduling passes run.
    pub passes: u64,
    /// Assignments made.
    pub decisions: u64,
    /// Runs sent back to pending: retries and runs on lost workers.
    pub requeued: u64,
    /// Runs moved by work stealing or rebalancing.
    pub moved: u64,
}

/// The balancer state machine.
pub struct Balancer {
    workers: Vec<WorkerState>,
    index: FitTree,
    /// The active workers' effective loads, summed (for policies whose
    /// needs ask for the system load).
    loads: LoadSum,
    /// Whether `loads` is kept: only a policy that declares `system_load`
    /// reads it, and keeping the sum costs a fixed-point conversion on
    /// every refresh.
    track_load: bool,
    pending: PendingQueues,
    live: IdMap<LiveTest>,
    scheduler: SchedulerName,
    policy: Box<dyn Policy>,
    rng: SimRng,
    /// Worker shapes that exist or may join; a test no shape can hold is rejected.
    possible: Vec<WorkerSpec>,
    /// Workers whose capacity may have grown since the last pass.
    dirty: Vec<WorkerId>,
    is_dirty: Vec<bool>,
    counters: BalancerCounters,
    pass_buffers: PassBuffers,
    running: usize,
    /// Workers with status Active (kept, not counted: dashboards and the
    /// metrics read it after every pass).
    active: usize,
    pool: PoolTotals,
    keys: KeyLocks,
    options: BalancerOptions,
    /// Pending tests longest expected run first (the policy's needs say).
    longest_first: bool,
}

impl Balancer {
    /// A balancer with no workers. `rng` is the policy's tie-break stream.
    pub fn new(scheduler: SchedulerName, rng: SimRng) -> Self {
        Balancer::with_options(scheduler, &BalancerOptions::default(), rng)
    }

    /// A balancer with no workers, tuned by `options`.
    pub fn with_options(scheduler: SchedulerName, options: &BalancerOptions, rng: SimRng) -> Self {
        let index = policy::index_for(scheduler, &options.composite_weights);
        Balancer {
            workers: Vec::new(),
            index,
            loads: LoadSum::default(),
            track_load: policy::needs_system_load(scheduler, &options.composite_weights),
            pending: PendingQueues::default(),
            live: IdMap::default(),
            scheduler,
            policy: scheduler.build_with(&options.composite_weights),
            rng,
            possible: Vec::new(),
            dirty: Vec::new(),
            is_dirty: Vec::new(),
            counters: BalancerCounters::default(),
            pass_buffers: PassBuffers::default(),
            running: 0,
            active: 0,
            pool: PoolTotals::default(),
            keys: KeyLocks::default(),
            options: options.clone(),
            longest_first: scheduler.info().needs.longest_first,
        }
    }

    /// The policy this balancer runs.
    pub fn scheduler(&self) -> SchedulerName {
        self.scheduler
    }

    /// Declares a worker shape that may join later (so tests needing it are
    /// not rejected while no such worker is registered yet).
    pub fn declare_possible_worker(&mut self, spec: &WorkerSpec) {
        if !self.possible.iter().any(|p| p == spec) {
            self.possible.push(spec.clone());
        }
    }

    /// Adds a worker that takes work from now on; returns its id (ids count
    /// up from 0 in join order).
    pub fn register_worker(&mut self, spec: WorkerSpec, now: SimTime) -> WorkerId {
        let id = WorkerId(self.workers.len() as u32);
        self.declare_possible_worker(&spec);
        self.pool.memory_mib += spec.memory_mib;
        self.pool.cuda += u64::from(spec.cuda_devices);
        self.workers.push(WorkerState::new(id, spec, now));
        self.active += 1;
        self.is_dirty.push(false);
        self.refresh(id, true);
        id
    }

    /// Graceful leave: takes nothing new, finishes what it runs. Returns true
    /// if it went offline at once (it was idle).
    pub fn drain_worker(&mut self, id: WorkerId, now: SimTime) -> bool {
        let w = &mut self.workers[id.0 as usize];
        if w.status != WorkerStatus::Active {
            return false;
        }
        w.status = WorkerStatus::Draining;
        self.active -= 1;
        if w.running.is_empty() {
            w.status = WorkerStatus::Offline;
            w.left_at = Some(now);
            self.pool.memory_mib -= w.spec.memory_mib;
            self.pool.cuda -= u64::from(w.spec.cuda_devices);
        }
        let gone = w.status == WorkerStatus::Offline;
        self.refresh(id, false);
        gone
    }

    /// Crash: the worker is gone and every test it ran goes back to pending,
    /// keeping its submission order and its attempts. Returns those tests.
    pub fn fail_worker(&mut self, id: WorkerId, now: SimTime) -> Vec<TestId> {
        let w = &mut self.workers[id.0 as usize];
        if w.status == WorkerStatus::Offline {
            return Vec::new();
        }
        if w.status == WorkerStatus::Active {
            self.active -= 1;
        }
        w.status = WorkerStatus::Offline;
        w.left_at = Some(now);
        self.pool.memory_mib -= w.spec.memory_mib;
        self.pool.cuda -= u64::from(w.spec.cuda_devices);
        self.pool.memory_used_mib -= w.used_memory_mib;
        self.pool.cuda_used -= u64::from(w.used_cuda);
        w.used_memory_mib = 0;
        w.used_cuda = 0;
        w.used_cores = 0;
        w.usage.close_busy(now);
        let requeued = std::mem::take(&mut w.running);
        for &test in &requeued {
            self.running -= 1;
            self.counters.requeued += 1;
            let t = self.live.get_mut(test.0).expect("running test is live");
            t.requeues += 1;
            let run = now - t.started_at.unwrap_or(now);
            self.workers[id.0 as usize]
                .usage
                .add_run(&t.spec.shape(), run.0);
            self.enqueue(test, now);
        }
        self.refresh(id, false);
        requeued
    }

    /// Sets the load a worker has beyond its runs (ignored once it is
    /// offline); its index keys follow.
    pub fn set_drift(&mut self, id: WorkerId, drift: LoadDrift) {
        let w = &mut self.workers[id.0 as usize];
        if w.status == WorkerStatus::Offline {
            return;
        }
        w.drift = drift;
        self.refresh(id, true);
    }

    /// Sets a worker's thermal phase (ignored once it is offline); its index
    /// keys follow.
    pub fn set_thermal(&mut self, id: WorkerId, thermal: Thermal) {
        let w = &mut self.workers[id.0 as usize];
        if w.status == WorkerStatus::Offline {
            return;
        }
        w.thermal = thermal;
        self.refresh(id, true);
    }

    /// A worker's report: its drift and thermal phase at once, one index
    /// update for both.
    pub fn set_condition(&mut self, id: WorkerId, drift: LoadDrift, thermal: Thermal) {
        let w = &mut self.workers[id.0 as usize];
        if w.status == WorkerStatus::Offline {
            return;
        }
        w.drift = drift;
        w.thermal = thermal;
        self.refresh(id, true);
    }

    /// Accepts a test, or rejects it at once (as a final record) when no
    /// worker that exists or may join could ever hold it.
    pub fn submit(
        &mut self,
        id: TestId,
        spec: TestSpec,
        now: SimTime,
    ) -> Result<(), Box<TestRecord>> {
        self.submit_carrying(id, spec, Carried::default(), now)
    }

    /// [`Balancer::submit`], keeping `carried` with the test while it is
    /// live (see [`Balancer::test_mut_carried`]).
    pub(crate) fn submit_carrying(
        &mut self,
        id: TestId,
        spec: TestSpec,
        carried: Carried,
        now: SimTime,
    ) -> Result<(), Box<TestRecord>> {
        let shape = spec.shape();
        if !self.possible.iter().any(|p| shape.fits_spec(p)) {
            let reason = "no worker could ever hold it";
            return Err(Box::new(TestRecord::rejected(id, &spec, now, reason)));
        }
        let live = LiveTest {
            order: policy::queue_order(id, &spec, self.longest_first),
            spec,
            submitted_at: now,
            first_assigned_at: None,
            started_at: None,
            pending_since: now,
            waited: SimDuration::ZERO,
            attempts: 0,
            requeues: 0,
            place: Place::Pending {
                class: 0,
                marker: 0,
            },
            start_pace: 1.0,
            epoch: 0,
            carried,
        };
        self.live.insert(id.0, live);
        self.enqueue(id, now);
        Ok(())
    }

    fn enqueue(&mut self, test: TestId, now: SimTime) {
        let t = self.live.get_mut(test.0).expect("enqueued test is live");
        t.pending_since = now;
        if let Some(key) = t.spec.concurrency_key {
            if !self.keys.admit(key, test, t.spec.priority, t.order) {
                t.place = Place::Parked;
                return;
            }
        }
        self.push_pending(test);
    }

    /// Puts a test that may run into the pending queue.
    fn push_pending(&mut self, test: TestId) {
        let t = self.live.get_mut(test.0).expect("pending test is live");
        let (class, marker) = self
            .pending
            .push(t.spec.priority, t.spec.shape(), t.order, test);
        t.place = Place::Pending { class, marker };
    }

    fn assign(
        &mut self,
        class: ClassId,
        test: TestId,
        choice: policy::Choice,
        now: SimTime,
    ) -> Assignment {
        self.pending.pop_head(class);
        let failed_passes = self.pending.failed_passes(class);
        let t = self.live.get_mut(test.0).expect("assigned test is live");
        let Place::Pending { marker, .. } = t.place else {
            unreachable!("assigned test was pending")
        };
        t.attempts += (failed_passes - marker) as u32 + 1;
        t.epoch += 1;
        t.place = Place::Running {
            worker: choice.worker,
            epoch: t.epoch,
        };
        t.first_assigned_at.get_or_insert(now);
        t.started_at = Some(now);
        let w = &self.workers[choice.worker.0 as usize];
        t.start_pace = w.spec.speed * w.performance_level();
        t.waited = SimDuration(t.waited.0 + (now - t.pending_since).0);
        let shape = t.spec.shape();
        let w = &mut self.workers[choice.worker.0 as usize];
        w.start(test, &shape, now);
        w.assignments += 1;
        self.pool.memory_used_mib += shape.memory_mib;
        self.pool.cuda_used += u64::from(shape.cuda_devices);
        self.running += 1;
        let assignment = Assignment {
            time: now,
            test,
            worker: choice.worker,
            score: choice.score,
            candidates: choice.candidates,
            attempt: t.attempts,
            epoch: t.epoch,
        };
        let req = Request {
            test,
            spec: &t.spec,
            shape,
        };
        self.policy.on_assigned(&req, choice.worker);
        self.refresh(choice.worker, false);
        assignment
    }

    /// True if `test` is running under assignment `epoch` (a completion
    /// scheduled before a requeue is stale and must be ignored).
    pub(crate) fn is_current(&self, test: TestId, epoch: u32) -> bool {
        self.live
            .get(test.0)
            .is_some_and(|t| matches!(t.place, Place::Running { epoch: e, .. } if e == epoch))
    }

    /// Stops a running test, frees its resources and records the run in the
    /// worker's history. Returns the worker and the run time.
    fn release(&mut self, test: TestId, now: SimTime, success: bool) -> (WorkerId, SimDuration) {
        let t = &self.live[test.0];
        let Place::Running { worker, .. } = t.place else {
            panic!("released test {test} is not running")
        };
        let run = now - t.started_at.unwrap_or(now);
        let expected = t.spec.expected_duration.0.max(1) as f64;
        let shape = t.spec.shape();
        let latency_s = (t.first_assigned_at.unwrap_or(now) - t.submitted_at).as_secs_f64();
        let w = &mut self.workers[worker.0 as usize];
        w.stop(test, &shape, run.0, now);
        self.pool.memory_used_mib -= shape.memory_mib;
        self.pool.cuda_used -= u64::from(shape.cuda_devices);
        w.history.record(success, run.0 as f64 / expected);
        if w.status == WorkerStatus::Draining && w.running.is_empty() {
            w.status = WorkerStatus::Offline;
            w.left_at = Some(now);
            self.pool.memory_mib -= w.spec.memory_mib;
            self.pool.cuda -= u64::from(w.spec.cuda_devices);
        }
        self.running -= 1;
        self.policy.on_finished(&Finished {
            test,
            spec: &t.spec,
            worker,
            success,
            latency_s,
        });
        self.refresh(worker, true);
        (worker, run)
    }

    /// A running test ended: it is final now.
    pub fn finish(&mut self, test: TestId, now: SimTime, success: bool) -> TestRecord {
        let (worker, _) = self.release(test, now, success);
        let t = self.live.remove(test.0).expect("finished test is live");
        if let Some(next) = t
            .spec
            .concurrency_key
            .and_then(|key| self.keys.release(key, test))
        {
            self.push_pending(next);
        }
        let outcome = if success {
            Outcome::Completed
        } else {
            Outcome::Failed
        };
        TestRecord::from_live(test, &t, Some(worker), now, outcome)
    }

    /// A running test failed but will be tried again: it goes back to pending.
    pub fn retry(&mut self, test: TestId, now: SimTime) {
        self.release(test, now, false);
        self.live
            .get_mut(test.0)
            .expect("retried test is live")
            .requeues += 1;
        self.counters.requeued += 1;
        self.enqueue(test, now);
    }

    /// Ends the run: every test still live becomes a final record (pending or
    /// running), in submission order.
    pub(crate) fn finalize_remaining(&mut self, now: SimTime) -> Vec<TestRecord> {
        for (_, t) in self.live.iter() {
            if let Place::Running { worker, .. } = t.place {
                let run = now - t.started_at.unwrap_or(now);
                self.workers[worker.0 as usize]
                    .usage
                    .add_run(&t.spec.shape(), run.0);
            }
        }
        for w in &mut self.workers {
            w.usage.close_busy(now);
        }
        let live: Vec<(TestId, LiveTest)> = self
            .live
            .drain_in_order()
            .into_iter()
            .map(|(id, t)| (TestId(id), t))
            .collect();
        live.into_iter()
            .map(|(id, t)| match t.place {
                Place::Pending { .. } | Place::Parked => {
                    TestRecord::from_live(id, &t, None, now, Outcome::Pending)
                }
                Place::Running { worker, .. } => {
                    TestRecord::from_live(id, &t, Some(worker), now, Outcome::Running)
                }
            })
            .collect()
    }

    /// Recomputes a worker's index entry; `grew` marks capacity that may have
    /// appeared, so blocked classes are reconsidered.
    fn refresh(&mut self, id: WorkerId, grew: bool) {
        let w = &self.workers[id.0 as usize];
        let effective = w.effective_load();
        let leaf = w.leaf_at(effective);
        let active = w.status == WorkerStatus::Active;
        if self.track_load {
            self.loads.set(id, active.then_some(effective));
        }
        let accepting = leaf.is_some();
        self.index.set(id, leaf);
        if grew && accepting && !self.is_dirty[id.0 as usize] {
            self.is_dirty[id.0 as usize] = true;
            self.dirty.push(id);
        }
    }

    /// Batches index updates until `flush_index` (for pool cycles, which
    /// touch many workers at once). No scheduling pass may run in between.
    pub(crate) fn defer_index(&mut self) {
        self.index.defer();
    }

    pub(crate) fn flush_index(&mut self) {
        self.index.flush();
    }

    /// Memory and CUDA offered and used by the workers not offline.
    pub fn pool_totals(&self) -> PoolTotals {
        self.pool
    }

    /// Every worker ever registered, in id order (offline ones included).
    pub fn workers(&self) -> &[WorkerState] {
        &self.workers
    }

    /// One worker by id (it panics on an id this balancer never gave).
    pub fn worker(&self, id: WorkerId) -> &WorkerState {
        &self.workers[id.0 as usize]
    }

    /// A test that is not final yet (`None` once it is, or if unknown).
    pub fn test(&self, id: TestId) -> Option<&LiveTest> {
        self.live.get(id.0)
    }

    /// A live test's spec and the driver's data kept with it, the latter
    /// to change (one lookup for both).
    pub(crate) fn test_mut_carried(&mut self, id: TestId) -> Option<(&TestSpec, &mut Carried)> {
        self.live.get_mut(id.0).map(|t| (&t.spec, &mut t.carried))
    }

    /// Tests waiting: in the pending queue or parked behind a concurrency key.
    pub fn pending_len(&self) -> usize {
        self.pending.len() + self.keys.parked()
    }

    /// Tests running now.
    pub fn running_len(&self) -> usize {
        self.running
    }

    /// Tests not final yet: pending, parked or running.
    pub fn live_len(&self) -> usize {
        self.live.len()
    }

    /// Pending tests in scheduling order (for dashboards and tests; O(n log n)).
    pub fn pending_in_order(&self) -> Vec<TestId> {
        self.pending.in_order()
    }

    /// The counters so far.
    pub fn counters(&self) -> BalancerCounters {
        self.counters
    }

    /// Workers currently taking work.
    pub fn active_workers(&self) -> usize {
        self.active
    }
}

#[cfg(test)]
mod tests;
