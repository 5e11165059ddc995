//! `lbsim plan SOURCE --target METRIC<=X`: the smallest pool that meets
//! the targets, per policy. Flags to a source and options, checked before
//! anything runs; then the library's search, printed and written.

use super::options::positive_seconds;
use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::plan::{self, PlanOptions, PlanSource, Target};
use crate::run::{ClusterSource, Outputs, Overrides, RunRequest, Source, TraceSource};
use crate::scenario::{Config, EnvSettings};
use crate::workload::trace::junit::{JunitOptions, Spread};
use crate::workload::trace::TraceFormat;
use clap::Args;
use std::path::{Path, PathBuf};

/// The largest pool a plan searches when `--max` is not given.
const DEFAULT_MAX: u32 = 1024;

/// Options of `plan`.
#[derive(Clone, Debug, Args)]
pub(crate) struct PlanArgs {
    /// What to plan for: a scenario of the config by name, or a trace (SWF,
    /// lbsim's per-test CSV, a coordinator's recording, a JUnit report or a
    /// directory of them; an existing path, or one with a `/`)
    #[arg(value_name = "SOURCE")]
    pub(crate) source: String,
    /// A target every answer must meet: METRIC<=X or METRIC>=X, METRIC a
    /// path of the results JSON's metrics (wait.avg, turnaround.p95,
    /// latency.p99, success_rate, run.end_time), makespan or p_wait
    /// (repeat for several)
    #[arg(long = "target", value_name = "METRIC<=X", required = true)]
    pub(crate) targets: Vec<String>,
    /// Policies to plan for, NAME,... [default: the source's own]
    #[arg(long, value_name = "NAME,...", value_delimiter = ',', value_parser = SchedulerName::parse)]
    pub(crate) scheduler: Vec<SchedulerName>,
    /// Runs per pool size, with seeds SEED, SEED+1, ... at every size
    #[arg(long, value_name = "R", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) replications: u32,
    /// The first replication's seed [default: 42]
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// The smallest pool searched
    #[arg(long, value_name = "A", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) min: u32,
    /// The largest pool searched [default: 1024, or LB_MAX_WORKERS if lower]
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max: Option<u32>,
    /// A scenario: put N workers of this worker profile of the config in
    /// place of its own pool
    #[arg(long, value_name = "NAME", conflicts_with = "cluster")]
    pub(crate) profile: Option<String>,
    /// A trace: run on N workers of this config scenario's worker profile
    /// (SWF traces and recordings need it; CSV traces otherwise draw N
    /// workers, JUnit suites run on N one-core workers)
    #[arg(long, value_name = "SCENARIO")]
    pub(crate) cluster: Option<String>,
    /// Config file for a scenario, --profile and --cluster [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// A trace's format [default: from the file name and its first line]
    #[arg(long, value_name = "swf|csv|recording|junit", value_parser = TraceFormat::parse)]
    pub(crate) format: Option<TraceFormat>,
    /// A JUnit suite: what each test needs, by name glob (a JSON map, as
    /// for replay) [default: 1 core, no memory, no CUDA, priority 3]
    #[arg(long, value_name = "MAP.json")]
    pub(crate) requirements: Option<PathBuf>,
    /// A JUnit suite: when the tests are submitted: at_once, even:SECONDS,
    /// bursts:SECONDS or poisson:RATE [default: at_once, a CI run]
    #[arg(long, value_name = "PATTERN", value_parser = Spread::parse)]
    pub(crate) arrivals: Option<Spread>,
    /// A scenario: number of tests [default: the scenario's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) tests: Option<u64>,
    /// A scenario: submission window in simulated seconds [default: the scenario's]
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub(crate) duration: Option<f64>,
    /// Write the plan (every evaluated pool, per policy) as JSON here
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Draw one SVG chart per target into this directory (metric against
    /// the pool, a line per policy, the target's bound)
    #[arg(long, value_name = "DIR")]
    pub(crate) chart: Option<PathBuf>,
    /// Threads running replications [default: all cores]; the output is
    /// the same for any number
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) jobs: Option<u32>,
}

