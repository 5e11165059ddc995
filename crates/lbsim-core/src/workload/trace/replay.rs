//! The scenario a trace replays in: the cluster derived from the trace (or
//! taken from a config scenario), a run model that replays recorded run
//! times exactly, and the time transforms (`--time-scale`, `--load-factor`).
//!
//! The cluster, documented in the README:
//! - SWF: `MaxProcs` processors (else `MaxNodes`, else the largest job),
//!   split evenly over `--workers` workers (default 1: the machine the trace
//!   came from, since a job runs on one worker in this model); a remainder
//!   that does not divide is left out. Memory per processor is `MaxMemory`
//!   (KB) if the header has it, else the largest any job used; a trace with
//!   no memory at all does not model memory.
//! - CSV: the stress command's pool (the reference's worker profile, drawn
//!   from the seed), 20 workers unless `--workers` says otherwise.
//! - A coordinator's recording: its own pool, exactly (every worker as it
//!   registered, at its join time; each drain and failure on its worker;
//!   `--workers` is refused).
//! - A JUnit suite: `--workers` identical workers (default
//!   [`JUNIT_WORKERS`]), each one core, 16 GB of memory (all usable), no
//!   CUDA device, speed 1: one test at a time per worker, as a CI runner's
//!   shards run them, at the speed the report recorded. A test mapped to
//!   more cores, memory or a CUDA device fits none of them and is rejected
//!   (counted in the results): give such a suite `--cluster SCENARIO`.
//! - `--cluster SCENARIO`: that scenario's pool (count and profile) from
//!   the start, with no churn; the trace's tests keep their recorded needs,
//!   so some may fit nowhere.
//!
//! Replays have no load drift, thermal events, random churn, failures of
//! their own or retries: what the trace recorded is what happens.

use super::{Trace, TraceFormat, TraceJob};
use crate::balancer::model::MIB_PER_GB;
use crate::balancer::options::BalancerOptions;
use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::scenario::{
    Arrivals, BalancingOverrides, Churn, DurationDist, LoadModel, Scenario, TestProfile,
    WorkerProfile, DEFAULT_WORKERS,
};
use crate::sim::{SimDuration, SimTime, MICROS_PER_SEC};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Workers a JUnit suite runs on unless `--workers` says otherwise: a
/// four-way split, as `pytest -n auto` makes on a 4-core CI runner.
pub(crate) const JUNIT_WORKERS: u32 = 4;

/// Installed memory of each worker of a JUnit suite's default pool, GB.
pub(crate) const JUNIT_WORKER_MEMORY_GB: f64 = 16.0;

/// How to replay a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayOptions {
    /// `--workers`: how many workers to replay on (`None`: the format's
    /// default, see the module doc).
    pub workers: Option<u32>,
    /// The policy that places the jobs.
    pub scheduler: SchedulerName,
    /// The scenario's seed: the draws a trace leaves open (a CSV's pool, for
    /// one) come from it.
    pub seed: u64,
    /// Multiplies every time (submissions and run times): 0.5 replays the
    /// trace twice as fast, with the same load.
    pub time_scale: f64,
    /// Divides submission times only: 2 submits twice as many jobs per
    /// second, doubling the offered load.
    pub load_factor: f64,
    /// A worker pool to run on instead of the trace's own cluster.
    pub cluster: Option<ClusterPool>,
    /// Composite weights and work stealing; a trace's tests keep their
    /// recorded needs, so concurrency keys are refused.
    pub balancing: BalancingOverrides,
}

/// A config scenario's worker pool (`--cluster`).
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterPool {
    pub workers: u32,
    pub profile: WorkerProfile,
}

/// The cluster a replay runs on, as reported in the results JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterPlan {
    pub workers: u32,
    /// Cores of each worker (`null` for the CSV's drawn pool).
    pub cores_per_worker: Option<u32>,
    /// Installed memory of each worker, GB (`null`: drawn, or not modelled).
    pub(crate) memory_gb_per_worker: Option<f64>,
    /// Processors the trace's machine had, and where that number came from.
    pub processors: Option<u64>,
    /// An SWF header field, "stress worker profile" or "config scenario"
    /// (owned when read back from a results file).
    pub(crate) processors_source: Cow<'static, str>,
    /// Processors left out because they do not divide over the workers.
    pub(crate) processors_left_out: u64,
    pub(crate) memory_modelled: bool,
}

