//! A config file's scenario, assembled: its named sections looked up (in
//! the file, then in the built-in config), each converted and checked under
//! its own path, the command line's overrides applied, and the run's size
//! checked. Every error names the file and the field's path in it.

use super::origin::SizeOrigins;
use super::raw::*;
use super::section::TEST_CONFIGS;
use super::section::{TEST_PROFILES, WORKER_PROFILES};
use super::{sections, Config};
use crate::balancer::policy::SchedulerName;
use crate::error::Result;
use crate::scenario::check::FieldPath;
use crate::scenario::*;

/// One scenario, with the command line's overrides applied and every
/// invariant checked.
pub(super) fn scenario(
    cfg: &Config,
    name: &str,
    s: &RawScenario,
    o: &Overrides,
    env_duration_s: Option<f64>,
) -> Result<Scenario> {
    let p = FieldPath::root()
        .field("scenario_configurations")
        .field(name);
    assemble(cfg, &p, name, s, o, env_duration_s).map_err(|e| {
        SizeOrigins::of(cfg, name, s, o, env_duration_s)
            .blame(e)
            .unwrap_or_else(|e| e.in_file(&cfg.file))
    })
}

fn assemble(
    cfg: &Config,
    p: &FieldPath,
    name: &str,
    s: &RawScenario,
    o: &Overrides,
    env_duration_s: Option<f64>,
) -> Result<Scenario> {
    let (workers, tests, duration_s) = size(cfg, p, s, o, env_duration_s)?;
    let (worker_profile, test_profile) = profiles(cfg, p, s)?;
    let scheduler = scheduler(p, s, o)?;
    let window = Window { tests, duration_s };
    let arrivals = sections::arrivals(p, s, window)?;
    if s.horizon.is_none() {
        check_span(&p.field("arrivals").field("rate"), &arrivals, window)?;
    }
    let scenario = Scenario {
        name: Some(name.to_string()),
        description: s.description.clone(),
        seed: o.seed.or(s.seed).unwrap_or(DEFAULT_SEED),
        scheduler,
        workers,
        tests,
        duration_s,
        horizon_s: (s.horizon).unwrap_or(arrivals.span_s(window) * HORIZON_FACTOR),
        worker_profile,
        test_profile: o.balancing.test_profile(test_profile),
        arrivals,
        churn: sections::churn(p, s)?,
        load: o.balancing.load(sections::load(&p.field("load"), &s.load)?),
        balancing: o.balancing.options(sections::balancing(p, s)?),
    };
    check_peak(&p.field("churn"), &scenario)?;
    scenario.check_size(p)?;
    scenario.check_resolution(p)?;
    scenario.check_periods(p, &p.field("work_stealing"))?;
    Ok(scenario)
}

/// A worker profile by name (`lbsim worker --profile NAME`), from the file
/// or the built-in config; an unknown name lists the known ones.
pub(super) fn named_worker_profile(cfg: &Config, name: &str) -> Result<WorkerProfile> {
    if WORKER_PROFILES.known(cfg).contains(&name) {
        let at = FieldPath::root().field(WORKER_PROFILES.key);
        return WORKER_PROFILES.resolve(cfg, &at, name, sections::worker_profile);
    }
    Err(crate::error::Error::Unknown {
        kind: "worker profile",
        name: name.to_string(),
        known: WORKER_PROFILES.known(cfg).join(", "),
    })
}

/// The named profiles, or the defaults (a config's test profile defaults
/// to the reference's retries and timeout).
fn profiles(cfg: &Config, p: &FieldPath, s: &RawScenario) -> Result<(WorkerProfile, TestProfile)> {
    let worker = match &s.worker_profile {
        Some(n) => {
            let at = p.field("worker_profile");
            WORKER_PROFILES.resolve(cfg, &at, n, sections::worker_profile)?
        }
        None => WorkerProfile::default(),
    };
    let test = match &s.test_profile {
        Some(n) => {
            let at = p.field("test_profile");
            TEST_PROFILES.resolve(cfg, &at, n, sections::test_profile)?
        }
        None => {
            let at = FieldPath::root()
                .field(TEST_PROFILES.key)
                .field("(default)");
            sections::test_profile(&at, &RawTestProfile::default())?
        }
    };
    Ok((worker, test))
}

/// `(workers, tests, duration)`: the test configuration's, or the
/// reference's defaults, under the command line's overrides.
/// `env_duration_s` is `LB_DEFAULT_DURATION`, used when the test
/// configuration has no duration.
fn size(
    cfg: &Config,
    p: &FieldPath,
    s: &RawScenario,
    o: &Overrides,
    env_duration_s: Option<f64>,
) -> Result<(u32, u64, f64)> {
    let (workers, tests, duration) = match &s.test_config {
        Some(n) => TEST_CONFIGS.resolve(cfg, &p.field("test_config"), n, sections::test_config)?,
        None => (DEFAULT_WORKERS, DEFAULT_TESTS, None),
    };
    let workers = o.workers.unwrap_or(workers);
    let tests = o.tests.unwrap_or(tests);
    let duration_s = o
        .duration_s
        .or(duration)
        .or(env_duration_s)
        .unwrap_or(DEFAULT_DURATION_S);
    Ok((workers, tests, duration_s))
}

/// `--scheduler`, else the scenario's, else the default.
fn scheduler(p: &FieldPath, s: &RawScenario, o: &Overrides) -> Result<SchedulerName> {
    match (o.scheduler, &s.scheduler) {
        (Some(x), _) => Ok(x),
        (None, Some(n)) => {
            SchedulerName::parse(n).map_err(|m| p.field("scheduler").error(m.to_string()))
        }
        (None, None) => Ok(SchedulerName::DEFAULT),
    }
}

/// The tests arrive within what a run may last: a Poisson rate so low
/// that they would take longer is the rate's fault (the default horizon,
/// ten times the span, would otherwise be blamed).
fn check_span(rate: &FieldPath, arrivals: &Arrivals, window: Window) -> Result<()> {
    let span = arrivals.span_s(window);
    if span > window.duration_s && span > MAX_DURATION_S {
        return Err(rate.error(format!(
            "{} tests at this rate take about {span:.3e} s to arrive, more than the 1e9 s a run may last",
            window.tests
        )));
    }
    Ok(())
}

/// A churn that would grow the pool past `MAX_WORKERS` is refused at the
/// field that lets it grow (a huge `max_factor`, or a timeline's joins).
fn check_peak(churn: &FieldPath, scenario: &Scenario) -> Result<()> {
    let peak = scenario.peak_workers();
    if peak <= u64::from(MAX_WORKERS) {
        return Ok(());
    }
    let workers = scenario.workers;
    let (field, message) = match &scenario.churn {
        Churn::Random { max_factor, .. } => (
            "max_factor",
            format!(
                "{max_factor:e} lets the pool of {workers} grow to about {:.3e} workers",
                max_factor * f64::from(workers)
            ),
        ),
        _ => (
            "events",
            format!("the joins let the pool of {workers} grow to {peak} workers"),
        ),
    };
    Err(churn.field(field).error(format!(
        "{message}, more than the {MAX_WORKERS} a run may have"
    )))
}
