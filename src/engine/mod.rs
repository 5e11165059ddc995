//! The simulation driver: feeds a workload's events through the balancer in
//! simulated time and hands every fact to the metrics and to an observer.

mod observer;

pub use observer::{Fanout, NoObserver, Observer};

use serde::Serialize;

use crate::balancer::model::{TestId, Thermal, WorkerId};
use crate::balancer::{Assignment, Balancer, TestRecord};
use crate::error::{Error, Result};
use crate::metrics::{Collector, Metrics, TimeSeries, WorkerRow};
use crate::scenario::Scenario;
use crate::sim::{EventQueue, IdMap, RngStreams, SimDuration, SimTime, Stream};
use crate::workload::{Arrival, ArrivalSource, Fate, Pool, RunModel, SyntheticArrivals};

/// Why the run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Every submitted test reached a final state.
    AllFinal,
    /// The horizon came first; live tests are reported as pending or running.
    Horizon,
}

/// How the run went, as a process (not as a balancer).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct RunInfo {
    pub end_reason: EndReason,
    pub end_time: f64,
    pub horizon: f64,
    pub events: u64,
    pub scheduling_passes: u64,
    pub decisions: u64,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutput {
    pub scenario: Scenario,
    pub metrics: Metrics,
    pub series: TimeSeries,
    pub workers: Vec<WorkerRow>,
    pub run: RunInfo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Arrival,
    /// A run ends; `epoch` tells a stale end (its worker failed) from a real one.
    RunEnd {
        test: TestId,
        epoch: u32,
        success: bool,
    },
    PoolCycle,
    /// A scripted churn action is due (see `Pool::scripted`).
    ScriptedChurn,
    ThermalEnd(WorkerId),
    /// Work stealing round (only when stealing is enabled).
    Steal,
    /// Rebalancing round (only when stealing is enabled).
    Rebalance,
    Horizon,
}

/// A live test's future, kept beside the balancer (which must not know it).
#[derive(Clone, Copy, Debug)]
struct Destiny {
    fate: Fate,
    runs: u32,
    failures: u32,
}

/// Runs a scenario with its synthetic workload.
pub fn run(scenario: &Scenario, observer: &mut dyn Observer) -> Result<RunOutput> {
    let streams = RngStreams::new(scenario.seed);
    let arrivals = SyntheticArrivals::new(scenario, &streams);
    run_with(scenario, Box::new(arrivals), observer)
}

/// Runs a scenario with any arrival source (a trace, say).
pub fn run_with(
    scenario: &Scenario,
    arrivals: Box<dyn ArrivalSource + '_>,
    observer: &mut dyn Observer,
) -> Result<RunOutput> {
    Simulation::new(scenario, arrivals, observer).run()
}

/// Like `run`, but checks the balancer's invariants and the clock after
/// every event, failing the run at the first violation. For property tests:
/// it costs O(workers) per event.
pub fn run_checked(scenario: &Scenario, observer: &mut dyn Observer) -> Result<RunOutput> {
    let streams = RngStreams::new(scenario.seed);
    let arrivals = SyntheticArrivals::new(scenario, &streams);
    let mut sim = Simulation::new(scenario, Box::new(arrivals), observer);
    sim.checked = true;
    sim.run()
}

struct Simulation<'a> {
    scenario: &'a Scenario,
    queue: EventQueue<Event>,
    balancer: Balancer,
    pool: Pool,
    arrivals: Box<dyn ArrivalSource + 'a>,
    next_arrival: Option<Arrival>,
    run_model: RunModel,
    destinies: IdMap<Destiny>,
    collector: Collector,
    observer: &'a mut dyn Observer,
    now: SimTime,
    events: u64,
    decisions: Vec<Assignment>,
    checked: bool,
}

