//! `lbsim replay TRACE`: a recorded workload through the balancer.

use super::options::{overrides, ModelArgs, OutputArgs, PolicyArgs, WorkloadArgs};
use super::output::run_and_print;
use crate::error::{Error, Result};
use crate::report;
use crate::run::{ClusterSource, RunReport, RunRequest, Source, TraceSource};
use crate::scenario::EnvSettings;
use crate::workload::trace::junit::{JunitOptions, JunitSummary, Spread};
use crate::workload::trace::{Trace, TraceFormat, TraceSection};
use clap::Args;
use std::path::PathBuf;

/// Options of `replay`: the trace brings its tests and times.
#[derive(Clone, Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The trace: SWF (plain or gzipped), lbsim's per-test CSV, a
    /// coordinator's recording (`lbsim serve --record`), or JUnit XML test
    /// reports (a file or a directory of them)
    #[arg(value_name = "TRACE")]
    pub(crate) trace: PathBuf,
    /// More JUnit reports or directories, merged with TRACE's in the sorted
    /// order of their paths
    #[arg(value_name = "MORE")]
    pub(crate) more: Vec<PathBuf>,
    /// Trace format [default: from the file name and its first line]
    #[arg(long, value_name = "swf|csv|recording|junit", value_parser = TraceFormat::parse)]
    pub(crate) format: Option<TraceFormat>,
    /// JUnit: what each test needs, by name glob (a JSON map; see the
    /// reference) [default: 1 core, no memory, no CUDA, priority 3]
    #[arg(long, value_name = "MAP.json")]
    pub(crate) requirements: Option<PathBuf>,
    /// JUnit: when the tests are submitted: at_once, even:SECONDS,
    /// bursts:SECONDS or poisson:RATE [default: at_once, a CI run]
    #[arg(long, value_name = "PATTERN", value_parser = Spread::parse)]
    pub(crate) arrivals: Option<Spread>,
    /// Multiply every time (submissions and run times) by X
    #[arg(long, value_name = "X", default_value_t = 1.0, allow_hyphen_values = true,
          value_parser = positive_factor)]
    pub(crate) time_scale: f64,
    /// Submit Y times as many jobs per second (divides submission times)
    #[arg(long, value_name = "Y", default_value_t = 1.0, allow_hyphen_values = true,
          value_parser = positive_factor)]
    pub(crate) load_factor: f64,
    /// Workers to split an SWF trace's machine over, or to run a JUnit
    /// suite on [default: 1 for SWF, 20 for CSV, 4 one-core workers for
    /// JUnit, or the --cluster scenario's]; a coordinator's recording runs
    /// its own recorded pool and takes --workers only with --cluster
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) workers: Option<u32>,
    /// Run on the worker pool (count and profile) of this scenario of the
    /// config (--config, LB_CONFIG_PATH or the embedded default)
    #[arg(long, value_name = "SCENARIO")]
    pub(crate) cluster: Option<String>,
    /// Config file that --cluster takes its scenario from [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) outputs: OutputArgs,
    /// Write the live coordinator's own decisions from a recording as a
    /// decision log, to set beside a simulated one with `lbsim diff`
    #[arg(long, value_name = "FILE")]
    pub(crate) live_decisions: Option<PathBuf>,
}

/// A positive, finite factor.
fn positive_factor(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s} is not a positive number")),
    }
}

impl ReplayArgs {
    pub(crate) fn request(&self) -> Result<RunRequest> {
        let cluster = match (&self.cluster, &self.config) {
            (Some(name), config) => Some(ClusterSource {
                scenario: name.clone(),
                config: config.clone(),
            }),
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "--config",
                    "replay takes only a worker pool from a config: add --cluster SCENARIO",
                ))
            }
            (None, None) => None,
        };
        let source = Source::Trace(TraceSource {
            path: self.trace.clone(),
            more_paths: self.more.clone(),
            format: self.format,
            time_scale: self.time_scale,
            load_factor: self.load_factor,
            cluster,
            junit: JunitOptions {
                requirements: self.requirements.clone(),
                arrivals: self.arrivals,
            },
        });
        let workload = WorkloadArgs {
            workers: self.workers,
            ..WorkloadArgs::default()
        };
        Ok(RunRequest {
            source,
            overrides: overrides(&workload, &self.policy, &ModelArgs::default()),
            outputs: self.outputs.outputs(),
        })
    }
}

