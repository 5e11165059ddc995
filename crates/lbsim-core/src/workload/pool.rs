//! The worker pool over time: initial workers, load drift, thermal events and
//! churn, advanced one pool cycle at a time (the reference's worker loop).
//!
//! The pool decides and tells; it never changes the balancer. Each decision
//! goes out as a `PoolFact` to a `PoolSink` (the engine), which applies it
//! at once and counts it, so the next decision of the same cycle reads the
//! pool as the facts before it left it.

use super::drift::drift_from;
use super::reported_load::ReportedLoad;
use crate::balancer::model::{
    gb_to_mib_floor, Backends, LoadDrift, Thermal, WorkerId, WorkerSpec, WorkerStatus,
};
use crate::balancer::WorkerState;
use crate::scenario::{
    Churn, ChurnAction, ChurnEvent, LoadModel, LoadView, RecordedLeave, RecordedWorker, Scenario,
    WorkerProfile,
};
use crate::sim::{RngStreams, SimDuration, SimRng, SimTime, Stream};

/// A change to the worker pool that the workload decided.
#[derive(Clone, Debug, PartialEq)]
pub enum PoolFact {
    /// A new worker with this spec joins.
    Join(WorkerSpec),
    /// A worker leaves gracefully: it takes nothing new and finishes what it runs.
    Drain(WorkerId),
    /// A worker crashes: the tests it runs go back to pending.
    Fail(WorkerId),
    /// A worker's background load is redrawn.
    Drift(WorkerId, LoadDrift),
    /// A worker starts warming or cooling; the phase carries its end.
    Thermal(WorkerId, Thermal),
    /// A worker reports its drift and thermal phase (the reported view).
    Report(WorkerId, LoadDrift, Thermal),
}

/// What the pool reads of the cluster, and where its facts go. A sink
/// applies each fact before `tell` returns: a cycle's leave may pick the
/// worker its join just added, and a scripted drain takes the oldest worker
/// still active after the drains before it.
pub trait PoolSink {
    type Error;
    /// Every worker ever registered, in id order, as the facts left them.
    fn workers(&self) -> &[WorkerState];
    /// Workers with status Active.
    fn active_workers(&self) -> usize;
    fn tell(&mut self, fact: PoolFact) -> Result<(), Self::Error>;
}

/// Draws workers and drives drift and churn.
pub struct Pool {
    profile: WorkerProfile,
    churn: Churn,
    load: LoadModel,
    initial: u32,
    workers_rng: SimRng,
    churn_rng: SimRng,
    drift_rng: SimRng,
    /// Scripted churn, expanded to single actions, and the next one due.
    timeline: Vec<Scripted>,
    next_scripted: usize,
    /// A recorded pool's workers in join order (empty otherwise): the
    /// initial workers and every later join take the next one.
    recorded: Vec<WorkerSpec>,
    next_recorded: usize,
    /// With the reported view: drift drawn when workers report, not in cycles.
    reported: Option<ReportedLoad>,
}

/// One scripted action: a join, or a drain or failure of `worker` (a
/// recorded pool names it) or else of the oldest active worker.
#[derive(Clone, Debug, PartialEq)]
struct Scripted {
    at: SimTime,
    action: ChurnAction,
    replace: bool,
    worker: Option<WorkerId>,
}

/// A config's timeline, one action at a time.
fn timeline(events: &[ChurnEvent]) -> Vec<Scripted> {
    ChurnEvent::expand(events)
        .into_iter()
        .map(|(t, action, replace)| Scripted {
            at: SimTime::from_secs_f64(t),
            action,
            replace,
            worker: None,
        })
        .collect()
}

/// A recorded pool's joins after the first `initial` workers and its
/// leaves, in time order; at equal times joins come first, so a leave never
/// precedes the join of its worker.
fn recorded_timeline(
    workers: &[RecordedWorker],
    leaves: &[RecordedLeave],
    initial: u32,
) -> Vec<Scripted> {
    let joins = workers.iter().skip(initial as usize).map(|w| Scripted {
        at: SimTime::from_secs_f64(w.at_s),
        action: ChurnAction::Join,
        replace: false,
        worker: None,
    });
    let leaves = leaves.iter().map(|l| Scripted {
        at: SimTime::from_secs_f64(l.at_s),
        action: l.action,
        replace: false,
        worker: Some(WorkerId(l.worker)),
    });
    let mut out: Vec<Scripted> = joins.chain(leaves).collect();
    out.sort_by_key(|s| s.at);
    out
}

