//! Raw config sections to validated scenario parts. Every check names the
//! field by its path in the file, so the message leads straight to the typo.

use super::raw::*;
use super::Config;
use crate::balancer::options::BalancerOptions;
use crate::balancer::policy::{CompositeWeights, SchedulerName};
use crate::error::{Error, Result};
use crate::scenario::*;

/// What the command line may change in a scenario from a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    pub workers: Option<u32>,
    pub tests: Option<u64>,
    pub duration_s: Option<f64>,
    pub seed: Option<u64>,
    pub scheduler: Option<SchedulerName>,
    /// LB_DEFAULT_DURATION: used when the test configuration has no duration.
    pub default_duration_s: Option<f64>,
}

/// The reference's `retries` and `timeout` defaults.
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_TIMEOUT_S: f64 = 3600.0;

pub struct Ctx<'a> {
    pub file: &'a str,
}

impl Ctx<'_> {
    fn bad(&self, path: impl Into<String>, message: impl Into<String>) -> Error {
        Error::bad_file(self.file.to_string(), path.into(), message.into())
    }

    /// A list that, if given, must be non-empty with every value accepted by
    /// `conv` (which says what a value must be when it refuses one).
    fn list<T: Copy + std::fmt::Display, U>(
        &self,
        path: String,
        raw: &Option<Vec<T>>,
        default: Vec<U>,
        conv: impl Fn(T) -> std::result::Result<U, &'static str>,
    ) -> Result<Vec<U>> {
        let Some(items) = raw else {
            return Ok(default);
        };
        if items.is_empty() {
            return Err(self.bad(path, "must not be empty"));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                conv(x).map_err(|m| self.bad(format!("{path}[{i}]"), format!("{x} {m}")))
            })
            .collect()
    }

    fn number(
        &self,
        path: String,
        x: Option<f64>,
        default: f64,
        ok: fn(f64) -> bool,
        what: &str,
    ) -> Result<f64> {
        match x {
            None => Ok(default),
            Some(v) if v.is_finite() && ok(v) => Ok(v),
            Some(v) => Err(self.bad(path, format!("{v} {what}"))),
        }
    }
}

fn positive_f(x: f64) -> std::result::Result<f64, &'static str> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err("must be a positive number")
    }
}
fn non_negative_f(x: f64) -> std::result::Result<f64, &'static str> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err("must be a number >= 0")
    }
}
fn count_u32(x: i64) -> std::result::Result<u32, &'static str> {
    u32::try_from(x).map_err(|_| "must be a whole number >= 0")
}
fn positive_u32(x: i64) -> std::result::Result<u32, &'static str> {
    u32::try_from(x)
        .ok()
        .filter(|n| *n > 0)
        .ok_or("must be a whole number >= 1")
}
fn priority(x: i64) -> std::result::Result<u8, &'static str> {
    u8::try_from(x)
        .ok()
        .filter(|p| (1..=5).contains(p))
        .ok_or("must be a priority from 1 to 5")
}

/// `(workers, tests, duration)`; a missing duration stays `None`.
pub fn test_config(ctx: &Ctx, name: &str, t: &RawTestConfig) -> Result<(u32, u64, Option<f64>)> {
    let p = format!("test_configurations.{name}");
    let workers = match t.workers {
        None => DEFAULT_WORKERS,
        Some(n) => u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
            ctx.bad(
                format!("{p}.workers"),
                format!("{n} must be a whole number >= 1"),
            )
        })?,
    };
    let tests = match t.tests {
        None => DEFAULT_TESTS,
        Some(n) => u64::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
            ctx.bad(
                format!("{p}.tests"),
                format!("{n} must be a whole number >= 1"),
            )
        })?,
    };
    let duration = match t.duration {
        Some(d) => Some(ctx.number(
            format!("{p}.duration"),
            Some(d),
            0.0,
            |d| d > 0.0,
            "must be a positive number of seconds",
        )?),
        None => None,
    };
    Ok((workers, tests, duration))
}

pub fn worker_profile(ctx: &Ctx, name: &str, w: &RawWorkerProfile) -> Result<WorkerProfile> {
    let p = format!("worker_profiles.{name}");
    let d = WorkerProfile::default();
    Ok(WorkerProfile {
        memory_gb: ctx.list(
            format!("{p}.memory_distribution"),
            &w.memory_distribution,
            d.memory_gb,
            positive_f,
        )?,
        cuda_devices: ctx.list(
            format!("{p}.cuda_distribution"),
            &w.cuda_distribution,
            d.cuda_devices,
            count_u32,
        )?,
        cpu_cores: ctx.list(
            format!("{p}.cpu_cores_distribution"),
            &w.cpu_cores_distribution,
            d.cpu_cores,
            positive_u32,
        )?,
        speed: ctx.list(
            format!("{p}.speed_distribution"),
            &w.speed_distribution,
            d.speed,
            positive_f,
        )?,
        usable_memory_fraction: ctx.number(
            format!("{p}.usable_memory_fraction"),
            w.usable_memory_fraction,
            d.usable_memory_fraction,
            |f| f > 0.0 && f <= 1.0,
            "must be a fraction in (0, 1]",
        )?,
    })
}

