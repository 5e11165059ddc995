//! The results of a live run, computed from the coordinator's own records
//! (submission, assignment, start and end times of every run) by the same
//! `metrics::Collector` the simulator uses: the records are replayed in
//! time order over a pool rebuilt from them (`RecordedPool`), so a measured
//! run and a simulated one are summarised by one piece of code.

use crate::balancer::model::{Outcome, TestId, WorkerId, WorkerStatus};
use crate::balancer::{Assignment, PoolTotals, TestRecord, WorkerState};
use crate::engine::{EndReason, RunInfo, RunOutput};
use crate::metrics::{Collector, PoolView};
use crate::scenario::Scenario;
use crate::service::api::{TestState, TestView, WorkerView};
use crate::sim::{SimDuration, SimTime};
use indexmap::IndexMap;

/// The pool as the records describe it at the current moment of the replay.
#[derive(Default)]
pub(crate) struct RecordedPool {
    workers: Vec<WorkerState>,
    totals: PoolTotals,
    pending: usize,
    active: usize,
    requeued: u64,
}

impl PoolView for RecordedPool {
    fn workers(&self) -> &[WorkerState] {
        &self.workers
    }
    fn pool_totals(&self) -> PoolTotals {
        self.totals
    }
    fn pending_len(&self) -> usize {
        self.pending
    }
    fn active_workers(&self) -> usize {
        self.active
    }
    fn requeued(&self) -> u64 {
        self.requeued
    }
}

/// One fact of the records, in replay order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Join,
    Submit,
    RunEnd,
    Final,
    RunStart,
    Leave,
}

/// How service times map to the scenario's: `(t - t0) × speed` seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeBase {
    pub(crate) t0: f64,
    pub(crate) speed: f64,
}

impl TimeBase {
    fn at(&self, t: f64) -> SimTime {
        SimTime::from_secs_f64(((t - self.t0) * self.speed).max(0.0))
    }
}

struct Replay<'a> {
    tests: &'a [TestView],
    worker_index: IndexMap<u64, usize>,
    pool: RecordedPool,
    collector: Collector,
    base: TimeBase,
}

/// The live run's output: `tests` are the run's tests in id order,
/// `workers` every worker of the service, `end` the service time at the end.
pub(crate) fn from_records(
    scenario: &Scenario,
    tests: &[TestView],
    workers: &[WorkerView],
    base: TimeBase,
    end: f64,
) -> RunOutput {
    let mut r = Replay {
        tests,
        worker_index: IndexMap::new(),
        pool: RecordedPool::default(),
        collector: Collector::new(scenario.duration_s),
        base,
    };
    let mut events = r.joins_and_leaves(workers);
    events.extend(test_events(tests, &base));
    events.sort();
    let end_t = base
        .at(end)
        .max(events.last().map_or(SimTime::ZERO, |e| e.0));
    for &(t, kind, a, b) in &events {
        r.apply(t, kind, a, b);
        r.collector.on_state(t, r.pool.pending, r.pool.active);
        r.collector.on_pool(t, &r.pool);
    }
    let live = tests
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.state.is_final());
    let live: Vec<usize> = live.map(|(k, _)| k).collect();
    for &k in &live {
        let rec = r.record(k, end_t);
        r.collector.on_final(&rec);
    }
    for w in &mut r.pool.workers {
        w.usage.close_busy(end_t);
    }
    let (metrics, series, worker_rows, distributions) = r.collector.finish(&r.pool, end_t);
    RunOutput {
        scenario: scenario.clone(),
        metrics,
        series,
        workers: worker_rows,
        run: RunInfo {
            end_reason: if live.is_empty() {
                EndReason::AllFinal
            } else {
                EndReason::Horizon
            },
            end_time: end_t.as_secs_f64(),
            horizon: scenario.horizon_s,
            events: events.len() as u64,
            scheduling_passes: 0,
            decisions: tests.iter().map(|t| t.runs.len() as u64).sum(),
        },
        distributions,
    }
}

/// One replayed event: (time, kind, test or worker, run).
type Event = (SimTime, Kind, usize, usize);

