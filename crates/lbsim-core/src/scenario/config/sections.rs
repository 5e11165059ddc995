//! Each raw config section to its validated part: the file's names and
//! defaults are applied here, then the section's own check (the one a
//! hand-built scenario passes too) runs under the section's path in the file.
//! Errors name fields only; the caller adds the file.

use super::raw::*;
use crate::balancer::options::BalancerOptions;
use crate::balancer::policy::{CompositeWeights, SchedulerName};
use crate::error::Result;
use crate::scenario::check::{FieldPath, AT_LEAST_ONE, COUNT, POSITIVE_SECONDS, PRIORITY};
use crate::scenario::*;

/// The reference's `retries` and `timeout` defaults.
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_TIMEOUT_S: f64 = 3600.0;

/// `(workers, tests, duration)`; a missing duration stays `None`.
pub(super) fn test_config(path: &FieldPath, t: &RawTestConfig) -> Result<(u32, u64, Option<f64>)> {
    let workers = match t.workers {
        None => DEFAULT_WORKERS,
        Some(n) => AT_LEAST_ONE.convert(&path.field("workers"), n)?,
    };
    let tests = match t.tests {
        None => DEFAULT_TESTS,
        Some(n) => AT_LEAST_ONE.convert(&path.field("tests"), n)?,
    };
    if let Some(d) = t.duration {
        POSITIVE_SECONDS.check(&path.field("duration"), d)?;
    }
    Ok((workers, tests, t.duration))
}

pub(super) fn worker_profile(path: &FieldPath, w: &RawWorkerProfile) -> Result<WorkerProfile> {
    let d = WorkerProfile::default();
    let cuda = COUNT.convert_list(&path.field("cuda_distribution"), &w.cuda_distribution)?;
    let cpu = AT_LEAST_ONE.convert_list(
        &path.field("cpu_cores_distribution"),
        &w.cpu_cores_distribution,
    )?;
    let profile = WorkerProfile {
        memory_gb: w.memory_distribution.clone().unwrap_or(d.memory_gb),
        cuda_devices: cuda.unwrap_or(d.cuda_devices),
        cpu_cores: cpu.unwrap_or(d.cpu_cores),
        speed: w.speed_distribution.clone().unwrap_or(d.speed),
        usable_memory_fraction: w.usable_memory_fraction.unwrap_or(d.usable_memory_fraction),
    };
    profile.check(path)?;
    Ok(profile)
}

pub(super) fn test_profile(path: &FieldPath, t: &RawTestProfile) -> Result<TestProfile> {
    let d = TestProfile::default();
    let count = |field: &str, x: Option<i64>, default: u32| -> Result<u32> {
        x.map_or(Ok(default), |x| COUNT.convert(&path.field(field), x))
    };
    let families = match t.model_families {
        None => d.model_families,
        Some(m) => AT_LEAST_ONE.convert(&path.field("model_families"), m)?,
    };
    let profile = TestProfile {
        memory_gb: t.memory_requirements.clone().unwrap_or(d.memory_gb),
        cuda_devices: COUNT
            .convert_list(&path.field("cuda_requirements"), &t.cuda_requirements)?
            .unwrap_or(d.cuda_devices),
        priorities: PRIORITY
            .convert_list(
                &path.field("priority_distribution"),
                &t.priority_distribution,
            )?
            .unwrap_or(d.priorities),
        cpu_cores: COUNT
            .convert_list(&path.field("cpu_requirements"), &t.cpu_requirements)?
            .unwrap_or(d.cpu_cores),
        expected_duration_s: t.expected_duration.unwrap_or(d.expected_duration_s),
        duration: t.duration_distribution.clone().unwrap_or(d.duration),
        failure_probability: t.failure_probability.unwrap_or(d.failure_probability),
        retries: count("retries", t.retries, DEFAULT_RETRIES)?,
        timeout_s: Some(t.timeout.unwrap_or(DEFAULT_TIMEOUT_S)),
        model_families: families,
        concurrency_keys: count("concurrency_keys", t.concurrency_keys, d.concurrency_keys)?,
        concurrency_key_probability: t
            .concurrency_key_probability
            .unwrap_or(d.concurrency_key_probability),
    };
    profile.check(path)?;
    Ok(profile)
}

/// The pattern (from `burst_mode` when `arrivals` is absent) with its
/// defaults for `window` and its spikes; `burst_mode` must agree with it.
pub(super) fn arrivals(path: &FieldPath, s: &RawScenario, window: Window) -> Result<Arrivals> {
    let (base, spikes) = match &s.arrivals {
        None if s.burst_mode == Some(true) => (Arrivals::Bursts, &[][..]),
        None => (Arrivals::Even, &[][..]),
        Some(raw) => (raw.pattern.clone(), &raw.spikes[..]),
    };
    if let (Some(burst), Some(_)) = (s.burst_mode, &s.arrivals) {
        if burst != (base == Arrivals::Bursts) {
            return Err(path.field("burst_mode").error("contradicts arrivals.type"));
        }
    }
    let spikes = spikes.iter().map(RawSpike::to_spike).collect();
    let mut arrivals = base.with_spikes(spikes);
    arrivals.fill_defaults(window);
    arrivals.check(&path.field("arrivals"), window.duration_s)?;
    Ok(arrivals)
}

impl RawSpike {
    fn to_spike(&self) -> Spike {
        Spike {
            start_s: self.start,
            length_s: self.length,
            multiplier: self.multiplier,
            ramp_s: self.ramp,
        }
    }
}

