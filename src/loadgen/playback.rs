//! `lbsim load`: plays a scenario's arrivals against a live coordinator in
//! wall-clock time at X× speed, with the scenario's initial pool as embedded
//! fake workers running the scenario's own run times, then reads the
//! service's records back and summarises them like a simulation.
//!
//! The arrivals are `workload::SyntheticArrivals`, the pool is drawn by
//! `workload::Pool` and the run times by `workload::RunModel`: the same
//! tests, workers and run times the simulator would use for that seed.
//! Churn, load drift and thermal phases are not played: those come from the
//! live system. A failed run is final (the service has no retries).

use super::fleet::{Fleet, FleetOptions, RunPlan};
use super::results::{from_records, TimeBase};
use super::{initial_pool, registration};
use crate::client::{Client, ClientError};
use crate::engine::RunOutput;
use crate::scenario::Scenario;
use crate::sim::RngStreams;
use crate::workload::{Arrival, ArrivalSource, RunModel, SyntheticArrivals};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to play, and where.
#[derive(Clone, Debug)]
pub(crate) struct LoadOptions {
    pub(crate) scenario: Scenario,
    pub(crate) url: String,
    pub(crate) token: Option<String>,
    /// Scenario seconds per wall second.
    pub(crate) speed: f64,
    /// Start the scenario's pool as embedded fake workers.
    pub(crate) embedded_workers: bool,
}

/// What a load run measured.
pub(crate) struct LoadRun {
    pub(crate) out: RunOutput,
    /// Test ids the service gave, in arrival order.
    pub(crate) test_ids: Vec<u64>,
    pub(crate) wall_s: f64,
    /// What `/v1/status` names as the coordinator's policy.
    pub(crate) scheduler: String,
    /// The workers registered when the load started (before any embedded
    /// worker): the external fleet, for the prediction.
    pub(crate) fleet: Vec<crate::service::api::WorkerView>,
}

/// Why a load run failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    #[error(transparent)]
    Client(#[from] ClientError),
}

#[allow(clippy::disallowed_methods)] // wall-clock playback is the point
fn now() -> Instant {
    Instant::now()
}

fn status_num(status: &serde_json::Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(status, |v, k| &v[*k])
        .as_u64()
        .unwrap_or(0)
}

fn status_time(status: &serde_json::Value) -> f64 {
    status["now"].as_f64().unwrap_or(0.0)
}

/// Plays the scenario and returns its measured output.
pub(crate) fn play(o: &LoadOptions) -> Result<LoadRun, LoadError> {
    let client = Client::new(&o.url, o.token.clone());
    let s = &o.scenario;
    let streams = RngStreams::new(s.seed);
    let arrivals: Vec<Arrival> = {
        let mut a = SyntheticArrivals::new(s, &streams);
        std::iter::from_fn(|| a.next_arrival()).collect()
    };
    let before = client.status()?;
    let base_id = status_num(&before, &["tests", "submitted"]);
    let scheduler = before["scheduler"].as_str().unwrap_or("").to_string();
    let fleet_before = client.list_workers()?.workers;
    let fleet = if o.embedded_workers {
        let workers = initial_pool(s)
            .iter()
            .enumerate()
            .map(|(i, spec)| registration(spec, format!("load-{i}")))
            .collect();
        let options = FleetOptions {
            workers,
            time_scale: 1.0 / o.speed,
            fail_rate: 0.0,
            seed: s.seed,
            plan: Some(plan(s, &arrivals, base_id)),
        };
        Some(Fleet::start(client.clone(), options)?)
    } else {
        None
    };
    let t0 = status_time(&client.status()?);
    let started = now();
    let test_ids = submit_all(&client, &arrivals, o.speed, started)?;
    if test_ids.first() != Some(&(base_id + 1)) {
        tracing::warn!("another client submitted during the load: run times may be off");
    }
    let limit = Duration::from_secs_f64(s.horizon_s / o.speed + 30.0);
    wait_until_final(&client, started, limit)?;
    let polled = status_time(&client.status()?);
    // Read before the fleet drains, so its workers end the run active.
    let tests = client.all_tests(base_id)?;
    let end = end_of(&tests, polled);
    let workers = client.list_workers()?.workers;
    if let Some(f) = fleet {
        f.stop();
    }
    let base = TimeBase { t0, speed: o.speed };
    Ok(LoadRun {
        out: from_records(s, &tests, &workers, base, end),
        test_ids,
        wall_s: started.elapsed().as_secs_f64(),
        scheduler,
        fleet: fleet_before,
    })
}