/// Every submission, run start, run end and final state of the tests.
fn test_events(tests: &[TestView], base: &TimeBase) -> Vec<Event> {
    let mut events = Vec::new();
    for (k, t) in tests.iter().enumerate() {
        events.push((base.at(t.submitted_at), Kind::Submit, k, 0));
        for (j, run) in t.runs.iter().enumerate() {
            events.push((base.at(run.assigned_at), Kind::RunStart, k, j));
            if let Some(e) = run.ended_at.filter(|_| run.outcome.is_some()) {
                events.push((base.at(e), Kind::RunEnd, k, j));
            }
        }
        if let (true, Some(f)) = (t.state.is_final(), t.finished_at) {
            events.push((base.at(f), Kind::Final, k, 0));
        }
    }
    events
}

impl Replay<'_> {
    /// Adds every worker to the pool (offline until its join) and returns
    /// its join and leave events.
    fn joins_and_leaves(&mut self, workers: &[WorkerView]) -> Vec<Event> {
        let base = self.base;
        let r = self;
        let mut events = Vec::new();
        for w in workers {
            let Ok(spec) = w.capabilities.to_spec() else {
                continue;
            };
            let i = r.pool.workers.len();
            r.worker_index.insert(w.worker_id, i);
            let joined = base.at(w.joined_at);
            r.pool
                .workers
                .push(WorkerState::new(WorkerId(i as u32), spec, joined));
            r.pool.workers[i].status = WorkerStatus::Offline;
            events.push((joined, Kind::Join, i, 0));
            if let Some(left) = w.left_at {
                events.push((base.at(left), Kind::Leave, i, 0));
            }
        }
        events
    }

    fn worker_of(&self, test: usize, run: usize) -> Option<usize> {
        let w = self.tests[test].runs.get(run)?.worker_id;
        self.worker_index.get(&w).copied()
    }

    fn apply(&mut self, t: SimTime, kind: Kind, a: usize, b: usize) {
        match kind {
            Kind::Join => {
                let w = &mut self.pool.workers[a];
                w.status = WorkerStatus::Active;
                self.pool.active += 1;
                self.pool.totals.memory_mib += w.spec.memory_mib;
                self.pool.totals.cuda += u64::from(w.spec.cuda_devices);
            }
            Kind::Leave => {
                let w = &mut self.pool.workers[a];
                if w.status == WorkerStatus::Active {
                    self.pool.active -= 1;
                    self.pool.totals.memory_mib -= w.spec.memory_mib;
                    self.pool.totals.cuda -= u64::from(w.spec.cuda_devices);
                }
                w.status = WorkerStatus::Offline;
                w.left_at = Some(t);
            }
            Kind::Submit => {
                self.collector.on_submit();
                self.collector.on_arrival(t);
                if self.tests[a].state == TestState::Rejected {
                    let rec = self.record(a, t);
                    self.collector.on_final(&rec);
                } else {
                    self.pool.pending += 1;
                }
            }
            Kind::RunStart => self.run_start(t, a, b),
            Kind::RunEnd => self.run_end(t, a, b),
            Kind::Final => {
                let rec = self.record(a, t);
                self.collector.on_final(&rec);
            }
        }
    }

    fn shape(&self, test: usize) -> (u64, u32, u32) {
        let q = &self.tests[test].requirements;
        let spec = q.to_spec(None, 0);
        (spec.memory_mib, spec.cuda_devices, spec.cpu_cores)
    }

    fn run_start(&mut self, t: SimTime, test: usize, run: usize) {
        self.pool.pending = self.pool.pending.saturating_sub(1);
        let (mem, cuda, cores) = self.shape(test);
        let submitted = self.base.at(self.tests[test].submitted_at);
        let attempt = self.tests[test].runs[run].attempt;
        let Some(wi) = self.worker_of(test, run) else {
            return;
        };
        let w = &mut self.pool.workers[wi];
        if w.running.is_empty() {
            w.usage.busy_since = Some(t);
        }
        w.running.push(TestId(test as u64));
        (w.used_memory_mib, w.used_cuda, w.used_cores) = (
            w.used_memory_mib + mem,
            w.used_cuda + cuda,
            w.used_cores + cores,
        );
        w.assignments += 1;
        self.pool.totals.memory_used_mib += mem;
        self.pool.totals.cuda_used += u64::from(cuda);
        let a = Assignment {
            time: t,
            test: TestId(test as u64),
            worker: WorkerId(wi as u32),
            score: 0.0,
            candidates: 0,
            attempt,
            epoch: attempt,
        };
        let first = (run == 0).then(|| (t - submitted).as_secs_f64());
        self.collector.on_assign(&a, first);
    }

    fn run_end(&mut self, t: SimTime, test: usize, run: usize) {
        let (mem, cuda, cores) = self.shape(test);
        let r = &self.tests[test].runs[run];
        let started = self.base.at(r.assigned_at);
        let requeued = matches!(r.outcome.as_deref(), Some("lost" | "requeued" | "moved"));
        let Some(wi) = self.worker_of(test, run) else {
            return;
        };
        let w = &mut self.pool.workers[wi];
        w.running.retain(|&x| x != TestId(test as u64));
        w.used_memory_mib = w.used_memory_mib.saturating_sub(mem);
        w.used_cuda = w.used_cuda.saturating_sub(cuda);
        w.used_cores = w.used_cores.saturating_sub(cores);
        let shape = crate::balancer::model::Shape {
            memory_mib: mem,
            cuda_devices: cuda,
            cpu_cores: cores,
            backend: Default::default(),
        };
        w.usage.add_run(&shape, (t - started).0);
        if w.running.is_empty() {
            w.usage.close_busy(t);
        }
        self.pool.totals.memory_used_mib = self.pool.totals.memory_used_mib.saturating_sub(mem);
        self.pool.totals.cuda_used = self.pool.totals.cuda_used.saturating_sub(u64::from(cuda));
        if requeued {
            self.pool.pending += 1;
            self.pool.requeued += 1;
        }
    }

    /// The test's final record as the simulator would write it.
    fn record(&self, k: usize, now: SimTime) -> TestRecord {
        let t = &self.tests[k];
        let spec = t.requirements.to_spec(None, 0);
        let at = |s: f64| self.base.at(s);
        let submitted = at(t.submitted_at);
        let last = t.runs.last();
        let outcome = match t.state {
            TestState::Completed => Outcome::Completed,
            TestState::Failed => Outcome::Failed,
            TestState::Rejected => Outcome::Rejected,
            // A cancelled or timed-out test did not complete.
            TestState::Cancelled | TestState::TimedOut => Outcome::Failed,
            TestState::Pending => Outcome::Pending,
            TestState::Assigned | TestState::Running => Outcome::Running,
        };
        let mut waited = 0u64;
        let mut since = Some(submitted);
        for r in &t.runs {
            if let Some(s) = since.take() {
                waited += (at(r.assigned_at) - s).0;
            }
            since = r.ended_at.filter(|_| r.outcome.is_some()).map(at);
        }
        if outcome == Outcome::Pending {
            waited += since.map_or(0, |s| (now - s).0);
        }
        TestRecord {
            id: TestId(k as u64),
            priority: spec.priority,
            memory_mib: spec.memory_mib,
            cuda_devices: spec.cuda_devices,
            submitted_at: submitted,
            assigned_at: t.runs.first().map(|r| at(r.assigned_at)),
            started_at: last
                .filter(|_| outcome != Outcome::Pending)
                .map(|r| at(r.assigned_at)),
            finished_at: t.state.is_final().then(|| t.finished_at.map_or(now, at)),
            worker: last
                .and_then(|r| self.worker_index.get(&r.worker_id))
                .map(|&i| WorkerId(i as u32)),
            attempts: t.runs.len() as u32,
            requeues: t
                .runs
                .iter()
                .filter(|r| {
                    r.outcome
                        .as_deref()
                        .is_some_and(|o| o != "completed" && o != "failed")
                })
                .count() as u32,
            waited_us: waited,
            expected_us: SimDuration::from_secs_f64(t.requirements.expected_duration()).0,
            outcome,
            reason: (outcome == Outcome::Rejected).then_some("no worker could ever hold it"),
        }
    }
}
