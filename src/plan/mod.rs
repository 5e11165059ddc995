//! Capacity planning (`lbsim plan`): the smallest worker pool that meets
//! every target, for each policy.
//!
//! Each pool size is run `R` times with the seeds `seed, seed+1, …`, the
//! same seeds at every pool size and for every policy (common random
//! numbers: two pools differ by the pool, not by the draw of tests). A pool
//! meets a target when the mean over its replications does; the 95 %
//! Student-t interval of each mean is reported beside it. The pool is
//! searched by doubling from `--min`, then bisection (see [`search`]).
//! A run that leaves tests unfinished at the horizon never meets.
//!
//! Replications run on `jobs` threads through the sweep's ordered runner,
//! and the search moves only on finished rounds, so the plan is the same
//! bytes for any thread count.

mod eval;
mod report;
pub(crate) mod search;
pub(crate) mod targets;

pub(crate) use eval::{metrics_doc, PlanSource, Sample};
pub(crate) use report::{charts, text};
pub(crate) use targets::Target;

use crate::balancer::policy::SchedulerName;
use crate::error::Result;
use crate::scenario::EnvSettings;
use crate::sweep::{run_in_order, Estimate};
use search::{first_met_then_missed, first_reversal, Search};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

/// How the confidence intervals are computed, as the plan states it.
pub(crate) const CONFIDENCE: &str =
    "95 % Student t: mean ± t(0.975, R-1)·s/√R over the R replications";

/// What a pool must do to meet a target, as the plan states it.
pub(crate) const RULE: &str = "a pool meets a target when the mean over its replications does, and every run finished every test";

/// What to plan.
#[derive(Clone, Debug)]
pub(crate) struct PlanOptions {
    pub(crate) targets: Vec<Target>,
    pub(crate) schedulers: Vec<SchedulerName>,
    pub(crate) replications: u32,
    pub(crate) seed: u64,
    pub(crate) min: u32,
    pub(crate) max: u32,
    /// Threads running replications.
    pub(crate) jobs: usize,
}

/// A finished plan: what was asked and, per policy, the curve and answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Plan {
    pub(crate) source: String,
    pub(crate) targets: Vec<Target>,
    pub(crate) replications: u32,
    /// The seeds of the replications, the same at every pool size.
    pub(crate) seeds: Vec<u64>,
    pub(crate) confidence: &'static str,
    pub(crate) rule: &'static str,
    pub(crate) min: u32,
    pub(crate) max: u32,
    pub(crate) policies: Vec<PolicyPlan>,
}

/// One policy's search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct PolicyPlan {
    pub(crate) scheduler: SchedulerName,
    /// The smallest pool that met every target; `null` if `max` missed.
    pub(crate) workers: Option<u32>,
    /// Every metric moved the target's way as the pool grew, over the
    /// evaluated pools, and no pool met below one that missed.
    pub(crate) monotone: bool,
    pub(crate) warnings: Vec<String>,
    /// Every evaluated pool, smallest first.
    pub(crate) curve: Vec<Point>,
}

/// One evaluated pool size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Point {
    pub(crate) workers: u32,
    /// Every replication finished every test before the horizon.
    pub(crate) finished: bool,
    pub(crate) meets: bool,
    /// One per target, in the order of the targets.
    pub(crate) metrics: Vec<MetricPoint>,
}

/// One target's metric at one pool size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct MetricPoint {
    pub(crate) metric: String,
    pub(crate) mean: f64,
    /// `null` with a single replication.
    pub(crate) ci95: Option<(f64, f64)>,
    /// Each replication's value, in seed order.
    pub(crate) values: Vec<f64>,
}

