//! clap types. Options shared by several commands are global, so they may
//! come before or after the command (the original accepted only one order,
//! contrary to its own documents).

use crate::balancer::policy::{CompositeWeights, SchedulerName};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Clone, Debug, Parser)]
#[command(
    name = "lbsim",
    version,
    about = "Deterministic discrete-event simulator for an adaptive test load balancer",
    long_about = "Deterministic discrete-event simulator for an adaptive test load balancer.\n\
                  Runs the reference stress tests in simulated time: same seed, same bytes."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// List the scheduling policies, one per line, and exit
    #[arg(long)]
    pub list_schedulers: bool,
    /// List the scenarios of the config (name and description) and exit
    #[arg(long)]
    pub list_scenarios: bool,
    /// Run the named scenario of the config (same as `lbsim scenario NAME`)
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Config file replacing the embedded default [env: LB_CONFIG_PATH]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Options that every simulation command understands.
#[derive(Clone, Debug, Default, Args)]
pub struct CommonArgs {
    /// Number of simulated workers [default: 20]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub workers: Option<u32>,
    /// Number of tests to submit [default: 100]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub tests: Option<u64>,
    /// Submission window in simulated seconds [default: 60]
    #[arg(long, global = true, value_name = "SECONDS", allow_hyphen_values = true, value_parser = positive_seconds)]
    pub duration: Option<f64>,
    /// Write the results JSON here (whole, or not at all)
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write one CSV row per test here
    #[arg(long, global = true, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Master seed; the same seed gives the same bytes [default: 42]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true)]
    pub seed: Option<u64>,
    /// Write the decision log (one CSV row per assignment) here
    #[arg(long, global = true, value_name = "FILE")]
    pub decisions: Option<PathBuf>,
    /// Print run statistics (events, events/s, wall time, speed-up) to stderr
    #[arg(long, global = true)]
    pub stats: bool,
    /// Scheduling policy (see --list-schedulers) [default: performance_based]
    #[arg(long, global = true, value_name = "NAME", value_parser = SchedulerName::parse)]
    pub scheduler: Option<SchedulerName>,
    /// Member weights of the composite policy, NAME:WEIGHT,...
    /// [default: performance_based:0.5,least_loaded:0.3,affinity_based:0.2]
    #[arg(long, global = true, value_name = "LIST", value_parser = CompositeWeights::parse)]
    pub composite_weights: Option<CompositeWeights>,
    /// Move young runs from busy to idle workers every 30 s and off
    /// overloaded workers every 60 s, when that finishes them sooner
    #[arg(long, global = true)]
    pub work_stealing: bool,
    /// Give tests one of N concurrency keys; tests sharing a key never run
    /// at the same time [default: 0, no keys]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true)]
    pub concurrency_keys: Option<u32>,
}

#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Run one stress test (the default command)
    Stress(StressArgs),
    /// Run a named scenario from the config
    Scenario(ScenarioArgs),
    /// Bursts, dynamic workers and a load spike, then recovery
    Spike,
    /// The benchmark grid: workers x tests, printed as a table
    Benchmark(BenchmarkArgs),
    /// Replay a recorded workload (SWF or lbsim's per-test CSV)
    Replay(super::replay::ReplayArgs),
    /// Compare two decision logs or two results files (exit 1 beyond --tolerance)
    Diff(super::diff::DiffArgs),
    /// Run a stress configuration or a scenario twice and report the first difference
    CheckDeterminism(DeterminismArgs),
    /// Run a parameter grid: one CSV row per cell, in parallel, resumable
    Sweep(SweepArgs),
    /// Join sweep shard files into the file one run would write
    Merge(MergeArgs),
    /// Draw SVG charts and an HTML report from a results file
    Visualize(VisualizeArgs),
    /// Run the coordinator: the balancer core for real workers over HTTP
    Serve(super::serve::ServeArgs),
    /// Fake workers for a running coordinator (--workers N, default 4)
    Worker(super::worker::WorkerArgs),
    /// Play a scenario against a running coordinator and measure it
    Load(super::load::LoadArgs),
}

/// Flags of `visualize`.
#[derive(Clone, Debug, Args)]
pub struct VisualizeArgs {
    /// Results file: a results JSON (stress, scenario, spike, benchmark) or a sweep CSV
    pub input: PathBuf,
    /// Directory for the charts and index.html
    #[arg(
        long,
        short = 'o',
        default_value = "./visualizations",
        value_name = "DIR"
    )]
    pub output_dir: PathBuf,
    /// Kind of results [default: detected from the file]
    #[arg(long = "type", short = 't', value_name = "TYPE")]
    pub kind: Option<crate::visualize::Kind>,
}

/// Arguments of `scenario`.
#[derive(Clone, Debug, Args)]
pub struct ScenarioArgs {
    /// The scenario's name (see --list-scenarios)
    pub name: String,
}

/// Flags of `benchmark`.
#[derive(Clone, Debug, Default, Args)]
pub struct BenchmarkArgs {
    /// Scale up to 10,000 workers and 1,000,000 tests, for every scheduler
    #[arg(long)]
    pub full: bool,
}

/// Flags of `check-determinism`: a stress configuration, or a scenario.
#[derive(Clone, Debug, Default, Args)]
pub struct DeterminismArgs {
    /// A scenario from the config (see --list-scenarios) instead of a stress configuration
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<String>,
    #[command(flatten)]
    pub stress: StressArgs,
}

/// Flags of `stress`.
#[derive(Clone, Debug, Default, Args)]
pub struct StressArgs {
    /// Submit tests in bursts rather than evenly
    #[arg(long)]
    pub burst: bool,
    /// Workers join, leave and fail during the run
    #[arg(long)]
    pub dynamic: bool,
}

/// A positive, finite number of seconds.
pub fn positive_seconds(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!("{s} is not a positive number of seconds"))
    }
}

/// Flags of `sweep` (`--output` is the results CSV, default sweep_results.csv).
#[derive(Clone, Debug, Args)]
pub struct SweepArgs {
    /// The grid file (JSON: base, axes, replications or seeds)
    #[arg(value_name = "GRID")]
    pub grid: PathBuf,
    /// Threads running cells [default: all cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Replications per point (seeds seed, seed+1, ...), overriding the grid's
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(1..))]
    pub replications: Option<u32>,
    /// Run only cells with index % N == K-1 (for job arrays)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Continue the output file: skip the cells it already holds
    #[arg(long)]
    pub resume: bool,
}

/// Flags of `merge` (`--output` is required).
#[derive(Clone, Debug, Args)]
pub struct MergeArgs {
    /// Shard files written by `lbsim sweep --shard`
    #[arg(value_name = "FILE", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Scheduler the summary's paired differences are taken against
    /// [default: the scheduler of the first point]
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
}