/// The results JSON's `trace` section: what was read, what was replayed,
/// how, and on which cluster (fields in the order they are written). The
/// one type for it: `report::ResultsDoc` holds it and reads it back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceSection {
    /// The path the trace was read from.
    pub file: String,
    /// The format it was read as.
    pub format: TraceFormat,
    /// Job records in the file, usable or not.
    pub records: u64,
    /// Jobs replayed.
    pub replayed: u64,
    /// Records not replayed (by reason in `unusable_reasons`).
    pub unusable: u64,
    /// Unusable records by reason, in the order first met.
    pub unusable_reasons: IndexMap<Cow<'static, str>, u64>,
    /// Records replayed with an estimated run time (CSV rows that never ran).
    pub estimated_run_times: u64,
    /// `--time-scale`: multiplied every time.
    pub time_scale: f64,
    /// `--load-factor`: divided the submission times.
    pub load_factor: f64,
    /// The pool the replay ran on.
    pub cluster: ClusterPlan,
    /// A JUnit suite's account of its cases (absent for other formats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junit: Option<super::junit::JunitSummary>,
    /// Line of the first unusable record, for the warning (not written).
    #[serde(skip)]
    pub first_unusable_line: Option<u64>,
}

/// A trace made ready to run: its scenario, its report section, and its
/// jobs transformed, in submission order.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The scenario that runs the jobs: the pool, the policy, no synthetic
    /// arrivals.
    pub scenario: Scenario,
    /// What the results JSON says about the trace and the replay.
    pub section: TraceSection,
    /// The jobs, times transformed, in submission order.
    pub jobs: Vec<TraceJob>,
}

/// Builds the replay scenario and the jobs to feed it, transformed.
pub fn replay_scenario(trace: &Trace, options: &ReplayOptions) -> Result<Replay> {
    check_factor("--time-scale", options.time_scale)?;
    check_factor("--load-factor", options.load_factor)?;
    if options.balancing.concurrency_keys.is_some() {
        return Err(Error::invalid(
            "--concurrency-keys",
            "a replay's tests keep the trace's needs, which have no keys",
        ));
    }
    if options.balancing.load_view.is_some() {
        return Err(Error::invalid(
            "--load-view",
            "a replay has no load drift to view",
        ));
    }
    if trace.jobs.is_empty() {
        return Err(Error::bad_file(
            trace.file.clone(),
            "whole file",
            format!(
                "no usable job ({} records, {} unusable)",
                trace.records,
                trace.unusable_total()
            ),
        ));
    }
    let (mut worker_profile, mut plan) = match trace.format {
        TraceFormat::Swf => swf_cluster(trace, options.workers)?,
        TraceFormat::Csv => csv_cluster(options.workers),
        TraceFormat::Recording => recording_cluster(trace, options)?,
        TraceFormat::Junit => junit_cluster(options.workers),
    };
    if let Some(pool) = &options.cluster {
        (worker_profile, plan) = pool_cluster(pool, options.workers, plan);
    }
    let jobs = transform(&trace.jobs, options.time_scale, options.load_factor);
    let scenario = scenario(trace, options, &jobs, plan.workers, worker_profile)?;
    let section = TraceSection {
        file: trace.file.clone(),
        format: trace.format,
        records: trace.records,
        replayed: jobs.len() as u64,
        unusable: trace.unusable_total(),
        unusable_reasons: (trace.unusable.iter())
            .map(|(reason, n)| (Cow::Borrowed(*reason), *n))
            .collect(),
        estimated_run_times: trace.estimated,
        time_scale: options.time_scale,
        load_factor: options.load_factor,
        cluster: plan,
        junit: trace.junit.clone(),
        first_unusable_line: trace.first_unusable_line,
    };
    Ok(Replay {
        scenario,
        section,
        jobs,
    })
}