impl Pool {
    /// The scenario's initial workers and its churn, with draws from the run's
    /// own seeded streams.
    pub fn new(scenario: &Scenario, streams: &RngStreams) -> Self {
        Pool {
            profile: scenario.worker_profile.clone(),
            churn: scenario.churn.clone(),
            load: scenario.load.clone(),
            initial: scenario.workers,
            workers_rng: streams.stream(Stream::Workers),
            churn_rng: streams.stream(Stream::Churn),
            drift_rng: streams.stream(Stream::LoadDrift),
            timeline: match &scenario.churn {
                Churn::Timeline { events } => timeline(events),
                Churn::Recorded { workers, leaves } => {
                    recorded_timeline(workers, leaves, scenario.workers)
                }
                _ => Vec::new(),
            },
            next_scripted: 0,
            recorded: match &scenario.churn {
                Churn::Recorded { workers, .. } => workers.iter().map(|w| w.spec()).collect(),
                _ => Vec::new(),
            },
            next_recorded: 0,
            reported: (scenario.load.enabled && scenario.load.view == LoadView::Reported).then(
                || {
                    ReportedLoad::new(
                        &scenario.load,
                        streams.stream(Stream::ReportedLoad).next_u64(),
                    )
                },
            ),
        }
    }

    /// When the next scripted churn action is due, if any.
    pub(crate) fn next_scripted_at(&self) -> Option<SimTime> {
        self.timeline.get(self.next_scripted).map(|e| e.at)
    }

    /// Tells every scripted action due at or before `now`. A config's drains
    /// and failures take the oldest active worker, so a rolling drain walks
    /// the pool in order and a multi-worker failure takes a contiguous block
    /// (a rack); a recorded one takes the worker it names.
    pub fn scripted<S: PoolSink>(&mut self, sink: &mut S, now: SimTime) -> Result<(), S::Error> {
        while let Some(next) = self.timeline.get(self.next_scripted) {
            if next.at > now {
                break;
            }
            let (action, replace, named) = (next.action, next.replace, next.worker);
            self.next_scripted += 1;
            let target = match named {
                Some(w) => named_target(sink.workers(), w, action),
                None => sink
                    .workers()
                    .iter()
                    .find(|w| w.status == WorkerStatus::Active)
                    .map(|w| w.id),
            };
            let removed = match (action, target) {
                (ChurnAction::Join, _) | (_, None) => None,
                (ChurnAction::Drain, Some(w)) => Some(PoolFact::Drain(w)),
                (ChurnAction::Fail, Some(w)) => Some(PoolFact::Fail(w)),
            };
            let replaced = removed.is_some() && replace;
            if let Some(fact) = removed {
                sink.tell(fact)?;
            }
            if action == ChurnAction::Join || replaced {
                let spec = self.draw_worker();
                sink.tell(PoolFact::Join(spec))?;
            }
        }
        Ok(())
    }

    fn spec_of(&self, memory_gb: f64, cuda: u32, cores: u32, speed: f64) -> WorkerSpec {
        let backends = Backends::for_cuda_devices(cuda);
        WorkerSpec {
            memory_mib: gb_to_mib_floor(memory_gb * self.profile.usable_memory_fraction),
            memory_gb,
            cpu_cores: cores,
            cuda_devices: cuda,
            backends,
            speed,
        }
    }

    /// A new worker: a recorded pool's next worker, else one drawn from
    /// the profile.
    pub fn draw_worker(&mut self) -> WorkerSpec {
        if let Some(spec) = self.recorded.get(self.next_recorded) {
            self.next_recorded += 1;
            return spec.clone();
        }
        let r = &mut self.workers_rng;
        let memory = *r.choose(&self.profile.memory_gb);
        let cuda = *r.choose(&self.profile.cuda_devices);
        let cores = *r.choose(&self.profile.cpu_cores);
        let speed = *r.choose(&self.profile.speed);
        self.spec_of(memory, cuda, cores, speed)
    }

