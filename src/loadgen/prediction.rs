//! The simulator's prediction of what `lbsim load` plays: the same
//! arrivals, pool and run times, with only the model features the live
//! side has. The live side has no load drift, thermal phases, contention,
//! random churn or retries (a failed run is final), and its workers run at
//! the speed they registered with (1), so the prediction turns those off;
//! everything else (seed, arrivals, failures, timeouts) is the scenario's.
//!
//! With the scenario's own pool as embedded workers the prediction is the
//! scenario itself, so arrivals, pool and run times are drawn from the same
//! seed and are identical by construction. With an external fleet
//! (`--no-workers`) it is a replay: the tests as played, on the workers
//! that were registered when the load started, each run taking its
//! expected duration × the fleet's time scale × the speed (what
//! `lbsim worker --time-scale` does).

use crate::balancer::policy::SchedulerName;
use crate::engine::{self, NoObserver, RunOutput};
use crate::error::Result;
use crate::scenario::{Churn, LoadView, RecordedWorker, Scenario};
use crate::service::api::{WorkerStatusView, WorkerView};
use crate::sim::SimDuration;
use crate::workload::trace::recording::RecordedPool;
use crate::workload::trace::{replay_scenario, ReplayOptions, Trace, TraceFormat, TraceJob};
use crate::workload::{Arrival, ArrivalSource, SyntheticArrivals};

/// Which fleet ran the tests.
#[derive(Clone, Debug)]
pub(crate) enum PredictedFleet<'a> {
    /// The scenario's pool, run by `lbsim load` itself.
    Embedded,
    /// Workers of their own (`lbsim worker --time-scale S`): the ones
    /// registered at the start, and their time scale.
    External {
        workers: &'a [WorkerView],
        time_scale: f64,
        speed: f64,
    },
}

/// The scenario as the live side plays it: drift, thermal phases,
/// contention, random churn and retries off; every worker at speed 1.
pub(crate) fn like_live(s: &Scenario, scheduler: SchedulerName) -> Scenario {
    let mut p = s.clone();
    p.scheduler = scheduler;
    p.load.enabled = false;
    p.load.contention = false;
    p.load.view = LoadView::Live;
    p.load.reports = None;
    p.churn = Churn::None;
    p.test_profile.retries = 0;
    // Same length, so the pool's draws consume the same random numbers.
    p.worker_profile.speed = vec![1.0; p.worker_profile.speed.len().max(1)];
    p
}

/// Runs the prediction.
pub(crate) fn predict(
    s: &Scenario,
    scheduler: SchedulerName,
    fleet: &PredictedFleet,
) -> Result<RunOutput> {
    let scenario = like_live(s, scheduler);
    match fleet {
        PredictedFleet::Embedded => engine::run(&scenario, &mut NoObserver),
        PredictedFleet::External {
            workers,
            time_scale,
            speed,
        } => external(&scenario, workers, time_scale * speed),
    }
}

/// The tests as played on the external workers, each run its expected
/// duration × `factor` (scenario seconds per expected second).
fn external(s: &Scenario, workers: &[WorkerView], factor: f64) -> Result<RunOutput> {
    let streams = crate::sim::RngStreams::new(s.seed);
    let mut source = SyntheticArrivals::new(s, &streams);
    let arrivals: Vec<Arrival> = std::iter::from_fn(|| source.next_arrival()).collect();
    let mut trace = Trace::empty("live load", TraceFormat::Recording);
    trace.records = arrivals.len() as u64;
    trace.jobs = (arrivals.iter().enumerate())
        .map(|(i, a)| TraceJob {
            submit: a.time,
            run: SimDuration::from_secs_f64(a.spec.expected_duration.as_secs_f64() * factor),
            success: true,
            spec: a.spec.clone(),
            line: i as u64 + 1,
        })
        .collect();
    let joins = (workers.iter())
        .filter(|w| w.status != WorkerStatusView::Offline)
        .filter_map(|w| {
            let spec = w.capabilities.to_spec().ok()?;
            Some(RecordedWorker {
                at_s: 0.0,
                memory_gb: spec.memory_gb,
                memory_mib: spec.memory_mib,
                cpu_cores: spec.cpu_cores,
                cuda_devices: spec.cuda_devices,
                backends: spec
                    .backends
                    .names()
                    .iter()
                    .map(|b| b.to_string())
                    .collect(),
                name: w.name.clone(),
            })
        })
        .collect();
    trace.recorded = Some(RecordedPool {
        joins,
        ..RecordedPool::default()
    });
    let options = ReplayOptions {
        workers: None,
        scheduler: s.scheduler,
        seed: s.seed,
        time_scale: 1.0,
        load_factor: 1.0,
        cluster: None,
        balancing: Default::default(),
    };
    let mut replay = replay_scenario(&trace, &options)?;
    replay.scenario.balancing = s.balancing.clone();
    replay.scenario.horizon_s = replay.scenario.horizon_s.max(s.horizon_s);
    let arrivals = Box::new(crate::workload::trace::TraceArrivals::new(replay.jobs));
    engine::run_with(&replay.scenario, arrivals, &mut NoObserver)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prediction_has_only_what_the_live_side_plays() {
        let mut s = crate::scenario::StressOptions::default()
            .to_scenario()
            .unwrap();
        s.load.enabled = true;
        s.test_profile.retries = 2;
        s.worker_profile.speed = vec![0.5, 1.5];
        let p = like_live(&s, SchedulerName::RoundRobin);
        assert!(!p.load.enabled && !p.load.contention);
        assert_eq!(p.test_profile.retries, 0);
        assert_eq!(p.worker_profile.speed, vec![1.0, 1.0]);
        assert_eq!(p.scheduler, SchedulerName::RoundRobin);
        assert_eq!((p.seed, p.tests, p.workers), (s.seed, s.tests, s.workers));
    }
}
