//! `lbsim replay TRACE`: a recorded workload through the balancer.

use super::args::CommonArgs;
use super::stress::run_and_write_with;
use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::report;
use crate::scenario::DEFAULT_SEED;
use crate::workload::trace::{replay_scenario, ReplayOptions, Trace, TraceArrivals, TraceFormat};
use clap::Args;
use std::path::PathBuf;

/// Flags of `replay`.
#[derive(Clone, Debug, Args)]
pub struct ReplayArgs {
    /// The trace: SWF (plain or gzipped) or lbsim's per-test CSV
    #[arg(value_name = "TRACE")]
    pub trace: PathBuf,
    /// Trace format [default: from the file name and its first line]
    #[arg(long, value_name = "swf|csv", value_parser = TraceFormat::parse)]
    pub format: Option<TraceFormat>,
    /// Multiply every time (submissions and run times) by X
    #[arg(long, value_name = "X", default_value_t = 1.0, allow_hyphen_values = true,
          value_parser = positive_factor)]
    pub time_scale: f64,
    /// Submit Y times as many jobs per second (divides submission times)
    #[arg(long, value_name = "Y", default_value_t = 1.0, allow_hyphen_values = true,
          value_parser = positive_factor)]
    pub load_factor: f64,
    /// Run on the worker pool (count and profile) of this scenario of the
    /// config (--config, LB_CONFIG_PATH or the embedded default)
    #[arg(long, value_name = "SCENARIO")]
    pub cluster: Option<String>,
}

/// Replaces the replay's cluster with the pool of a config scenario; the
/// trace's tests keep their recorded needs, so some may now fit nowhere (and
/// are rejected and counted).
fn use_cluster(
    scenario: &mut crate::scenario::Scenario,
    plan: &mut crate::workload::trace::ClusterPlan,
    name: &str,
    workers: Option<u32>,
    config: Option<&std::path::Path>,
) -> Result<()> {
    use crate::scenario::config::Overrides;
    use crate::scenario::{Config, EnvSettings};
    let env = EnvSettings::from_env()?;
    let config = Config::load(config, env.config_path.as_deref())?;
    let base = config.scenario(name, &Overrides::default())?;
    scenario.workers = workers.unwrap_or(base.workers);
    scenario.worker_profile = base.worker_profile;
    scenario.validate()?;
    plan.workers = scenario.workers;
    plan.cores_per_worker = None;
    plan.memory_gb_per_worker = None;
    plan.processors_source = "config scenario";
    plan.memory_modelled = true;
    Ok(())
}

/// A positive, finite factor.
fn positive_factor(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s} is not a positive number")),
    }
}

pub fn run(common: &CommonArgs, args: &ReplayArgs, config: Option<&std::path::Path>) -> Result<()> {
    if common.tests.is_some() {
        return Err(Error::invalid(
            "--tests",
            "replay takes its tests from the trace",
        ));
    }
    if common.duration.is_some() {
        return Err(Error::invalid(
            "--duration",
            "replay takes its times from the trace (see --time-scale)",
        ));
    }
    let trace = Trace::load(&args.trace, args.format)?;
    let options = ReplayOptions {
        workers: common.workers,
        scheduler: common.scheduler.unwrap_or(SchedulerName::DEFAULT),
        seed: common.seed.unwrap_or(DEFAULT_SEED),
        time_scale: args.time_scale,
        load_factor: args.load_factor,
    };
    let (mut scenario, mut plan, jobs) = replay_scenario(&trace, &options)?;
    match &args.cluster {
        Some(name) => use_cluster(&mut scenario, &mut plan, name, common.workers, config)?,
        None if config.is_some() => {
            return Err(Error::invalid(
                "--config",
                "replay takes only a worker pool from a config: add --cluster SCENARIO",
            ))
        }
        None => {}
    }
    if trace.unusable_total() > 0 {
        eprintln!("lbsim: warning: {}", unusable_line(&trace));
    }
    let section = report::TraceSection::new(
        &trace,
        jobs.len() as u64,
        args.time_scale,
        args.load_factor,
        &plan,
    );
    let arrivals = Box::new(TraceArrivals::new(jobs));
    let out = run_and_write_with(&scenario, Some(arrivals), common, |doc| {
        doc.trace = Some(section);
    })?;
    outln!(
        "trace {} ({}): {} records, {} replayed, {} unusable{}",
        trace.file,
        trace.format.as_str(),
        trace.records,
        out.metrics.total_tests,
        trace.unusable_total(),
        if trace.estimated > 0 {
            format!(", {} with estimated run times", trace.estimated)
        } else {
            String::new()
        }
    );
    out!("{}", report::summary(&out));
    Ok(())
}

/// `FILE: K of N jobs unusable (reason: n, …); first at line L`.
fn unusable_line(trace: &Trace) -> String {
    let reasons: Vec<String> = trace
        .unusable
        .iter()
        .map(|(r, n)| format!("{r}: {n}"))
        .collect();
    format!(
        "{}: {} of {} jobs unusable, not replayed ({}); first at line {}",
        trace.file,
        trace.unusable_total(),
        trace.records,
        reasons.join(", "),
        trace.first_unusable_line.unwrap_or(0)
    )
}
