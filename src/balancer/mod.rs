//! The balancer core: workers, the pending queue, assignments and the
//! scheduling pass. It never reads a clock (every call takes `now`), never
//! does I/O and draws randomness only from the stream it was handed, so the
//! simulator and a real coordinator can drive the same code.

pub mod index;
mod invariants;
mod keys;
pub mod model;
pub mod options;
mod pending;
pub mod policy;
mod record;
mod stealing;
mod worker;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::sim::{IdMap, SimDuration, SimRng, SimTime};
use index::FitTree;
use keys::KeyLocks;
use model::{
    LoadDrift, Outcome, Shape, TestId, TestSpec, Thermal, WorkerId, WorkerSpec, WorkerStatus,
};
use options::BalancerOptions;
use pending::{ClassId, PendingQueues};
use policy::{ClusterView, Finished, Policy, Request, SchedulerName};

pub use record::{Assignment, TestRecord};
pub use stealing::Moved;
pub use worker::{History, Usage, WorkerState, CAPACITY_GATE};

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
    pub spec: TestSpec,
    /// Submission order (the test id's number).
    order: u64,
    pub submitted_at: SimTime,
    pub first_assigned_at: Option<SimTime>,
    pub started_at: Option<SimTime>,
    pending_since: SimTime,
    /// Time spent pending in earlier stints (before requeues).
    waited: SimDuration,
    /// Failed attempts in earlier stints, plus successful ones.
    attempts: u32,
    pub requeues: u32,
    place: Place,
    /// Pace (speed × performance level) of the worker at the start of the
    /// current run, for work stealing's estimates.
    start_pace: f64,
    /// Incremented on every assignment, so a stale completion (from before a
    /// worker failure) can be recognised.
    epoch: u32,
}

/// A class head's place in a pass, `(priority, submission order, class)`
/// packed into one integer so the pass's heap compares in one step. Orders
/// are test numbers (below 2^64) and classes are few (below 2^32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct HeadKey(u128);

impl HeadKey {
    fn new(priority: u8, order: u64, class: ClassId) -> Self {
        debug_assert!(class < 1 << 32);
        HeadKey((u128::from(priority) << 96) | (u128::from(order) << 32) | class as u128)
    }

    fn class(self) -> ClassId {
        (self.0 & 0xffff_ffff) as ClassId
    }
}

/// The heads of the classes a pass revived, taken smallest first. A grown
/// worker revives every blocked class it could hold, and usually only the
/// first one or two are taken before it is full again, so a few are found by
/// a scan rather than sorted up front.
struct RevivedHeads {
    keys: Vec<HeadKey>,
    /// Sorted descending (taken from the end), once there are many.
    sorted: bool,
}

impl RevivedHeads {
    const SCAN_AT_MOST: usize = 16;

    fn prepare(&mut self) {
        if self.keys.len() > Self::SCAN_AT_MOST {
            self.keys.sort_unstable_by(|a, b| b.cmp(a));
            self.sorted = true;
        }
    }

    fn take_min(&mut self) -> Option<HeadKey> {
        if self.sorted {
            return self.keys.pop();
        }
        let (at, _) = self.keys.iter().enumerate().min_by_key(|&(_, k)| *k)?;
        Some(self.keys.swap_remove(at))
    }
}

/// Memory and CUDA offered and in use over the workers not yet offline,
/// kept up to date so charts can sample them without a pass over the pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolTotals {
    pub memory_mib: u64,
    pub memory_used_mib: u64,
    pub cuda: u64,
    pub cuda_used: u64,
}

/// Counters the metrics layer reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BalancerCounters {
    pub passes: u64,
    pub decisions: u64,
    pub requeued: u64,
    /// Runs moved by work stealing or rebalancing.
    pub moved: u64,
}

/// The balancer state machine.
pub struct Balancer {
    workers: Vec<WorkerState>,
    index: FitTree,
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
    /// Scratch space of a pass, kept to avoid an allocation per pass.
    heads: BinaryHeap<Reverse<HeadKey>>,
    candidates: Vec<ClassId>,
    revived: Vec<bool>,
    revived_heads: Vec<HeadKey>,
    running: usize,
    /// Workers with status Active (kept, not counted: dashboards and the
    /// metrics read it after every pass).
    active: usize,
    pool: PoolTotals,
    keys: KeyLocks,
    options: BalancerOptions,
}

impl Balancer {
    /// A balancer with no workers. `rng` is the policy's tie-break stream.
    pub fn new(scheduler: SchedulerName, rng: SimRng) -> Self {
        Balancer::with_options(scheduler, &BalancerOptions::default(), rng)
    }