/// The replay's scenario, built whole and validated once.
fn scenario(
    trace: &Trace,
    options: &ReplayOptions,
    jobs: &[TraceJob],
    workers: u32,
    worker_profile: WorkerProfile,
) -> Result<Scenario> {
    let last_submit = jobs.last().map_or(0.0, |j| j.submit.as_secs_f64());
    let total_run: f64 = jobs.iter().map(|j| j.run.as_secs_f64()).sum();
    let duration_s = if last_submit > 0.0 { last_submit } else { 1.0 };
    let name = std::path::Path::new(&trace.file)
        .file_name()
        .map_or_else(|| trace.file.clone(), |n| n.to_string_lossy().into_owned());
    let mut scenario = Scenario {
        name: Some(format!("replay {name}")),
        description: format!(
            "replay of {} ({}): {} of {} records",
            trace.file,
            trace.format.as_str(),
            jobs.len(),
            trace.records
        ),
        seed: options.seed,
        scheduler: options.scheduler,
        workers,
        tests: jobs.len() as u64,
        duration_s,
        // Long enough for every job to run one after another: a replay
        // always ends with every job final.
        horizon_s: duration_s + total_run + 1.0,
        worker_profile,
        test_profile: TestProfile {
            duration: DurationDist::Fixed,
            failure_probability: 0.0,
            retries: 0,
            timeout_s: None,
            ..TestProfile::default()
        },
        arrivals: Arrivals::Even,
        churn: Churn::None,
        load: LoadModel {
            enabled: false,
            ..LoadModel::default()
        },
        balancing: options.balancing.options(BalancerOptions::default()),
    };
    if trace.format == TraceFormat::Recording && options.cluster.is_none() {
        let factor = options.time_scale / options.load_factor;
        scenario.churn = super::recording::churn(trace, factor);
    }
    scenario
        .validate()
        .map_err(|e| too_long(e, trace, options, jobs))?;
    Ok(scenario)
}

/// A replay stretched past a run's limits names the flags that stretched
/// it and the job that ends last, with its line: the scenario's own
/// message ("invalid duration") names nothing the user wrote.
fn too_long(e: Error, trace: &Trace, options: &ReplayOptions, jobs: &[TraceJob]) -> Error {
    let Error::InvalidInput { flag, message } = e else {
        return e;
    };
    if flag != "duration" && flag != "horizon" {
        return Error::InvalidInput { flag, message };
    }
    let Some((i, last)) = jobs.iter().enumerate().max_by_key(|(_, j)| j.submit) else {
        return Error::InvalidInput { flag, message };
    };
    Error::invalid(
        "--time-scale",
        format!(
            "{} (with --load-factor {}) puts job {} ({} line {}) at {} s: the replay's {flag} {message}",
            options.time_scale,
            options.load_factor,
            i + 1,
            trace.file,
            last.line,
            last.submit.as_secs_f64()
        ),
    )
}

/// A recording's cluster: its own pool, exactly, so `--workers` has
/// nothing to set unless `--cluster` replaces the pool.
fn recording_cluster(
    trace: &Trace,
    options: &ReplayOptions,
) -> Result<(WorkerProfile, ClusterPlan)> {
    let (profile, plan) = super::recording::cluster(trace)?;
    if options.workers.is_some() && options.cluster.is_none() {
        let joined = trace.recorded.as_ref().map_or(0, |p| p.joins.len());
        return Err(Error::invalid(
            "--workers",
            format!(
                "a recording replays its own pool ({joined} workers, each as it registered); \
                 leave --workers out, or add --cluster SCENARIO to run on another pool"
            ),
        ));
    }
    Ok((profile, plan))
}

/// The pool of a config scenario in place of the trace's cluster; what the
/// trace said of its machine stays in the report.
fn pool_cluster(
    pool: &ClusterPool,
    workers: Option<u32>,
    trace_plan: ClusterPlan,
) -> (WorkerProfile, ClusterPlan) {
    let plan = ClusterPlan {
        workers: workers.unwrap_or(pool.workers),
        cores_per_worker: None,
        memory_gb_per_worker: None,
        processors_source: Cow::Borrowed("config scenario"),
        memory_modelled: true,
        ..trace_plan
    };
    (pool.profile.clone(), plan)
}

fn check_factor(flag: &str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            flag,
            format!("{x} is not a positive number"),
        ))
    }
}