impl<'a> Simulation<'a> {
    fn new(
        scenario: &'a Scenario,
        arrivals: Box<dyn ArrivalSource + 'a>,
        observer: &'a mut dyn Observer,
    ) -> Self {
        let streams = RngStreams::new(scenario.seed);
        let mut pool = Pool::new(scenario, &streams);
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
        Simulation {
            scenario,
            queue: EventQueue::with_capacity(1024),
            balancer,
            pool,
            arrivals,
            next_arrival: None,
            run_model: RunModel::from_profile(&scenario.test_profile),
            destinies: IdMap::default(),
            collector: Collector::new(scenario.duration_s),
            observer,
            now: SimTime::ZERO,
            events: 0,
            decisions: Vec::new(),
            checked: false,
        }
    }

    fn run(mut self) -> Result<RunOutput> {
        let horizon = SimTime::from_secs_f64(self.scenario.horizon_s);
        self.queue.push(horizon, Event::Horizon);
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
        let mut end_reason = EndReason::AllFinal;
        while let Some((t, event)) = self.queue.pop() {
            debug_assert!(t >= self.now, "time went backwards: {t} < {}", self.now);
            if self.checked && t < self.now {
                return Err(Error::Run(format!(
                    "time went backwards: {t} < {}",
                    self.now
                )));
            }
            self.now = t;
            self.events += 1;
            if event == Event::Horizon {
                end_reason = EndReason::Horizon;
                break;
            }
            self.handle(event)?;
            if self.queue.peek_time() != Some(self.now) {
                self.scheduling_pass()?;
            }
            if self.checked {
                self.balancer.check_invariants().map_err(|e| {
                    Error::Run(format!(
                        "invariant violated at {} (seed {}): {e}",
                        self.now, self.scenario.seed
                    ))
                })?;
            }
            if self.next_arrival.is_none() && self.balancer.live_len() == 0 {
                break;
            }
        }
        self.finish(end_reason, horizon)
    }