/// The churn (from `dynamic_workers` when `churn` is absent); a random
/// churn's missing rates are the reference's. `dynamic_workers` must agree.
pub(super) fn churn(path: &FieldPath, s: &RawScenario) -> Result<Churn> {
    let churn = match &s.churn {
        None if s.dynamic_workers == Some(true) => Churn::reference(),
        None | Some(RawChurn::None) => Churn::None,
        Some(RawChurn::Random(r)) => random(r),
        Some(RawChurn::Timeline { events }) => timeline(&path.field("churn"), events)?,
    };
    if let (Some(dynamic), Some(_)) = (s.dynamic_workers, &s.churn) {
        if dynamic == matches!(churn, Churn::None) {
            return Err(path
                .field("dynamic_workers")
                .error("contradicts churn.type"));
        }
    }
    churn.check(&path.field("churn"))?;
    Ok(churn)
}

/// The reference's random churn with the rates the file gives.
fn random(r: &RawRandomChurn) -> Churn {
    let mut churn = Churn::reference();
    if let Churn::Random {
        join_probability,
        leave_probability,
        fail_fraction,
        max_factor,
        min_factor,
    } = &mut churn
    {
        let fill = |to: &mut f64, from: Option<f64>| *to = from.unwrap_or(*to);
        fill(join_probability, r.join_probability);
        fill(leave_probability, r.leave_probability);
        fill(fail_fraction, r.fail_fraction);
        fill(max_factor, r.max_factor);
        fill(min_factor, r.min_factor);
    }
    churn
}

fn timeline(path: &FieldPath, events: &[RawChurnEvent]) -> Result<Churn> {
    let mut out = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let count = match e.count {
            None => 1,
            Some(c) => AT_LEAST_ONE.convert(&path.field("events").index(i).field("count"), c)?,
        };
        out.push(ChurnEvent {
            at_s: e.at,
            action: e.action,
            count,
            every_s: e.every,
            replace: e.replace,
        });
    }
    Ok(Churn::Timeline { events: out })
}

pub(super) fn load(path: &FieldPath, raw: &Option<RawLoad>) -> Result<LoadModel> {
    let d = LoadModel::default();
    let Some(r) = raw else { return Ok(d) };
    let load = LoadModel {
        cycle_min_s: r.cycle_min.unwrap_or(d.cycle_min_s),
        cycle_max_s: r.cycle_max.unwrap_or(d.cycle_max_s),
        update_probability: r.update_probability.unwrap_or(d.update_probability),
        thermal_probability: r.thermal_probability.unwrap_or(d.thermal_probability),
        warming_s: r.warming.unwrap_or(d.warming_s),
        cooling_s: r.cooling.unwrap_or(d.cooling_s),
        enabled: r.enabled.unwrap_or(d.enabled),
        contention: r.contention.unwrap_or(d.contention),
        view: r.view.unwrap_or(d.view),
        reports: None,
    };
    let load = with_reports(path, r, load)?;
    load.check(path)?;
    Ok(load)
}

/// The reported view's pace, filled with the service's numbers; pace
/// fields with the live view are refused rather than ignored.
fn with_reports(path: &FieldPath, r: &RawLoad, mut load: LoadModel) -> Result<LoadModel> {
    let given = [
        ("report_rate", r.report_rate),
        ("report_interval", r.report_interval),
    ];
    if load.view == LoadView::Live {
        if let Some((name, _)) = given.iter().find(|(_, v)| v.is_some()) {
            return Err(path
                .field(name)
                .error("applies only with \"view\": \"reported\""));
        }
        return Ok(load);
    }
    let d = ReportPace::default();
    load.reports = Some(ReportPace {
        per_second: r.report_rate.unwrap_or(d.per_second),
        min_interval_s: r.report_interval.unwrap_or(d.min_interval_s),
    });
    Ok(load)
}

/// Composite weights and work stealing; a `work_stealing` section turns
/// stealing on unless it says otherwise, and fills the gaps with the
/// reference service's numbers.
pub(super) fn balancing(path: &FieldPath, s: &RawScenario) -> Result<BalancerOptions> {
    let mut b = BalancerOptions::default();
    let weights_path = path.field("composite_weights");
    if let Some(raw) = &s.composite_weights {
        let mut weights = indexmap::IndexMap::new();
        for (name, &w) in raw {
            let policy = SchedulerName::parse(name)
                .map_err(|m| weights_path.field(name).error(m.to_string()))?;
            weights.insert(policy, w);
        }
        b.composite_weights = CompositeWeights(weights);
    }
    if let Some(r) = &s.work_stealing {
        let d = &mut b.stealing;
        d.enabled = r.enabled.unwrap_or(true);
        d.steal_interval_s = r.steal_interval.unwrap_or(d.steal_interval_s);
        d.rebalance_interval_s = r.rebalance_interval.unwrap_or(d.rebalance_interval_s);
        d.idle_threshold = r.idle_threshold.unwrap_or(d.idle_threshold);
        d.busy_threshold = r.busy_threshold.unwrap_or(d.busy_threshold);
        d.overload_threshold = r.overload_threshold.unwrap_or(d.overload_threshold);
        d.max_transfers = r.max_transfers.unwrap_or(d.max_transfers);
        d.max_steals = r.max_steals.unwrap_or(d.max_steals);
        d.restart_cost_s = r.restart_cost.unwrap_or(d.restart_cost_s);
    }
    crate::scenario::balancing::check(&b, &weights_path, &path.field("work_stealing"))?;
    Ok(b)
}