fn swf_cluster(trace: &Trace, workers: Option<u32>) -> Result<(WorkerProfile, ClusterPlan)> {
    let largest_job = trace.jobs.iter().map(|j| u64::from(j.spec.cpu_cores)).max();
    let (procs, source) = match trace.header.max_procs {
        Some(p) => (p, trace.header.procs_source.unwrap_or("MaxProcs")),
        None => (largest_job.unwrap_or(1), "largest job"),
    };
    let n = workers.unwrap_or(1);
    let per_worker = procs / u64::from(n);
    if per_worker == 0 {
        return Err(Error::invalid(
            "--workers",
            format!("{n} workers cannot share {procs} processors (fewer than one each)"),
        ));
    }
    let cores = u32::try_from(per_worker).unwrap_or(u32::MAX);
    let memory_modelled = trace.jobs.iter().any(|j| j.spec.memory_mib > 0);
    let memory_mib = if !memory_modelled {
        None
    } else if let Some(kb) = trace.header.max_memory_kb {
        Some(kb.saturating_mul(per_worker) / 1024)
    } else {
        let per_core = trace
            .jobs
            .iter()
            .map(|j| j.spec.memory_mib as f64 / f64::from(j.spec.cpu_cores.max(1)))
            .fold(0.0, f64::max);
        Some((per_core * per_worker as f64).ceil() as u64)
    };
    // Memory that is not modelled: a nominal 1 GB that no job asks for.
    let memory_gb = memory_mib.map_or(1.0, |m| m.max(1) as f64 / MIB_PER_GB);
    let profile = WorkerProfile {
        memory_gb: vec![memory_gb],
        cuda_devices: vec![0],
        cpu_cores: vec![cores],
        speed: vec![1.0],
        usable_memory_fraction: 1.0,
    };
    let plan = ClusterPlan {
        workers: n,
        cores_per_worker: Some(cores),
        memory_gb_per_worker: memory_mib.map(|_| memory_gb),
        processors: Some(procs),
        processors_source: Cow::Borrowed(source),
        processors_left_out: procs - per_worker * u64::from(n),
        memory_modelled,
    };
    Ok((profile, plan))
}

fn csv_cluster(workers: Option<u32>) -> (WorkerProfile, ClusterPlan) {
    let plan = ClusterPlan {
        workers: workers.unwrap_or(DEFAULT_WORKERS),
        cores_per_worker: None,
        memory_gb_per_worker: None,
        processors: None,
        processors_source: Cow::Borrowed("stress worker profile"),
        processors_left_out: 0,
        memory_modelled: true,
    };
    (WorkerProfile::default(), plan)
}

/// A JUnit suite's pool: `workers` one-core workers (see the module doc).
fn junit_cluster(workers: Option<u32>) -> (WorkerProfile, ClusterPlan) {
    let profile = WorkerProfile {
        memory_gb: vec![JUNIT_WORKER_MEMORY_GB],
        cuda_devices: vec![0],
        cpu_cores: vec![1],
        speed: vec![1.0],
        usable_memory_fraction: 1.0,
    };
    let plan = ClusterPlan {
        workers: workers.unwrap_or(JUNIT_WORKERS),
        cores_per_worker: Some(1),
        memory_gb_per_worker: Some(JUNIT_WORKER_MEMORY_GB),
        processors: None,
        processors_source: Cow::Borrowed("junit default pool"),
        processors_left_out: 0,
        memory_modelled: true,
    };
    (profile, plan)
}

