//! Building a run and driving it: one event at a time (`step`), up to a
//! simulated time (`run_until`) or to the end (`run`), then `finish`.

use super::{EndReason, Event, Observer, Progress, RunInfo, RunOutput, Simulation};
use crate::balancer::Balancer;
use crate::error::{Error, Result};
use crate::metrics::Collector;
use crate::scenario::Scenario;
use crate::sim::{EventQueue, RngStreams, SimDuration, SimTime, Stream};
use crate::workload::{ArrivalSource, Pool, RunModel, SyntheticArrivals};

impl<'a> Simulation<'a> {
    /// A run of `scenario` with its synthetic workload, at time zero with
    /// the initial workers registered and the first events queued.
    pub fn new(scenario: &'a Scenario, observer: &'a mut dyn Observer) -> Self {
        let streams = RngStreams::new(scenario.seed);
        let arrivals = SyntheticArrivals::new(scenario, &streams);
        Simulation::with_arrivals(scenario, Box::new(arrivals), observer)
    }

    /// A run of `scenario` with any arrival source (a trace, say).
    pub fn with_arrivals(
        scenario: &'a Scenario,
        arrivals: Box<dyn ArrivalSource + 'a>,
        observer: &'a mut dyn Observer,
    ) -> Self {
        let streams = RngStreams::new(scenario.seed);
        let mut pool = Pool::new(scenario, &streams);
        let balancer = initial_balancer(scenario, &mut pool, &streams);
        let mut sim = Simulation {
            scenario,
            queue: EventQueue::with_capacity(1024),
            balancer,
            pool,
            arrivals,
            next_arrival: None,
            run_model: RunModel::from_profile(&scenario.test_profile),
            collector: Collector::new(scenario.duration_s),
            observer,
            now: SimTime::ZERO,
            horizon: SimTime::from_secs_f64(scenario.horizon_s),
            events: 0,
            decisions: Vec::new(),
            checked: false,
            ended: None,
            watch_from: SimTime::ZERO,
        };
        sim.queue_first_events();
        sim
    }

    /// Checks the balancer's invariants and the clock after every event,
    /// failing the run at the first violation (O(workers) per event).
    pub(crate) fn with_checks(mut self) -> Self {
        self.checked = true;
        self
    }

    /// The horizon, the first arrival and pool cycle, the stealing rounds
    /// and the first scripted churn action, in that order (ties pop in
    /// insertion order, so the order is part of the run).
    fn queue_first_events(&mut self) {
        self.queue.push(self.horizon, Event::Horizon);
        self.schedule_next_arrival();
        if let Some(dt) = self.pool.next_cycle_in() {
            self.queue.push(SimTime::ZERO + dt, Event::PoolCycle);
        }
        let stealing = &self.scenario.balancing.stealing;
        if stealing.enabled {
            let steal = SimDuration::from_secs_f64(stealing.steal_interval_s);
            let rebalance = SimDuration::from_secs_f64(stealing.rebalance_interval_s);
            self.queue.push(SimTime::ZERO + steal, Event::Steal);
            self.queue.push(SimTime::ZERO + rebalance, Event::Rebalance);
        }
        if let Some(t) = self.pool.next_scripted_at() {
            self.queue.push(t, Event::ScriptedChurn);
        }
    }