pub(crate) fn run(args: &ReplayArgs, env: &EnvSettings) -> Result<()> {
    let request = args.request()?;
    let live = args.live_decisions.as_deref();
    if let Some(path) = live {
        request.outputs.check_with(&[("--live-decisions", path)])?;
    }
    let prepared = request.prepare(env)?;
    let trace = prepared
        .trace()
        .ok_or_else(|| Error::Run("a replay was prepared without its trace".into()))?;
    if live.is_some() && trace.format != TraceFormat::Recording {
        return Err(Error::invalid(
            "--live-decisions",
            format!("{} is not a coordinator's recording", trace.file),
        ));
    }
    if trace.unusable > 0 && trace.junit.is_none() {
        crate::console::print_err(&format!("lbsim: warning: {}\n", unusable_line(trace)));
    }
    run_and_print(&prepared, |report| trace_line(trace, report), || Ok(()))?;
    if let Some(path) = live {
        write_live_decisions(args, path)?;
    }
    Ok(())
}

/// The lines that say what of the trace the run replayed (and, for a JUnit
/// suite, what it held).
fn trace_line(trace: &TraceSection, report: &RunReport) -> Result<()> {
    outln!(
        "trace {} ({}): {} records, {} replayed, {} unusable{}",
        trace.file,
        trace.format.as_str(),
        trace.records,
        report.output.metrics.total_tests,
        trace.unusable,
        if trace.estimated_run_times > 0 {
            format!(", {} with estimated run times", trace.estimated_run_times)
        } else {
            String::new()
        }
    );
    if let Some(suite) = &trace.junit {
        outln!("{}", junit_line(suite));
    }
    Ok(())
}

/// The recording's live decisions as a decision log (the recording is read
/// again: the run keeps only what it simulates).
fn write_live_decisions(args: &ReplayArgs, path: &std::path::Path) -> Result<()> {
    let trace = Trace::load(&args.trace, Some(TraceFormat::Recording))?;
    let pool = trace.recorded.unwrap_or_default();
    let rows = report::live_decision_rows(&pool, args.time_scale, args.load_factor);
    let mut text = report::DECISION_COLUMNS.join(",");
    text.push('\n');
    for row in rows {
        text.push_str(&row);
        text.push('\n');
    }
    report::write_atomically(path, text.as_bytes())
}

/// What a JUnit suite held and what became of it: `junit: 2 reports, 40
/// test cases: 33 passed, 2 failed, 1 error, 4 skipped (not replayed)…`.
fn junit_line(s: &JunitSummary) -> String {
    let mut line = format!(
        "junit: {} report{}, {} test cases: {} passed, {} failed, {} error{}, {} skipped (not replayed)",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.testcases,
        s.passed,
        s.failed,
        s.errors,
        if s.errors == 1 { "" } else { "s" },
        s.skipped
    );
    if s.without_time > 0 {
        line += &format!(", {} without a time (not replayed)", s.without_time);
    }
    line += &format!(
        "; {:.3} s of tests in all, the longest {:.3} s ({})",
        s.serial_s, s.longest_s, s.longest
    );
    if let Some(map) = &s.requirements {
        line += &format!(
            "; {map}: {} mapped, {} on the default",
            s.mapped, s.unmapped
        );
        if s.labels.is_some() {
            line += " (labels read, not yet used)";
        }
    }
    line
}

/// `FILE: K of N jobs unusable (reason: n, …); first at line L`.
fn unusable_line(trace: &TraceSection) -> String {
    let reasons: Vec<String> = trace
        .unusable_reasons
        .iter()
        .map(|(r, n)| format!("{r}: {n}"))
        .collect();
    format!(
        "{}: {} of {} jobs unusable, not replayed ({}); first at line {}",
        trace.file,
        trace.unusable,
        trace.records,
        reasons.join(", "),
        trace.first_unusable_line.unwrap_or(0)
    )
}