pub fn test_profile(ctx: &Ctx, name: &str, t: &RawTestProfile) -> Result<TestProfile> {
    let p = format!("test_profiles.{name}");
    let d = TestProfile::default();
    let duration = match &t.duration_distribution {
        None => d.duration.clone(),
        Some(RawDuration::Fixed) => DurationDist::Fixed,
        Some(RawDuration::Exponential) => DurationDist::Exponential,
        Some(RawDuration::Uniform { low, high }) => {
            if !(low.is_finite() && high.is_finite() && 0.0 <= *low && low <= high) {
                return Err(ctx.bad(
                    format!("{p}.duration_distribution"),
                    "uniform needs 0 <= low <= high",
                ));
            }
            DurationDist::Uniform {
                low: *low,
                high: *high,
            }
        }
        Some(RawDuration::Lognormal { sigma }) => {
            if !(sigma.is_finite() && *sigma >= 0.0) {
                return Err(ctx.bad(format!("{p}.duration_distribution.sigma"), "must be >= 0"));
            }
            DurationDist::Lognormal { sigma: *sigma }
        }
    };
    let retries = match t.retries {
        None => DEFAULT_RETRIES,
        Some(r) => count_u32(r).map_err(|m| ctx.bad(format!("{p}.retries"), format!("{r} {m}")))?,
    };
    Ok(TestProfile {
        memory_gb: ctx.list(
            format!("{p}.memory_requirements"),
            &t.memory_requirements,
            d.memory_gb,
            non_negative_f,
        )?,
        cuda_devices: ctx.list(
            format!("{p}.cuda_requirements"),
            &t.cuda_requirements,
            d.cuda_devices,
            count_u32,
        )?,
        priorities: ctx.list(
            format!("{p}.priority_distribution"),
            &t.priority_distribution,
            d.priorities,
            priority,
        )?,
        cpu_cores: ctx.list(
            format!("{p}.cpu_requirements"),
            &t.cpu_requirements,
            d.cpu_cores,
            count_u32,
        )?,
        expected_duration_s: ctx.number(
            format!("{p}.expected_duration"),
            t.expected_duration,
            d.expected_duration_s,
            |x| x > 0.0,
            "must be a positive number of seconds",
        )?,
        duration,
        failure_probability: ctx.number(
            format!("{p}.failure_probability"),
            t.failure_probability,
            0.0,
            |x| (0.0..=1.0).contains(&x),
            "must be a probability in [0, 1]",
        )?,
        retries,
        timeout_s: Some(ctx.number(
            format!("{p}.timeout"),
            t.timeout,
            DEFAULT_TIMEOUT_S,
            |x| x > 0.0,
            "must be a positive number of seconds",
        )?),
        model_families: match t.model_families {
            None => d.model_families,
            Some(m) => positive_u32(m)
                .map_err(|e| ctx.bad(format!("{p}.model_families"), format!("{m} {e}")))?,
        },
        concurrency_keys: match t.concurrency_keys {
            None => d.concurrency_keys,
            Some(k) => count_u32(k)
                .map_err(|e| ctx.bad(format!("{p}.concurrency_keys"), format!("{k} {e}")))?,
        },
        concurrency_key_probability: ctx.number(
            format!("{p}.concurrency_key_probability"),
            t.concurrency_key_probability,
            d.concurrency_key_probability,
            |x| (0.0..=1.0).contains(&x),
            "must be a probability in [0, 1]",
        )?,
    })
}

/// Looks a section entry up in the file, then in the built-in config.
fn lookup<'c, T>(
    cfg: &'c Config,
    section: fn(&RawConfig) -> &indexmap::IndexMap<String, T>,
    name: &str,
) -> Option<(&'c Config, &'c T)> {
    if let Some(v) = section(&cfg.raw).get(name) {
        return Some((cfg, v));
    }
    let b = cfg.builtin.as_deref()?;
    section(&b.raw).get(name).map(|v| (b, v))
}