/// The run's end: its last test's end when every test is final (as a
/// simulation ends at its last final event; the poll that saw it comes up
/// to 100 ms of wall time later, × the speed), else the poll's time.
fn end_of(tests: &[crate::service::api::TestView], polled: f64) -> f64 {
    if tests.iter().all(|t| t.state.is_final()) {
        let last = tests
            .iter()
            .filter_map(|t| t.finished_at)
            .fold(0.0, f64::max);
        if last > 0.0 {
            return last;
        }
    }
    polled
}

/// The embedded workers' run times: the scenario's draws for each test.
fn plan(s: &Scenario, arrivals: &[Arrival], base_id: u64) -> RunPlan {
    let model = RunModel::from_profile(&s.test_profile);
    let tests: Vec<_> = arrivals.iter().map(|a| (a.fate, a.spec.clone())).collect();
    Arc::new(move |id, attempt| {
        let k = usize::try_from(id.checked_sub(base_id + 1)?).ok()?;
        let (fate, spec) = tests.get(k)?;
        let (nominal, fails) = model.attempt(fate, spec, attempt.saturating_sub(1));
        let mut run = nominal.as_secs_f64();
        let mut success = !fails;
        if let Some(limit) = model.timeout.filter(|l| nominal > *l) {
            run = limit.as_secs_f64();
            success = false;
        }
        Some((run, success))
    })
}

/// Submits each arrival at its time (arrivals at one time in one request).
fn submit_all(
    c: &Client,
    arrivals: &[Arrival],
    speed: f64,
    started: Instant,
) -> Result<Vec<u64>, LoadError> {
    let mut ids = Vec::with_capacity(arrivals.len());
    let mut i = 0;
    while i < arrivals.len() {
        let at = arrivals[i].time;
        let same = arrivals[i..].iter().take_while(|a| a.time == at).count();
        let due = started + Duration::from_secs_f64(at.as_secs_f64() / speed);
        std::thread::sleep(due.saturating_duration_since(now()));
        let batch = arrivals[i..i + same]
            .iter()
            .map(|a| request_of(&a.spec))
            .collect();
        ids.extend(c.submit_tests(batch)?.test_ids);
        i += same;
    }
    Ok(ids)
}

/// The request that makes the service build exactly this spec.
fn request_of(spec: &crate::balancer::model::TestSpec) -> crate::service::api::TestRequest {
    crate::service::api::TestRequest {
        memory_gb: spec.memory_mib as f64 / crate::balancer::model::MIB_PER_GB,
        cuda_devices: spec.cuda_devices,
        cpu_cores: spec.cpu_cores,
        backend: spec
            .backend
            .and_then(|b| b.names().first().map(|s| s.to_string())),
        priority: spec.priority,
        expected_duration_s: Some(spec.expected_duration.as_secs_f64()),
        concurrency_key: spec.concurrency_key.map(|k| format!("key-{k}")),
        test_type: None,
        model_family: Some(format!("family-{}", spec.model_family)),
        ..Default::default()
    }
}

/// Polls `/v1/status` until no test is live, or the limit passes.
fn wait_until_final(c: &Client, started: Instant, limit: Duration) -> Result<(), LoadError> {
    loop {
        let s = c.status()?;
        let live: u64 = ["pending", "assigned", "running"]
            .iter()
            .map(|k| status_num(&s, &["tests", k]))
            .sum();
        if live == 0 {
            return Ok(());
        }
        if started.elapsed() > limit {
            tracing::warn!(
                "{live} tests still live at the time limit; reported as pending or running"
            );
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