    /// Every worker shape the profile can produce (speed aside), so tests
    /// that only a future joiner could run are not rejected.
    pub(crate) fn possible_workers(&self) -> Vec<WorkerSpec> {
        let mut out: Vec<WorkerSpec> = Vec::new();
        if !self.recorded.is_empty() {
            // A recording may hold thousands of workers: an ordered set of
            // the shapes seen keeps this from growing with the square of the
            // fleet (the output stays in first-seen order).
            let mut seen = std::collections::BTreeSet::new();
            for s in &self.recorded {
                let key = (
                    s.memory_mib,
                    s.memory_gb.to_bits(),
                    s.cpu_cores,
                    s.cuda_devices,
                    s.backends.0,
                    s.speed.to_bits(),
                );
                if seen.insert(key) {
                    out.push(s.clone());
                }
            }
            return out;
        }
        for &m in &self.profile.memory_gb {
            for &c in &self.profile.cuda_devices {
                for &k in &self.profile.cpu_cores {
                    let s = self.spec_of(m, c, k, 1.0);
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        }
        out
    }

    /// Time to the next pool cycle, or `None` if nothing ever changes.
    pub(crate) fn next_cycle_in(&mut self) -> Option<SimDuration> {
        if !self.load.enabled && !matches!(self.churn, Churn::Random { .. }) {
            return None;
        }
        let s = self
            .drift_rng
            .uniform(self.load.cycle_min_s, self.load.cycle_max_s);
        Some(SimDuration::from_secs_f64(s).max(SimDuration(1)))
    }

    /// One cycle: drift and thermal events first, then churn. The sink may
    /// batch its index updates around the call (no pass runs inside).
    pub fn cycle<S: PoolSink>(&mut self, sink: &mut S, now: SimTime) -> Result<(), S::Error> {
        match &mut self.reported {
            Some(reported) => {
                let due = reported.cycle(now, sink.active_workers());
                self.heartbeats(sink, due, now)?;
            }
            None if self.load.enabled => self.drift(sink, now)?,
            None => {}
        }
        self.churn(sink)
    }

    /// `due` workers report, in id order from where the last cycle's
    /// heartbeats stopped; offline workers are skipped and not counted.
    fn heartbeats<S: PoolSink>(
        &mut self,
        sink: &mut S,
        due: usize,
        now: SimTime,
    ) -> Result<(), S::Error> {
        let workers = sink.workers().len();
        let (mut sent, mut looked) = (0, 0);
        while sent < due && looked < workers {
            let Some(reported) = &mut self.reported else {
                break;
            };
            let id = reported.next_reporter(workers);
            looked += 1;
            if sink.workers()[id.0 as usize].status != WorkerStatus::Offline {
                self.report(sink, id, now)?;
                sent += 1;
            }
        }
        Ok(())
    }

    /// With the reported view, the worker's real drift and thermal phase at
    /// `now` (its last report may be older); `None` with the live view,
    /// where the balancer's are the real ones.
    pub(crate) fn condition(
        &mut self,
        w: &WorkerState,
        now: SimTime,
    ) -> Option<(LoadDrift, Thermal)> {
        let reported = self.reported.as_mut()?;
        Some(reported.at(w.id, w.joined_at, now))
    }

    /// The worker reports its drift and thermal phase as of `now`, told as
    /// one fact when either changed since its last report.
    fn report<S: PoolSink>(
        &mut self,
        sink: &mut S,
        worker: WorkerId,
        now: SimTime,
    ) -> Result<(), S::Error> {
        let Some(reported) = &mut self.reported else {
            return Ok(());
        };
        let w = &sink.workers()[worker.0 as usize];
        let seen = (w.drift, w.thermal);
        let (drift, thermal) = reported.at(worker, w.joined_at, now);
        if (drift, thermal) != seen {
            sink.tell(PoolFact::Report(worker, drift, thermal))?;
        }
        Ok(())
    }

    /// Each worker not offline gets new drift with the update probability;
    /// a worker in its normal thermal state may then start warming or
    /// cooling.
    fn drift<S: PoolSink>(&mut self, sink: &mut S, now: SimTime) -> Result<(), S::Error> {
        for i in 0..sink.workers().len() {
            let id = WorkerId(i as u32);
            if sink.workers()[i].status == WorkerStatus::Offline {
                continue;
            }
            if !self.drift_rng.chance(self.load.update_probability) {
                continue;
            }
            let drift = self.draw_drift();
            sink.tell(PoolFact::Drift(id, drift))?;
            if sink.workers()[i].thermal != Thermal::Normal {
                continue;
            }
            if let Some(phase) = self.draw_thermal(now) {
                sink.tell(PoolFact::Thermal(id, phase))?;
            }
        }
        Ok(())
    }

    /// One redraw of the background load (see [`drift_from`]).
    fn draw_drift(&mut self) -> LoadDrift {
        drift_from(|low, high| self.drift_rng.uniform(low, high))
    }

    /// Warming with the thermal probability, else cooling with it again.
    fn draw_thermal(&mut self, now: SimTime) -> Option<Thermal> {
        let l = &self.load;
        let r = &mut self.drift_rng;
        if r.chance(l.thermal_probability) {
            Some(Thermal::Warming {
                until: now + SimDuration::from_secs_f64(l.warming_s),
            })
        } else if r.chance(l.thermal_probability) {
            Some(Thermal::Cooling {
                until: now + SimDuration::from_secs_f64(l.cooling_s),
            })
        } else {
            None
        }
    }

    /// A join while below the ceiling, then a leave while above the floor;
    /// the leave is decided on the pool the join left.
    fn churn<S: PoolSink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        let Churn::Random {
            join_probability,
            leave_probability,
            fail_fraction,
            max_factor,
            min_factor,
        } = self.churn
        else {
            return Ok(());
        };
        let initial = f64::from(self.initial);
        let active = sink.active_workers() as f64;
        if self.churn_rng.chance(join_probability) && active < max_factor * initial {
            let spec = self.draw_worker();
            sink.tell(PoolFact::Join(spec))?;
        }
        let active = sink.active_workers() as f64;
        if self.churn_rng.chance(leave_probability) && active > min_factor * initial {
            let candidates: Vec<WorkerId> = sink
                .workers()
                .iter()
                .filter(|w| w.status == WorkerStatus::Active)
                .map(|w| w.id)
                .collect();
            let victim = *self.churn_rng.choose(&candidates);
            let fact = if self.churn_rng.chance(fail_fraction) {
                PoolFact::Fail(victim)
            } else {
                PoolFact::Drain(victim)
            };
            sink.tell(fact)?;
        }
        Ok(())
    }
}

/// The worker a recorded drain or failure names, if the action still
/// applies to it: a drain takes an active worker, a failure any worker not
/// yet offline (a draining worker deleted live fails too).
fn named_target(workers: &[WorkerState], id: WorkerId, action: ChurnAction) -> Option<WorkerId> {
    let w = workers.get(id.0 as usize)?;
    let applies = match action {
        ChurnAction::Drain => w.status == WorkerStatus::Active,
        ChurnAction::Fail => w.status != WorkerStatus::Offline,
        ChurnAction::Join => false,
    };
    applies.then_some(w.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::model::{TestId, TestSpec};
    use crate::balancer::policy::SchedulerName;
    use crate::balancer::Balancer;
    use crate::hash::Fnv64;
    use crate::scenario::StressOptions;
    use std::fmt::Write;

    fn small_test(i: u64) -> TestSpec {
        TestSpec {
            priority: (i % 5) as u8 + 1,
            memory_mib: 512 << (i % 3),
            cuda_devices: 0,
            cpu_cores: 1,
            backend: None,
            expected_duration: SimDuration::from_secs(10),
            model_family: 0,
            concurrency_key: None,
        }
    }

    /// Every worker's status, drift (as bits) and thermal phase.
    fn pool_state(b: &Balancer, out: &mut String) {
        for w in b.workers() {
            let d = &w.drift;
            let bits = [d.cpu, d.memory, d.gpu, d.io, d.network].map(f64::to_bits);
            writeln!(out, "  {} {:?} {bits:?} {:?}", w.id, w.status, w.thermal).unwrap();
        }
    }

    /// What one call changed, printed as the pool printed it when it
    /// commanded the balancer itself (the pinned hashes below were taken
    /// from that code).
    #[derive(Debug, Default)]
    struct CycleEffects {
        joined: Vec<WorkerId>,
        drained: Vec<WorkerId>,
        failed: Vec<(WorkerId, Vec<TestId>)>,
        thermal_ends: Vec<(WorkerId, SimTime)>,
    }

    /// Applies each fact to a balancer, as the engine does, and records it.
    struct Recorder<'a> {
        balancer: &'a mut Balancer,
        now: SimTime,
        fx: CycleEffects,
        told: Vec<PoolFact>,
    }

    impl PoolSink for Recorder<'_> {
        type Error = std::convert::Infallible;
        fn workers(&self) -> &[WorkerState] {
            self.balancer.workers()
        }
        fn active_workers(&self) -> usize {
            self.balancer.active_workers()
        }
        fn tell(&mut self, fact: PoolFact) -> Result<(), Self::Error> {
            let (b, now, fx) = (&mut *self.balancer, self.now, &mut self.fx);
            match fact.clone() {
                PoolFact::Join(spec) => fx.joined.push(b.register_worker(spec, now)),
                PoolFact::Drain(w) => {
                    b.drain_worker(w, now);
                    fx.drained.push(w);
                }
                PoolFact::Fail(w) => fx.failed.push((w, b.fail_worker(w, now))),
                PoolFact::Drift(w, drift) => b.set_drift(w, drift),
                PoolFact::Thermal(w, phase) => {
                    b.set_thermal(w, phase);
                    fx.thermal_ends.push((w, phase.until().unwrap()));
                }
                PoolFact::Report(w, drift, phase) => b.set_condition(w, drift, phase),
            }
            self.told.push(fact);
            Ok(())
        }
    }