    /// The simulated time of the last event handled.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// When the next event is due (`None` once the queue is empty).
    pub fn next_event_at(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Events handled so far (the horizon counts as one).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The balancer as the last event left it, for a live view.
    pub fn balancer(&self) -> &Balancer {
        &self.balancer
    }

    /// The scenario being run (the dashboard labels its screen from it).
    pub fn scenario(&self) -> &Scenario {
        self.scenario
    }

    /// Sets a worker's background load from outside, as a live
    /// coordinator's heartbeat does (`lbsim fidelity` replays the loads a
    /// recording saw); a worker not (or no longer) in the pool is skipped.
    pub fn set_drift(
        &mut self,
        worker: crate::balancer::model::WorkerId,
        drift: crate::balancer::model::LoadDrift,
    ) {
        if (worker.0 as usize) < self.balancer.workers().len() {
            self.balancer.set_drift(worker, drift);
        }
    }

    /// Handles one event: the next in time order, then a scheduling pass if
    /// it was the last event at its time. Once the run has ended, does
    /// nothing and says so again. After an error the run is not meant to
    /// go on.
    pub fn step(&mut self) -> Result<Progress> {
        self.advance(SimTime::MAX, 1)
    }

    /// Handles every event due at or before `until` (a live view's "one
    /// more simulated second").
    pub fn run_until(&mut self, until: SimTime) -> Result<Progress> {
        self.advance(until, u64::MAX)
    }

    /// Runs to the end, then `finish`.
    pub fn run(self) -> Result<RunOutput> {
        self.finish()
    }

    /// The run's output: every test still live becomes a final record at
    /// the current time. A run that has not ended is first stepped to its
    /// end, so the output is always that of the whole run.
    pub fn finish(mut self) -> Result<RunOutput> {
        let Progress::Ended(end_reason) = self.advance(SimTime::MAX, u64::MAX)? else {
            unreachable!("a run with no bound on time or events runs to its end")
        };
        for record in self.balancer.finalize_remaining(self.now) {
            self.record_final(record)?;
        }
        let counters = self.balancer.counters();
        let (metrics, series, workers, distributions) =
            self.collector.finish(&self.balancer, self.now);
        Ok(RunOutput {
            scenario: self.scenario.clone(),
            metrics,
            series,
            workers,
            run: RunInfo {
                end_reason,
                end_time: self.now.as_secs_f64(),
                horizon: self.horizon.as_secs_f64(),
                events: self.events,
                scheduling_passes: counters.passes,
                decisions: counters.decisions,
            },
            distributions,
        })
    }

    /// The one event loop: handles events in time order until the run
    /// ends, the next event is due after `until`, or `limit` events were
    /// handled. (`step`, `run_until` and `finish` only bound it: with one
    /// call site, the handlers inline into the loop as they did when it was
    /// the only way to run.)
    fn advance(&mut self, until: SimTime, limit: u64) -> Result<Progress> {
        if let Some(reason) = self.ended {
            return Ok(Progress::Ended(reason));
        }
        for _ in 0..limit {
            if self.queue.peek_time().is_some_and(|t| t > until) {
                break;
            }
            if let Some(reason) = self.handle_next()? {
                self.ended = Some(reason);
                return Ok(Progress::Ended(reason));
            }
        }
        Ok(Progress::Running)
    }

    /// Pops the next event and handles it, then runs a scheduling pass if
    /// no other event is due at the same time. Says why the run ended when
    /// the event was the horizon or left every test final.
    fn handle_next(&mut self) -> Result<Option<EndReason>> {
        let Some((t, event)) = self.queue.pop() else {
            return Ok(Some(EndReason::AllFinal));
        };
        self.move_clock(t)?;
        if event == Event::Horizon {
            return Ok(Some(EndReason::Horizon));
        }
        self.handle(event)?;
        if self.queue.peek_time() != Some(self.now) {
            self.scheduling_pass()?;
        }
        if self.checked {
            self.check_invariants()?;
        }
        if self.next_arrival.is_none() && self.balancer.live_len() == 0 {
            return Ok(Some(EndReason::AllFinal));
        }
        Ok(None)
    }

    /// Moves the clock to the next event's time, and tells the observer
    /// when it asked to be told.
    fn move_clock(&mut self, t: SimTime) -> Result<()> {
        debug_assert!(t >= self.now, "time went backwards: {t} < {}", self.now);
        if self.checked && t < self.now {
            return Err(Error::Run(format!(
                "time went backwards: {t} < {}",
                self.now
            )));
        }
        self.now = t;
        self.events += 1;
        if t >= self.watch_from {
            self.watch_from = self.observer.on_time(t)?;
        }
        Ok(())
    }

    fn check_invariants(&self) -> Result<()> {
        self.balancer.check_invariants().map_err(|e| {
            Error::Run(format!(
                "invariant violated at {} (seed {}): {e}",
                self.now, self.scenario.seed
            ))
        })
    }
}

/// A balancer for the scenario's policy, with every worker shape the
/// profile can produce declared and the initial workers registered.
fn initial_balancer(scenario: &Scenario, pool: &mut Pool, streams: &RngStreams) -> Balancer {
    let mut balancer = Balancer::with_options(
        scenario.scheduler,
        &scenario.balancing,
        streams.stream(Stream::Policy),
    );
    for spec in pool.possible_workers() {
        balancer.declare_possible_worker(&spec);
    }
    for _ in 0..scenario.workers {
        let spec = pool.draw_worker();
        balancer.register_worker(spec, SimTime::ZERO);
    }
    balancer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::model::{TestId, WorkerId, WorkerSpec};
    use crate::engine::{run, NoObserver};
    use crate::scenario::{Churn, ChurnAction, ChurnEvent, StressOptions};

    /// Bursts on a small pool with random churn: queues, joins, drains,
    /// failures with tests on the failing worker.
    fn churning(seed: u64) -> Scenario {
        StressOptions {
            workers: 6,
            tests: 300,
            duration_s: 30.0,
            burst: true,
            dynamic: true,
            seed,
            ..StressOptions::default()
        }
        .to_scenario()
        .unwrap()
    }

    /// A rolling drain, a rack failure and joins, on a timeline.
    fn scripted() -> Scenario {
        let mut s = churning(5);
        let event = |at_s, action, count, replace| ChurnEvent {
            at_s,
            action,
            count,
            every_s: 2.0,
            replace,
        };
        s.churn = Churn::Timeline {
            events: vec![
                event(3.0, ChurnAction::Drain, 3, true),
                event(9.0, ChurnAction::Fail, 2, false),
                event(12.0, ChurnAction::Join, 2, false),
            ],
        };
        s
    }

    #[test]
    fn stepping_one_event_or_one_second_at_a_time_gives_the_output_of_run() {
        for scenario in [churning(1), churning(2), scripted()] {
            let whole = run(&scenario, &mut NoObserver).unwrap();
            let mut observer = NoObserver;
            let mut sim = Simulation::new(&scenario, &mut observer);
            let mut steps = 0u64;
            while sim.step().unwrap() == Progress::Running {
                steps += 1;
                assert_eq!(sim.events(), steps, "one event per step");
                if steps.is_multiple_of(50) {
                    let second = sim.now() + SimDuration::from_secs(1);
                    if let Progress::Ended(_) = sim.run_until(second).unwrap() {
                        break;
                    }
                    assert!(sim.next_event_at().is_none_or(|t| t > second));
                    steps = sim.events();
                }
            }
            assert_eq!(sim.step().unwrap(), Progress::Ended(whole.run.end_reason));
            assert_eq!(sim.finish().unwrap(), whole);
        }
    }

    #[test]
    fn finish_runs_what_is_left() {
        let scenario = churning(3);
        let whole = run(&scenario, &mut NoObserver).unwrap();
        let mut observer = NoObserver;
        let mut sim = Simulation::new(&scenario, &mut observer);
        assert_eq!(
            sim.run_until(SimTime::from_secs(4)).unwrap(),
            Progress::Running
        );
        assert_eq!(sim.finish().unwrap(), whole);
    }

    /// What the pool hooks and the clock hook saw.
    #[derive(Default)]
    struct Watcher {
        joined: Vec<WorkerId>,
        drained: Vec<WorkerId>,
        failed: Vec<WorkerId>,
        requeued: Vec<TestId>,
        times: Vec<SimTime>,
        /// How often to be told the time (`None`: every event).
        every: Option<SimDuration>,
    }

    impl Observer for Watcher {
        fn on_time(&mut self, now: SimTime) -> Result<SimTime> {
            self.times.push(now);
            Ok(self.every.map_or(now, |dt| now + dt))
        }
        fn on_join(&mut self, worker: WorkerId, _: &WorkerSpec, _: SimTime) -> Result<()> {
            self.joined.push(worker);
            Ok(())
        }
        fn on_drain(&mut self, worker: WorkerId, _: SimTime) -> Result<()> {
            self.drained.push(worker);
            Ok(())
        }
        fn on_fail(&mut self, worker: WorkerId, requeued: &[TestId], _: SimTime) -> Result<()> {
            self.failed.push(worker);
            self.requeued.extend_from_slice(requeued);
            Ok(())
        }
    }

    #[test]
    fn the_observer_sees_every_join_drain_and_failure_the_metrics_count() {
        for scenario in [churning(1), churning(4), scripted()] {
            let mut w = Watcher::default();
            let out = run(&scenario, &mut w).unwrap();
            let m = &out.metrics;
            assert_eq!(w.joined.len() as u64, m.workers_joined);
            assert_eq!(w.drained.len() as u64, m.workers_drained);
            assert_eq!(w.failed.len() as u64, m.workers_failed);
            assert!(m.workers_joined > 0 && m.workers_drained + m.workers_failed > 0);
            // Joiners get the next ids, in order.
            let first = scenario.workers;
            let ids: Vec<u32> = w.joined.iter().map(|w| w.0).collect();
            assert_eq!(ids, (first..first + ids.len() as u32).collect::<Vec<_>>());
        }
        let mut w = Watcher::default();
        run(&scripted(), &mut w).unwrap();
        assert_eq!((w.joined.len(), w.drained.len(), w.failed.len()), (5, 3, 2));
        assert!(!w.requeued.is_empty(), "the rack failed with tests on it");
    }

    #[test]
    fn the_clock_hook_is_called_when_the_observer_asks() {
        let scenario = churning(1);
        let mut every = Watcher::default();
        let out = run(&scenario, &mut every).unwrap();
        assert_eq!(every.times.len() as u64, out.run.events);
        assert!(every.times.windows(2).all(|t| t[0] <= t[1]));
        let mut paced = Watcher {
            every: Some(SimDuration::from_secs(1)),
            ..Watcher::default()
        };
        run(&scenario, &mut paced).unwrap();
        let second = SimDuration::from_secs(1);
        assert_eq!(paced.times[0], every.times[0], "the first event calls");
        for pair in paced.times.windows(2) {
            // The first event at or after the time asked for.
            let asked = pair[0] + second;
            let first = every.times.iter().find(|&&e| e >= asked);
            assert_eq!(first, Some(&pair[1]));
        }
        assert!(paced.times.len() < every.times.len());
    }
}