    fn handle(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Arrival => self.arrive()?,
            Event::RunEnd {
                test,
                epoch,
                success,
            } => {
                if self.balancer.is_current(test, epoch) {
                    self.run_ended(test, success)?;
                }
            }
            Event::PoolCycle => self.pool_cycle(),
            Event::ScriptedChurn => self.scripted_churn(),
            Event::ThermalEnd(worker) => self.balancer.set_thermal(worker, Thermal::Normal),
            Event::Steal | Event::Rebalance => self.move_runs(event)?,
            Event::Horizon => unreachable!("handled by the loop"),
        }
        Ok(())
    }

    fn schedule_next_arrival(&mut self) {
        self.next_arrival = self.arrivals.next_arrival();
        if let Some(a) = &self.next_arrival {
            let time = a.time.max(self.now);
            self.queue.push(time, Event::Arrival);
        }
    }

    fn arrive(&mut self) -> Result<()> {
        let a = self
            .next_arrival
            .take()
            .expect("an arrival event has an arrival");
        self.collector.on_submit();
        self.collector.on_arrival(self.now);
        match self.balancer.submit(a.id, a.spec, self.now) {
            Ok(()) => {
                self.destinies.insert(
                    a.id.0,
                    Destiny {
                        fate: a.fate,
                        runs: 0,
                        failures: 0,
                    },
                );
            }
            Err(rejected) => self.record_final(*rejected)?,
        }
        self.schedule_next_arrival();
        Ok(())
    }

    fn run_ended(&mut self, test: TestId, success: bool) -> Result<()> {
        let d = self
            .destinies
            .get_mut(test.0)
            .expect("a running test has a destiny");
        if !success {
            d.failures += 1;
            if d.failures <= self.run_model.retries {
                self.balancer.retry(test, self.now);
                return Ok(());
            }
        }
        let record = self.balancer.finish(test, self.now, success);
        self.record_final(record)
    }

    fn scripted_churn(&mut self) {
        let fx = self.pool.scripted(&mut self.balancer, self.now);
        self.collector.workers_joined += fx.joined.len() as u64;
        self.collector.workers_drained += fx.drained.len() as u64;
        self.collector.workers_failed += fx.failed.len() as u64;
        if let Some(t) = self.pool.next_scripted_at() {
            self.queue.push(t, Event::ScriptedChurn);
        }
    }

    fn pool_cycle(&mut self) {
        let fx = self.pool.cycle(&mut self.balancer, self.now);
        self.collector.workers_joined += fx.joined.len() as u64;
        self.collector.workers_drained += fx.drained.len() as u64;
        self.collector.workers_failed += fx.failed.len() as u64;
        for (worker, until) in fx.thermal_ends {
            self.queue.push(until, Event::ThermalEnd(worker));
        }
        if let Some(dt) = self.pool.next_cycle_in() {
            self.queue.push(self.now + dt, Event::PoolCycle);
        }
    }

    /// A stealing or rebalancing round: moved runs restart on their new
    /// worker (same nominal run time, new pace) and are logged as decisions.
    fn move_runs(&mut self, event: Event) -> Result<()> {
        let stealing = &self.scenario.balancing.stealing;
        let mut moved = Vec::new();
        let every = if event == Event::Steal {
            self.balancer.steal(self.now, &mut moved);
            stealing.steal_interval_s
        } else {
            self.balancer.rebalance(self.now, &mut moved);
            stealing.rebalance_interval_s
        };
        self.queue
            .push(self.now + SimDuration::from_secs_f64(every), event);
        for m in &moved {
            self.start_run(&m.assignment, true);
            self.collector.tests_moved += 1;
            self.observer.on_decision(&m.assignment)?;
        }
        Ok(())
    }

    fn scheduling_pass(&mut self) -> Result<()> {
        let mut decisions = std::mem::take(&mut self.decisions);
        self.balancer.schedule(self.now, &mut decisions);
        for a in &decisions {
            self.start_run(a, false);
            let first_latency = (a.epoch == 1).then(|| {
                self.balancer
                    .test(a.test)
                    .map_or(0.0, |t| (a.time - t.submitted_at).as_secs_f64())
            });
            self.collector.on_assign(a, first_latency);
            self.observer.on_decision(a)?;
        }
        decisions.clear();
        self.decisions = decisions;
        self.collector.on_state(
            self.now,
            self.balancer.pending_len(),
            self.balancer.active_workers(),
        );
        self.collector.on_pool(self.now, &self.balancer);
        Ok(())
    }

    /// Decides how long this run takes on its worker and whether it fails.
    /// A moved run repeats its attempt's draws: only the pace differs.
    fn start_run(&mut self, a: &Assignment, moved: bool) {
        let spec = &self
            .balancer
            .test(a.test)
            .expect("assigned test is live")
            .spec;
        let d = self
            .destinies
            .get_mut(a.test.0)
            .expect("a live test has a destiny");
        if moved {
            d.runs -= 1;
        }
        let (nominal, fails) = self.run_model.attempt(&d.fate, spec, d.runs);
        d.runs += 1;
        let w = self.balancer.worker(a.worker);
        let mut pace = w.spec.speed * w.performance_level();
        if self.scenario.load.contention {
            pace /= crate::workload::contention::slowdown(w.effective_load());
        }
        let mut run = SimDuration::from_secs_f64(nominal.as_secs_f64() / pace);
        let mut success = !fails;
        if let Some(limit) = self.run_model.timeout {
            if run > limit {
                run = limit;
                success = false;
            }
        }
        self.queue.push(
            self.now + run,
            Event::RunEnd {
                test: a.test,
                epoch: a.epoch,
                success,
            },
        );
    }

    fn record_final(&mut self, record: TestRecord) -> Result<()> {
        self.destinies.remove(record.id.0);
        self.collector.on_final(&record);
        self.observer.on_final(&record)
    }

    fn finish(mut self, end_reason: EndReason, horizon: SimTime) -> Result<RunOutput> {
        for record in self.balancer.finalize_remaining(self.now) {
            self.record_final(record)?;
        }
        let counters = self.balancer.counters();
        let (metrics, series, workers) = self.collector.finish(&self.balancer, self.now);
        Ok(RunOutput {
            scenario: self.scenario.clone(),
            metrics,
            series,
            workers,
            run: RunInfo {
                end_reason,
                end_time: self.now.as_secs_f64(),
                horizon: horizon.as_secs_f64(),
                events: self.events,
                scheduling_passes: counters.passes,
                decisions: counters.decisions,
            },
        })
    }
}