    /// A balancer with no workers, tuned by `options`.
    pub fn with_options(scheduler: SchedulerName, options: &BalancerOptions, rng: SimRng) -> Self {
        Balancer {
            workers: Vec::new(),
            index: FitTree::new(),
            pending: PendingQueues::default(),
            live: IdMap::default(),
            scheduler,
            policy: scheduler.build_with(&options.composite_weights),
            rng,
            possible: Vec::new(),
            dirty: Vec::new(),
            is_dirty: Vec::new(),
            counters: BalancerCounters::default(),
            heads: BinaryHeap::new(),
            candidates: Vec::new(),
            revived: Vec::new(),
            revived_heads: Vec::new(),
            running: 0,
            active: 0,
            pool: PoolTotals::default(),
            keys: KeyLocks::default(),
            options: options.clone(),
        }
    }

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

    pub fn set_drift(&mut self, id: WorkerId, drift: LoadDrift) {
        let w = &mut self.workers[id.0 as usize];
        if w.status == WorkerStatus::Offline {
            return;
        }
        w.drift = drift;
        self.refresh(id, true);
    }

    pub fn set_thermal(&mut self, id: WorkerId, thermal: Thermal) {
        let w = &mut self.workers[id.0 as usize];
        if w.status == WorkerStatus::Offline {
            return;
        }
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
        let shape = spec.shape();
        if !self.possible.iter().any(|p| shape.fits_spec(p)) {
            let reason = "no worker could ever hold it";
            return Err(Box::new(TestRecord::rejected(id, &spec, now, reason)));
        }
        let live = LiveTest {
            spec,
            order: id.0,
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

    /// One scheduling pass: places pending tests in priority, then submission
    /// order, each on the worker the policy picks, and appends the decisions
    /// to `out`. A class whose head fits nowhere is skipped whole; it is looked
    /// at again only when capacity it could use appears.
    pub fn schedule(&mut self, now: SimTime, out: &mut Vec<Assignment>) {
        if self.pending.is_empty() {
            self.clear_dirty();
            return;
        }
        self.counters.passes += 1;
        // After a pass every waiting class is blocked; the classes worth a
        // look are those capacity growth revives and those given a test
        // since (fresh). Revived classes stay blocked until one is actually
        // tried: most fail the grown-worker check at once, and a class left
        // blocked through this pass counts the same failed attempt as one
        // unblocked and blocked again, without the bookkeeping.
        let mut candidates = std::mem::take(&mut self.candidates);
        let mut revived = std::mem::take(&mut self.revived);
        let mut revived_heads = RevivedHeads {
            keys: std::mem::take(&mut self.revived_heads),
            sorted: false,
        };
        // Component-wise smallest shape among the revived classes: a grown
        // worker that cannot hold it holds none of them.
        let mut revived_floor: Option<Shape> = None;
        revived.resize(self.pending.classes().len(), false);
        if !self.dirty.is_empty() {
            let (index, dirty) = (&self.index, &self.dirty);
            self.pending.reconsider(
                |shape| {
                    dirty
                        .iter()
                        .any(|w| index.leaf(*w).is_some_and(|l| l.fits(shape)))
                },
                &mut candidates,
            );
            for &id in &candidates {
                revived[id] = true;
                let c = &self.pending.classes()[id];
                if let Some(&(order, _)) = c.fifo.front() {
                    revived_heads.keys.push(HeadKey::new(c.priority, order, id));
                    revived_floor = Some(revived_floor.map_or(c.shape, |f| f.floor(&c.shape)));
                }
            }
            revived_heads.prepare();
        }
        let fresh_from = candidates.len();
        self.pending.take_fresh(&mut candidates);
        let mut heads = std::mem::take(&mut self.heads);
        for &id in &candidates[fresh_from..] {
            let c = &self.pending.classes()[id];
            if let (false, Some(&(order, _))) = (c.blocked, c.fifo.front()) {
                heads.push(Reverse(HeadKey::new(c.priority, order, id)));
            }
        }
        let mut unplaceable: Vec<Shape> = Vec::new();
        // Revived classes leave the pass in the same order as if they had
        // been pushed on the heap: merged from their own, smaller stream.
        let mut next_revived = revived_heads.take_min();
        loop {
            if next_revived.is_some()
                && revived_floor.is_some_and(|f| !self.fits_a_grown_worker(&f))
            {
                // The grown workers are full again: every revived class left
                // would fail the grown-worker check below, and staying
                // blocked is what that failure amounts to.
                next_revived = None;
            }
            let head = match (heads.peek(), next_revived) {
                (Some(Reverse(h)), Some(r)) if *h < r => heads.pop().map(|Reverse(h)| h),
                (_, Some(r)) => {
                    next_revived = revived_heads.take_min();
                    Some(r)
                }
                (_, None) => heads.pop().map(|Reverse(h)| h),
            };
            let Some(head) = head else { break };
            let class = head.class();
            let shape = self.pending.classes()[class].shape;
            let Some(&(_, test)) = self.pending.classes()[class].fifo.front() else {
                continue;
            };
            if unplaceable.iter().any(|u| u.fits_within(&shape))
                || (revived[class] && !self.fits_a_grown_worker(&shape))
            {
                if !self.pending.classes()[class].blocked {
                    self.block(class);
                }
                continue;
            }
            if self.pending.classes()[class].blocked {
                self.pending.revive(class);
            }
            match self.decide(test, shape, now) {
                Some(choice) => {
                    out.push(self.assign(class, test, choice, now));
                    let c = &self.pending.classes()[class];
                    if let Some(&(order, _)) = c.fifo.front() {
                        heads.push(Reverse(HeadKey::new(c.priority, order, class)));
                    }
                }
                None => {
                    unplaceable.push(shape);
                    self.block(class);
                }
            }
        }
        self.heads = heads;
        for &c in &candidates {
            revived[c] = false;
        }
        candidates.clear();
        revived_heads.keys.clear();
        self.candidates = candidates;
        self.revived = revived;
        self.revived_heads = revived_heads.keys;
        self.clear_dirty();
    }

    /// A class that was blocked before this pass fits no worker but those
    /// whose capacity grew since (the others only lost capacity). So once
    /// none of those fits it any more, the policy need not be asked: it
    /// would search the whole index to find nothing. Exact, not a heuristic;
    /// skipped when many workers grew (a pool cycle), where the policy's own
    /// search is cheaper.
    fn fits_a_grown_worker(&self, shape: &Shape) -> bool {
        const MAX_GROWN: usize = 32;
        self.dirty.len() > MAX_GROWN
            || self
                .dirty
                .iter()
                .any(|w| self.index.leaf(*w).is_some_and(|l| l.fits(shape)))
    }

    /// Asks the policy, and checks its answer: a policy that names a worker
    /// the test does not fit is a bug, and the test is not placed.
    fn decide(&mut self, test: TestId, shape: Shape, now: SimTime) -> Option<policy::Choice> {
        self.counters.decisions += 1;
        let spec = &self.live[test.0].spec;
        let req = Request { test, spec, shape };
        let view = ClusterView {
            now,
            workers: &self.workers,
            index: &self.index,
        };
        let choice = self.policy.select(&req, &view, &mut self.rng)?;
        // The index leaf is the worker's current, exact capacity.
        let fits = self
            .index
            .leaf(choice.worker)
            .is_some_and(|l| l.fits(&shape));
        debug_assert!(
            fits,
            "policy {} chose {} which does not fit {test}",
            self.scheduler, choice.worker
        );
        fits.then_some(choice)
    }

    fn block(&mut self, class: ClassId) {
        self.pending.block(class);
    }

    fn clear_dirty(&mut self) {
        for w in self.dirty.drain(..) {
            self.is_dirty[w.0 as usize] = false;
        }
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
    pub fn is_current(&self, test: TestId, epoch: u32) -> bool {
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
    pub fn finalize_remaining(&mut self, now: SimTime) -> Vec<TestRecord> {
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
        let leaf = self.workers[id.0 as usize].leaf();
        let accepting = leaf.is_some();
        self.index.set(id, leaf);
        if grew && accepting && !self.is_dirty[id.0 as usize] {
            self.is_dirty[id.0 as usize] = true;
            self.dirty.push(id);
        }
    }

    /// Batches index updates until `flush_index` (for pool cycles, which
    /// touch many workers at once). No scheduling pass may run in between.
    pub fn defer_index(&mut self) {
        self.index.defer();
    }

    pub fn flush_index(&mut self) {
        self.index.flush();
    }

    /// Memory and CUDA offered and used by the workers not offline.
    pub fn pool_totals(&self) -> PoolTotals {
        self.pool
    }

    pub fn workers(&self) -> &[WorkerState] {
        &self.workers
    }

    pub fn worker(&self, id: WorkerId) -> &WorkerState {
        &self.workers[id.0 as usize]
    }

    pub fn test(&self, id: TestId) -> Option<&LiveTest> {
        self.live.get(id.0)
    }

    /// Tests waiting: in the pending queue or parked behind a concurrency key.
    pub fn pending_len(&self) -> usize {
        self.pending.len() + self.keys.parked()
    }

    pub fn running_len(&self) -> usize {
        self.running
    }

    pub fn live_len(&self) -> usize {
        self.live.len()
    }

    /// Pending tests in scheduling order (for dashboards and tests; O(n log n)).
    pub fn pending_in_order(&self) -> Vec<TestId> {
        self.pending.in_order()
    }

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