/// A worker profile by name, from the file or the built-in config.
pub fn named_worker_profile(cfg: &Config, name: &str) -> Result<WorkerProfile> {
    match lookup(cfg, |r| &r.worker_profiles, name) {
        Some((owner, raw)) => worker_profile(&Ctx { file: &owner.file }, name, raw),
        None => Err(Error::Unknown {
            kind: "worker profile",
            name: name.to_string(),
            known: known(cfg, |r| &r.worker_profiles),
        }),
    }
}

fn known<T>(cfg: &Config, section: fn(&RawConfig) -> &indexmap::IndexMap<String, T>) -> String {
    let mut names: Vec<&str> = section(&cfg.raw).keys().map(String::as_str).collect();
    if let Some(b) = cfg.builtin.as_deref() {
        names.extend(
            section(&b.raw)
                .keys()
                .map(String::as_str)
                .filter(|n| !section(&cfg.raw).contains_key(*n)),
        );
    }
    names.join(", ")
}

macro_rules! resolve {
    ($cfg:expr, $ctx:expr, $path:expr, $field:ident, $name:expr, $what:literal, $build:path) => {{
        match lookup($cfg, |r| &r.$field, $name) {
            Some((owner, raw)) => $build(&Ctx { file: &owner.file }, $name, raw)?,
            None => {
                return Err($ctx.bad(
                    $path,
                    format!(
                        "no {} '{}' (known: {})",
                        $what,
                        $name,
                        known($cfg, |r| &r.$field)
                    ),
                ))
            }
        }
    }};
}

/// One scenario, with the command line's overrides applied and every
/// invariant checked.
pub fn scenario(cfg: &Config, name: &str, s: &RawScenario, o: &Overrides) -> Result<Scenario> {
    let ctx = Ctx { file: &cfg.file };
    let p = format!("scenario_configurations.{name}");
    let (workers, tests, duration) = match &s.test_config {
        Some(n) => resolve!(
            cfg,
            ctx,
            format!("{p}.test_config"),
            test_configurations,
            n,
            "test configuration",
            test_config
        ),
        None => (DEFAULT_WORKERS, DEFAULT_TESTS, None),
    };
    let worker_profile = match &s.worker_profile {
        Some(n) => resolve!(
            cfg,
            ctx,
            format!("{p}.worker_profile"),
            worker_profiles,
            n,
            "worker profile",
            worker_profile
        ),
        None => WorkerProfile::default(),
    };
    let test_profile = match &s.test_profile {
        Some(n) => resolve!(
            cfg,
            ctx,
            format!("{p}.test_profile"),
            test_profiles,
            n,
            "test profile",
            test_profile
        ),
        None => test_profile(&ctx, "(default)", &RawTestProfile::default())?,
    };
    let workers = o.workers.unwrap_or(workers);
    let tests = o.tests.unwrap_or(tests);
    let duration_s = o
        .duration_s
        .or(duration)
        .or(o.default_duration_s)
        .unwrap_or(DEFAULT_DURATION_S);
    let scheduler = match (o.scheduler, &s.scheduler) {
        (Some(x), _) => x,
        (None, Some(n)) => {
            SchedulerName::parse(n).map_err(|m| ctx.bad(format!("{p}.scheduler"), m))?
        }
        (None, None) => SchedulerName::DEFAULT,
    };
    let arrivals = arrivals(&ctx, &p, s, tests, duration_s)?;
    let churn = churn(&ctx, &p, s)?;
    let load = load(&s.load);
    let span = match arrivals.base() {
        Arrivals::Poisson { rate } => duration_s.max(tests as f64 / rate),
        _ => duration_s,
    };
    let scenario = Scenario {
        name: Some(name.to_string()),
        description: s.description.clone(),
        seed: o.seed.or(s.seed).unwrap_or(DEFAULT_SEED),
        scheduler,
        workers,
        tests,
        duration_s,
        horizon_s: s.horizon.unwrap_or(span * HORIZON_FACTOR),
        worker_profile,
        test_profile,
        arrivals,
        churn,
        load,
        balancing: balancing(&ctx, &p, s)?,
    };
    scenario.validate().map_err(|e| match e {
        Error::InvalidInput { flag, message } => ctx.bad(format!("{p}.{flag}"), message),
        other => other,
    })?;
    Ok(scenario)
}