/// Applies the time transforms, to the microsecond.
fn transform(jobs: &[TraceJob], time_scale: f64, load_factor: f64) -> Vec<TraceJob> {
    let submit_factor = time_scale / load_factor;
    let scale = |us: u64, f: f64| -> u64 {
        if f == 1.0 {
            us
        } else {
            SimDuration::from_secs_f64(us as f64 * f / MICROS_PER_SEC as f64).0
        }
    };
    jobs.iter()
        .map(|j| {
            let mut j = j.clone();
            j.submit = SimTime(scale(j.submit.0, submit_factor));
            j.run = SimDuration(scale(j.run.0, time_scale));
            j.spec.expected_duration = SimDuration(scale(j.spec.expected_duration.0, time_scale));
            j
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(text: &str) -> Trace {
        let mut t = super::super::swf::read("x.swf", text.as_bytes()).unwrap();
        t.jobs.sort_by_key(|j| j.submit);
        t
    }

    fn options() -> ReplayOptions {
        ReplayOptions {
            workers: None,
            scheduler: SchedulerName::DEFAULT,
            seed: 1,
            time_scale: 1.0,
            load_factor: 1.0,
            cluster: None,
            balancing: BalancingOverrides::default(),
        }
    }

    const TWO_JOBS: &str = "; MaxProcs: 10\n\
        1 0 -1 100 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
        2 50 -1 20 10 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n";

    #[test]
    fn swf_cluster_splits_max_procs() {
        let t = trace(TWO_JOBS);
        let Replay {
            scenario: s,
            section,
            ..
        } = replay_scenario(&t, &options()).unwrap();
        let plan = section.cluster;
        assert_eq!(
            (s.workers, s.worker_profile.cpu_cores.clone()),
            (1, vec![10])
        );
        assert!(!plan.memory_modelled && plan.memory_gb_per_worker.is_none());
        let o = ReplayOptions {
            workers: Some(3),
            ..options()
        };
        let Replay {
            scenario: s,
            section,
            ..
        } = replay_scenario(&t, &o).unwrap();
        let plan = section.cluster;
        assert_eq!(s.worker_profile.cpu_cores, vec![3]);
        assert_eq!(plan.processors_left_out, 1);
        let o = ReplayOptions {
            workers: Some(11),
            ..options()
        };
        let err = replay_scenario(&t, &o).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid --workers: 11 workers cannot share 10 processors (fewer than one each)"
        );
    }

    #[test]
    fn a_cluster_pool_replaces_the_traces_cluster_from_the_start() {
        let t = trace(TWO_JOBS);
        let pool = ClusterPool {
            workers: 6,
            profile: WorkerProfile::default(),
        };
        let o = ReplayOptions {
            cluster: Some(pool.clone()),
            ..options()
        };
        let r = replay_scenario(&t, &o).unwrap();
        assert_eq!(r.scenario.workers, 6);
        assert_eq!(r.scenario.worker_profile, pool.profile);
        let plan = &r.section.cluster;
        assert_eq!((plan.workers, plan.cores_per_worker), (6, None));
        assert_eq!(plan.processors_source, "config scenario");
        assert_eq!(
            plan.processors,
            Some(10),
            "the trace's machine is still reported"
        );
        let o = ReplayOptions {
            workers: Some(2),
            ..o
        };
        assert_eq!(replay_scenario(&t, &o).unwrap().scenario.workers, 2);
    }

    #[test]
    fn balancing_flags_apply_but_concurrency_keys_and_the_load_view_are_refused() {
        let t = trace(TWO_JOBS);
        let o = ReplayOptions {
            balancing: BalancingOverrides {
                work_stealing: true,
                ..Default::default()
            },
            ..options()
        };
        let s = replay_scenario(&t, &o).unwrap().scenario;
        assert!(s.balancing.stealing.enabled);
        let o = ReplayOptions {
            balancing: BalancingOverrides {
                concurrency_keys: Some(2),
                ..Default::default()
            },
            ..options()
        };
        let err = replay_scenario(&t, &o).unwrap_err().to_string();
        assert!(err.starts_with("invalid --concurrency-keys"), "{err}");
        let o = ReplayOptions {
            balancing: BalancingOverrides {
                load_view: Some(crate::scenario::LoadView::Reported),
                ..Default::default()
            },
            ..options()
        };
        let err = replay_scenario(&t, &o).unwrap_err().to_string();
        assert!(err.starts_with("invalid --load-view"), "{err}");
    }

    #[test]
    fn memory_per_processor_comes_from_the_largest_job() {
        // Job 1: 4 procs × 1024 KB = 4 MiB; job 2: 2 procs × 4096 KB = 8 MiB.
        let t = trace(
            "; MaxProcs: 4\n\
             1 0 -1 1 4 -1 1024 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
             2 0 -1 1 2 -1 4096 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n",
        );
        let Replay {
            scenario: s,
            section,
            ..
        } = replay_scenario(&t, &options()).unwrap();
        let plan = section.cluster;
        // 4 MiB per core × 4 cores = 16 MiB.
        assert_eq!(s.worker_profile.memory_gb, vec![16.0 / 1024.0]);
        assert!(plan.memory_modelled);
    }

    #[test]
    fn time_scale_and_load_factor_transform_times() {
        let t = trace(TWO_JOBS);
        let o = ReplayOptions {
            time_scale: 0.5,
            load_factor: 2.0,
            ..options()
        };
        let Replay {
            scenario: s, jobs, ..
        } = replay_scenario(&t, &o).unwrap();
        // Submissions × 0.5 / 2; run times × 0.5.
        assert_eq!(jobs[1].submit, SimTime::from_secs_f64(12.5));
        assert_eq!(jobs[0].run, SimDuration::from_secs(50));
        assert_eq!(s.duration_s, 12.5);
        assert_eq!(s.horizon_s, 12.5 + 60.0 + 1.0);
        let bad = ReplayOptions {
            load_factor: 0.0,
            ..options()
        };
        let err = replay_scenario(&t, &bad).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("invalid --load-factor"));
    }

    #[test]
    fn a_trace_without_usable_jobs_is_bad_input() {
        let t = trace("1 -1 -1 100 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n");
        let err = replay_scenario(&t, &options()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.swf: whole file: no usable job (1 records, 1 unusable)"
        );
    }
}