/// Runs the search for every policy of `opts` on `source`.
pub(crate) fn plan(
    source: &PlanSource,
    name: &str,
    opts: &PlanOptions,
    env: &EnvSettings,
) -> Result<Plan> {
    let r = opts.replications.max(1) as usize;
    let seeds: Vec<u64> = (0..r as u64).map(|i| opts.seed.wrapping_add(i)).collect();
    let mut searches: Vec<Search> = opts
        .schedulers
        .iter()
        .map(|_| Search::new(opts.min, opts.max))
        .collect();
    let mut curves: Vec<BTreeMap<u32, Point>> = vec![BTreeMap::new(); searches.len()];
    loop {
        let probes: Vec<(usize, u32)> = (searches.iter().enumerate())
            .filter_map(|(i, s)| s.next().map(|n| (i, n)))
            .collect();
        if probes.is_empty() {
            break;
        }
        let items: Vec<usize> = (0..probes.len() * r).collect();
        let mut samples: Vec<Sample> = Vec::with_capacity(items.len());
        let work = |k: usize| {
            let (policy, workers) = probes[k / r];
            let scheduler = opts.schedulers[policy];
            source.sample(env, &opts.targets, workers, scheduler, seeds[k % r])
        };
        run_in_order(&items, opts.jobs, &AtomicBool::new(false), work, |_, s| {
            samples.push(s);
            Ok(())
        })?;
        for (chunk, &(policy, workers)) in samples.chunks(r).zip(&probes) {
            let point = point(workers, chunk, &opts.targets);
            searches[policy].record(point.meets);
            curves[policy].insert(workers, point);
        }
    }
    let policies = (opts.schedulers.iter().zip(searches).zip(curves))
        .map(|((&scheduler, search), curve)| {
            policy_plan(
                scheduler,
                search.answer(),
                curve.into_values().collect(),
                &opts.targets,
            )
        })
        .collect();
    Ok(Plan {
        source: name.to_string(),
        targets: opts.targets.clone(),
        replications: r as u32,
        seeds,
        confidence: CONFIDENCE,
        rule: RULE,
        min: opts.min,
        max: opts.max,
        policies,
    })
}

/// Checks every target's metric against the results of a real (tiny) run,
/// before a plan runs anything long.
pub(crate) fn check_targets(targets: &[Target]) -> Result<()> {
    let scenario = crate::scenario::StressOptions {
        workers: 1,
        tests: 1,
        ..Default::default()
    }
    .to_scenario()?;
    let output = crate::engine::run(&scenario, &mut crate::engine::NoObserver)?;
    let doc = metrics_doc(&output)?;
    targets.iter().try_for_each(|t| t.check(&doc))
}

/// A pool's replications, summarised per target.
fn point(workers: u32, samples: &[Sample], targets: &[Target]) -> Point {
    let finished = samples.iter().all(|s| s.finished);
    let metrics: Vec<MetricPoint> = (targets.iter().enumerate())
        .map(|(i, t)| {
            let values: Vec<f64> = samples.iter().map(|s| s.values[i]).collect();
            let e = Estimate::of(&values);
            MetricPoint {
                metric: t.metric.clone(),
                mean: e.map_or(f64::NAN, |e| e.mean),
                ci95: e.and_then(|e| e.ci95),
                values,
            }
        })
        .collect();
    let meets =
        finished && (targets.iter().zip(&metrics)).all(|(t, m)| t.direction.meets(m.mean, t.value));
    Point {
        workers,
        finished,
        meets,
        metrics,
    }
}