    /// Runs `cycles` pool cycles (scripted actions, then a random cycle) on
    /// a balancer that is given two tests before each; returns the log and
    /// the facts told.
    fn drive(scenario: &Scenario, cycles: usize) -> (String, Vec<PoolFact>) {
        let streams = RngStreams::new(scenario.seed);
        let mut pool = Pool::new(scenario, &streams);
        let mut b = Balancer::new(SchedulerName::LeastLoaded, streams.stream(Stream::Policy));
        for _ in 0..scenario.workers {
            let spec = pool.draw_worker();
            b.register_worker(spec, SimTime::ZERO);
        }
        let (mut log, mut told, mut now) = (String::new(), Vec::new(), SimTime::ZERO);
        let mut out = Vec::new();
        for cycle in 0..cycles as u64 {
            for i in [2 * cycle, 2 * cycle + 1] {
                b.submit(TestId(i), small_test(i), now).unwrap();
            }
            b.schedule(now, &mut out);
            now += pool.next_cycle_in().unwrap();
            for scripted in [true, false] {
                let mut sink = Recorder {
                    balancer: &mut b,
                    now,
                    fx: CycleEffects::default(),
                    told: Vec::new(),
                };
                let Ok(()) = if scripted {
                    pool.scripted(&mut sink, now)
                } else {
                    sink.balancer.defer_index();
                    let r = pool.cycle(&mut sink, now);
                    sink.balancer.flush_index();
                    r
                };
                writeln!(log, "{now} {:?}", sink.fx).unwrap();
                told.extend(sink.told);
            }
            pool_state(&b, &mut log);
        }
        (log, told)
    }