pub(crate) fn run(args: &PlanArgs, env: &EnvSettings) -> Result<()> {
    let targets = (args.targets.iter())
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<Target>>>()?;
    plan::check_targets(&targets)?;
    let max = args.max.unwrap_or(match env.max_workers {
        Some(m) => DEFAULT_MAX.min(u32::try_from(m).unwrap_or(u32::MAX)),
        None => DEFAULT_MAX,
    });
    if args.min > max {
        return Err(Error::invalid(
            "--min",
            format!("{} is above --max {max}", args.min),
        ));
    }
    env.check_workers("--max", u64::from(max))?;
    if let Some(path) = &args.json {
        Outputs::default().check_with(&[("--json", path.as_path())])?;
    }
    if let Some(dir) = &args.chart {
        crate::visualize::check_chart_dir("--chart", dir)?;
    }
    let source = source(args, env)?;
    let own = source.check(env)?;
    let schedulers = match args.scheduler.as_slice() {
        [] => vec![own],
        given => dedup(given),
    };
    let opts = PlanOptions {
        targets,
        schedulers,
        replications: args.replications,
        seed: args.seed.unwrap_or(crate::scenario::DEFAULT_SEED),
        min: args.min,
        max,
        jobs: args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |j| j as usize,
        ),
    };
    let result = plan::plan(&source, &args.source, &opts, env)?;
    out!("{}", plan::text(&result));
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(&result)
            .map_err(|e| Error::Run(format!("the plan as JSON: {e}")))?;
        text.push('\n');
        crate::report::write_atomically(path, text.as_bytes())?;
        outln!("plan -> {}", path.display());
    }
    if let Some(dir) = &args.chart {
        for file in crate::visualize::write_charts("--chart", dir, &plan::charts(&result))? {
            outln!("chart -> {}", file.display());
        }
    }
    Ok(())
}

/// Each policy once, in the order first given.
fn dedup(given: &[SchedulerName]) -> Vec<SchedulerName> {
    let mut out: Vec<SchedulerName> = Vec::new();
    for s in given {
        if !out.contains(s) {
            out.push(*s);
        }
    }
    out
}

/// The source's run request (its pool set per run by the plan) and the
/// worker profile `--profile` puts in a scenario.
fn source(args: &PlanArgs, env: &EnvSettings) -> Result<PlanSource> {
    let path = Path::new(&args.source);
    let overrides = Overrides {
        tests: args.tests,
        duration_s: args.duration,
        ..Default::default()
    };
    if path.exists() || args.source.contains('/') {
        if args.profile.is_some() {
            return Err(Error::invalid(
                "--profile",
                "replaces a scenario's worker profile; a trace runs on --cluster SCENARIO's",
            ));
        }
        let cluster = args.cluster.as_ref().map(|name| ClusterSource {
            scenario: name.clone(),
            config: args.config.clone(),
        });
        let trace = TraceSource {
            format: args.format,
            cluster,
            junit: JunitOptions {
                requirements: args.requirements.clone(),
                arrivals: args.arrivals,
            },
            ..TraceSource::new(path)
        };
        return Ok(PlanSource {
            request: with_overrides(Source::Trace(trace), overrides),
            profile: None,
        });
    }
    if args.cluster.is_some() {
        return Err(Error::invalid(
            "--cluster",
            "sets a trace's pool; a scenario has its own (--profile NAME replaces its worker profile)",
        ));
    }
    if args.format.is_some() {
        return Err(Error::invalid(
            "--format",
            format!("{} is a scenario, not a trace", args.source),
        ));
    }
    let profile = match &args.profile {
        Some(name) => {
            let config = Config::load(args.config.as_deref(), env.config_path.as_deref())?;
            Some(
                config
                    .worker_profile(name)
                    .map_err(|e| Error::invalid("--profile", e.to_string()))?,
            )
        }
        None => None,
    };
    let scenario = Source::Scenario {
        name: args.source.clone(),
        config: args.config.clone(),
    };
    Ok(PlanSource {
        request: with_overrides(scenario, overrides),
        profile,
    })
}

fn with_overrides(source: Source, overrides: Overrides) -> RunRequest {
    RunRequest {
        overrides,
        ..RunRequest::new(source)
    }
}