/// The answer with the curve's checks: monotone metrics, monotone
/// meeting, unfinished pools, and targets inside an interval at the answer.
fn policy_plan(
    scheduler: SchedulerName,
    workers: Option<u32>,
    curve: Vec<Point>,
    targets: &[Target],
) -> PolicyPlan {
    let mut warnings = Vec::new();
    let finished: Vec<&Point> = curve.iter().filter(|p| p.finished).collect();
    let mut monotone = true;
    for (i, t) in targets.iter().enumerate() {
        let means: Vec<(u32, f64)> = finished
            .iter()
            .map(|p| (p.workers, p.metrics[i].mean))
            .collect();
        if let Some(r) = first_reversal(&means, t.direction) {
            monotone = false;
            let ci = |w: u32| {
                finished
                    .iter()
                    .find(|p| p.workers == w)
                    .and_then(|p| p.metrics[i].ci95)
            };
            let overlap = match (ci(r.from), ci(r.to)) {
                (Some(a), Some(b)) if a.0 <= b.1 && b.0 <= a.1 => {
                    "; the 95 % intervals overlap, so it may be noise"
                }
                _ => "",
            };
            warnings.push(format!(
                "{} is not monotone in the pool over the evaluated points: {} at {} workers, {} at {}{overlap}",
                t.metric,
                num(r.from_value),
                r.from,
                num(r.to_value),
                r.to
            ));
        }
    }
    let met: Vec<(u32, bool)> = curve.iter().map(|p| (p.workers, p.meets)).collect();
    if let Some((ok, bad)) = first_met_then_missed(&met) {
        monotone = false;
        warnings.push(format!(
            "{ok} workers meet every target but {bad} do not: the answer assumes a larger pool never misses"
        ));
    }
    if let Some(last) = curve
        .iter()
        .filter(|p| !p.finished)
        .map(|p| p.workers)
        .max()
    {
        warnings.push(format!(
            "runs of {last} workers (and any unfinished smaller pool) left tests unfinished at the horizon: counted as missing"
        ));
    }
    if let Some(p) = workers.and_then(|w| curve.iter().find(|p| p.workers == w)) {
        for (t, m) in targets.iter().zip(&p.metrics) {
            if m.ci95
                .is_some_and(|(lo, hi)| lo <= t.value && t.value <= hi)
            {
                warnings.push(format!(
                    "at {} workers the interval of {} holds the bound {}: more replications would settle it",
                    p.workers,
                    t.metric,
                    num(t.value)
                ));
            }
        }
    }
    PolicyPlan {
        scheduler,
        workers,
        monotone,
        warnings,
        curve,
    }
}

/// A number as the plan prints it: 4 decimals at most, no trailing zeros.
pub(crate) fn num(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(finished: bool, v: f64) -> Sample {
        Sample {
            finished,
            values: vec![v],
        }
    }

    #[test]
    fn a_point_meets_on_the_mean_and_only_when_finished() {
        let t = vec![Target::parse("wait.avg<=1").unwrap()];
        let p = point(4, &[sample(true, 0.5), sample(true, 1.3)], &t);
        assert!(p.meets);
        assert_eq!(p.metrics[0].mean, 0.9);
        let (lo, hi) = p.metrics[0].ci95.unwrap();
        assert!(lo < 0.9 && hi > 0.9);
        assert!(!point(4, &[sample(true, 1.5), sample(true, 1.3)], &t).meets);
        assert!(!point(4, &[sample(false, 0.1), sample(true, 0.1)], &t).meets);
        assert_eq!(point(4, &[sample(true, 0.1)], &t).metrics[0].ci95, None);
    }

    #[test]
    fn a_bumpy_curve_is_flagged() {
        let t = vec![Target::parse("wait.avg<=1").unwrap()];
        let curve = vec![
            point(2, &[sample(true, 3.0)], &t),
            point(4, &[sample(true, 0.8)], &t),
            point(8, &[sample(true, 1.2)], &t),
        ];
        let plan = policy_plan(SchedulerName::DEFAULT, Some(4), curve, &t);
        assert!(!plan.monotone);
        assert_eq!(plan.warnings.len(), 2, "{:?}", plan.warnings);
        assert!(
            plan.warnings[0].contains("0.8 at 4 workers, 1.2 at 8"),
            "{:?}",
            plan.warnings
        );
        assert!(plan.warnings[1].starts_with("4 workers meet every target but 8 do not"));
        let two = |a, b| [sample(true, a), sample(true, b)];
        let noisy = vec![point(4, &two(0.5, 0.7), &t), point(8, &two(0.55, 0.75), &t)];
        let plan = policy_plan(SchedulerName::DEFAULT, Some(4), noisy, &t);
        assert!(
            plan.warnings[0].ends_with(
                "0.6 at 4 workers, 0.65 at 8; the 95 % intervals overlap, so it may be noise"
            ),
            "{:?}",
            plan.warnings
        );
        let smooth = vec![
            point(2, &[sample(true, 3.0)], &t),
            point(4, &[sample(true, 0.8)], &t),
        ];
        let plan = policy_plan(SchedulerName::DEFAULT, Some(4), smooth, &t);
        assert!(
            plan.monotone && plan.warnings.is_empty(),
            "{:?}",
            plan.warnings
        );
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(num(0.20000001), "0.2");
        assert_eq!(num(600.0), "600");
        assert_eq!(num(1.23456), "1.2346");
    }
}