fn arrivals(ctx: &Ctx, p: &str, s: &RawScenario, tests: u64, duration_s: f64) -> Result<Arrivals> {
    let (base, spikes) = match &s.arrivals {
        None => (
            if s.burst_mode == Some(true) {
                Arrivals::Bursts
            } else {
                Arrivals::Even
            },
            &[][..],
        ),
        Some(RawArrivals::Even { spikes }) => (Arrivals::Even, &spikes[..]),
        Some(RawArrivals::Bursts { spikes }) => (Arrivals::Bursts, &spikes[..]),
        Some(RawArrivals::Poisson { rate, spikes }) => (
            Arrivals::Poisson {
                rate: rate.unwrap_or(tests as f64 / duration_s),
            },
            &spikes[..],
        ),
    };
    if let Some(b) = s.burst_mode {
        if s.arrivals.is_some() && b != (base == Arrivals::Bursts) {
            return Err(ctx.bad(format!("{p}.burst_mode"), "contradicts arrivals.type"));
        }
    }
    if spikes.is_empty() {
        return Ok(base);
    }
    let spikes = spikes
        .iter()
        .map(|r| Spike {
            start_s: r.start,
            length_s: r.length,
            multiplier: r.multiplier,
            ramp_s: r.ramp,
        })
        .collect();
    Ok(Arrivals::Spiky {
        base: Box::new(base),
        spikes,
    })
}

fn churn(ctx: &Ctx, p: &str, s: &RawScenario) -> Result<Churn> {
    let churn = match &s.churn {
        None => {
            if s.dynamic_workers == Some(true) {
                Churn::reference()
            } else {
                Churn::None
            }
        }
        Some(RawChurn::None) => Churn::None,
        Some(RawChurn::Random {
            join_probability,
            leave_probability,
            fail_fraction,
            max_factor,
            min_factor,
        }) => {
            let Churn::Random {
                join_probability: j,
                leave_probability: l,
                fail_fraction: f,
                max_factor: mx,
                min_factor: mn,
            } = Churn::reference()
            else {
                unreachable!("the reference churn is random")
            };
            Churn::Random {
                join_probability: join_probability.unwrap_or(j),
                leave_probability: leave_probability.unwrap_or(l),
                fail_fraction: fail_fraction.unwrap_or(f),
                max_factor: max_factor.unwrap_or(mx),
                min_factor: min_factor.unwrap_or(mn),
            }
        }
        Some(RawChurn::Timeline { events }) => {
            let mut out = Vec::with_capacity(events.len());
            for (i, e) in events.iter().enumerate() {
                let count = match e.count {
                    None => 1,
                    Some(c) => positive_u32(c).map_err(|m| {
                        ctx.bad(format!("{p}.churn.events[{i}].count"), format!("{c} {m}"))
                    })?,
                };
                out.push(ChurnEvent {
                    at_s: e.at,
                    action: e.action,
                    count,
                    every_s: e.every,
                    replace: e.replace,
                });
            }
            Churn::Timeline { events: out }
        }
    };
    if let Some(d) = s.dynamic_workers {
        if s.churn.is_some() && d == matches!(churn, Churn::None) {
            return Err(ctx.bad(format!("{p}.dynamic_workers"), "contradicts churn.type"));
        }
    }
    Ok(churn)
}

/// Composite weights and work stealing, named by their config paths.
fn balancing(ctx: &Ctx, p: &str, s: &RawScenario) -> Result<BalancerOptions> {
    let mut b = BalancerOptions::default();
    if let Some(raw) = &s.composite_weights {
        let mut weights = indexmap::IndexMap::new();
        for (name, &w) in raw {
            let policy = SchedulerName::parse(name)
                .map_err(|m| ctx.bad(format!("{p}.composite_weights.{name}"), m))?;
            weights.insert(policy, w);
        }
        let weights = CompositeWeights(weights);
        weights
            .validate()
            .map_err(|m| ctx.bad(format!("{p}.composite_weights"), m))?;
        b.composite_weights = weights;
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
        d.validate()
            .map_err(|(field, m)| ctx.bad(format!("{p}.work_stealing.{field}"), m))?;
    }
    Ok(b)
}

fn load(raw: &Option<RawLoad>) -> LoadModel {
    let d = LoadModel::default();
    let Some(r) = raw else { return d };
    LoadModel {
        cycle_min_s: r.cycle_min.unwrap_or(d.cycle_min_s),
        cycle_max_s: r.cycle_max.unwrap_or(d.cycle_max_s),
        update_probability: r.update_probability.unwrap_or(d.update_probability),
        thermal_probability: r.thermal_probability.unwrap_or(d.thermal_probability),
        warming_s: r.warming.unwrap_or(d.warming_s),
        cooling_s: r.cooling.unwrap_or(d.cooling_s),
        enabled: r.enabled.unwrap_or(d.enabled),
        contention: r.contention.unwrap_or(d.contention),
    }
}