    /// How many facts of each kind: join, drain, fail, drift, thermal, report.
    fn kinds(told: &[PoolFact]) -> [usize; 6] {
        let mut n = [0; 6];
        for f in told {
            n[match f {
                PoolFact::Join(_) => 0,
                PoolFact::Drain(_) => 1,
                PoolFact::Fail(_) => 2,
                PoolFact::Drift(..) => 3,
                PoolFact::Thermal(..) => 4,
                PoolFact::Report(..) => 5,
            }] += 1;
        }
        n
    }

    fn hash(text: &str) -> String {
        let mut h = Fnv64::default();
        h.write(text.as_bytes());
        h.hex()
    }

    #[test]
    fn a_seeded_random_cycle_tells_drift_thermal_joins_and_leaves() {
        let scenario = StressOptions {
            workers: 6,
            dynamic: true,
            seed: 7,
            ..StressOptions::default()
        }
        .to_scenario()
        .unwrap();
        let (log, told) = drive(&scenario, 300);
        let [joins, drains, fails, drifts, thermals, _] = kinds(&told);
        assert_eq!([joins, drains, fails, thermals], [16, 10, 4, 21]);
        assert!(drifts > 300, "{drifts} drift facts");
        assert!(log.contains("failed: [(WorkerId(0), [TestId(0), TestId(11)"));
        assert_eq!(hash(&log), "625175c2f4a3d66d", "{log}");
    }

    #[test]
    fn a_seeded_timeline_tells_drains_failures_and_replacements() {
        let mut scenario = StressOptions {
            workers: 6,
            seed: 7,
            ..StressOptions::default()
        }
        .to_scenario()
        .unwrap();
        let event = |at_s, action, count, replace| ChurnEvent {
            at_s,
            action,
            count,
            every_s: 1.0,
            replace,
        };
        scenario.churn = Churn::Timeline {
            events: vec![
                event(5.0, ChurnAction::Drain, 3, true),
                event(8.0, ChurnAction::Fail, 2, false),
                event(12.0, ChurnAction::Join, 2, false),
                event(20.0, ChurnAction::Fail, 9, true),
            ],
        };
        let (log, told) = drive(&scenario, 60);
        let [joins, drains, fails, _, thermals, _] = kinds(&told);
        assert_eq!([joins, drains, fails, thermals], [14, 3, 11, 5]);
        assert_eq!(hash(&log), "34dfdb8ddaef88dc", "{log}");
    }
}
