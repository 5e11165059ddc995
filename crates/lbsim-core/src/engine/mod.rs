//! The simulation driver: feeds a workload's events through the balancer in
//! simulated time and hands every fact to the metrics and to an observer.
//!
//! `run` runs a scenario to its end; a `Simulation` runs it one event at a
//! time, for a live view that pauses, steps and advances:
//!
//! ```
//! use lbsim_core::engine::{NoObserver, Progress, Simulation};
//! use lbsim_core::scenario::StressOptions;
//! use lbsim_core::sim::SimDuration;
//!
//! let scenario = StressOptions { workers: 5, tests: 200, ..Default::default() }.to_scenario()?;
//! let mut observer = NoObserver;
//! let mut sim = Simulation::new(&scenario, &mut observer);
//! assert_eq!(sim.step()?, Progress::Running); // one event
//! let one_second_on = sim.now() + SimDuration::from_secs(1);
//! sim.run_until(one_second_on)?; // every event up to then
//! let out = sim.finish()?; // the rest, and the output
//! assert_eq!(out.metrics.total_tests, 200);
//! # Ok::<(), lbsim_core::Error>(())
//! ```

mod apply;
mod events;
mod observer;
mod step;

pub(crate) use observer::Fanout;
pub use observer::{NoObserver, Observer};

use serde::Serialize;

use crate::balancer::model::{TestId, WorkerId};
use crate::balancer::{Assignment, Balancer};
use crate::error::Result;
use crate::metrics::{Collector, Distributions, Metrics, TimeSeries, WorkerRow};
use crate::scenario::Scenario;
use crate::sim::{EventQueue, SimTime};
use crate::workload::{Arrival, ArrivalSource, Pool, RunModel};

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
    /// Why the run stopped: every test final, or the horizon.
    pub end_reason: EndReason,
    /// Simulated seconds when it stopped.
    pub end_time: f64,
    /// The scenario's horizon, simulated seconds (the run may end earlier).
    pub horizon: f64,
    /// Events the queue handed out: the run's size, for `--stats`.
    pub events: u64,
    /// Scheduling passes the balancer ran.
    pub scheduling_passes: u64,
    /// Assignments the balancer made (a requeued test counts again).
    pub decisions: u64,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutput {
    /// The scenario that ran, as validated (the results carry it).
    pub scenario: Scenario,
    /// The summary the results and the text report are written from.
    pub metrics: Metrics,
    /// Per-interval samples, for charts and the dashboard.
    pub series: TimeSeries,
    /// One row per worker that took part.
    pub workers: Vec<WorkerRow>,
    /// How the run went as a process.
    pub run: RunInfo,
    /// Whole distributions (quantile points), for charts.
    pub distributions: Distributions,
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

/// Where a run stands after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Events are left; the run goes on.
    Running,
    /// The run is over; `Simulation::finish` gives its output.
    Ended(EndReason),
}

/// Runs a scenario with its synthetic workload.
pub fn run(scenario: &Scenario, observer: &mut dyn Observer) -> Result<RunOutput> {
    Simulation::new(scenario, observer).run()
}

/// Runs a scenario with any arrival source (a trace, say).
pub fn run_with(
    scenario: &Scenario,
    arrivals: Box<dyn ArrivalSource + '_>,
    observer: &mut dyn Observer,
) -> Result<RunOutput> {
    Simulation::with_arrivals(scenario, arrivals, observer).run()
}

/// Like `run`, but checks the balancer's invariants and the clock after
/// every event, failing the run at the first violation. For property tests:
/// it costs O(workers) per event.
pub fn run_checked(scenario: &Scenario, observer: &mut dyn Observer) -> Result<RunOutput> {
    Simulation::new(scenario, observer).with_checks().run()
}

/// One run in progress: the event queue, the balancer, the workload and the
/// tally. Built by `Simulation::new`, advanced by `step`, `run_until` or
/// `run`, summed up by `finish`.
pub struct Simulation<'a> {
    scenario: &'a Scenario,
    queue: EventQueue<Event>,
    balancer: Balancer,
    pool: Pool,
    arrivals: Box<dyn ArrivalSource + 'a>,
    next_arrival: Option<Arrival>,
    run_model: RunModel,
    collector: Collector,
    observer: &'a mut dyn Observer,
    now: SimTime,
    horizon: SimTime,
    events: u64,
    /// Scratch space of a scheduling pass, kept to avoid an allocation per pass.
    decisions: Vec<Assignment>,
    checked: bool,
    ended: Option<EndReason>,
    /// The first event at or after this time calls `Observer::on_time`.
    watch_from: SimTime,
}
