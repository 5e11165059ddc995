//! One replication at one pool size: the source's run request with the
//! pool, the policy and the seed set, run, and each target's metric read.
//!
//! The run goes through [`RunRequest::prepare`] like `lbsim scenario` and
//! `lbsim replay`, so a plan sees exactly the runs those commands make
//! (and their checks: `LB_MAX_WORKERS`, the memory estimate).

use super::targets::{lookup, Target};
use crate::balancer::policy::SchedulerName;
use crate::balancer::TestRecord;
use crate::engine::{EndReason, Observer, RunOutput};
use crate::error::{Error, Result};
use crate::run::{RunRequest, Source};
use crate::scenario::{EnvSettings, WorkerProfile};
use crate::sim::SimTime;
use crate::workload::trace::TraceFormat;
use serde_json::Value;

/// What a plan runs: the source's request (no outputs), and for a
/// scenario, the worker profile `--profile` puts in place of its own.
#[derive(Clone, Debug)]
pub(crate) struct PlanSource {
    pub(crate) request: RunRequest,
    pub(crate) profile: Option<WorkerProfile>,
}

/// One replication's result.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    /// Every test reached a final state before the horizon.
    pub(crate) finished: bool,
    /// Each target's metric, in the order of the targets.
    pub(crate) values: Vec<f64>,
}

impl PlanSource {
    /// The run of `workers` workers under `scheduler` with `seed`.
    pub(crate) fn run(
        &self,
        env: &EnvSettings,
        workers: u32,
        scheduler: SchedulerName,
        seed: u64,
    ) -> Result<(RunOutput, Tally)> {
        let mut request = self.request.clone();
        request.overrides.workers = Some(workers);
        request.overrides.scheduler = Some(scheduler);
        request.overrides.seed = Some(seed);
        if let Some(profile) = &self.profile {
            // A scenario with another worker profile: built as the
            // scenario command builds it, then run whole.
            let mut scenario = request.scenario(env)?;
            scenario.worker_profile = profile.clone();
            request = RunRequest::new(Source::Ready(Box::new(scenario)));
        }
        let mut tally = Tally::default();
        let report = request
            .prepare(env)
            .map_err(|e| as_pool(e, workers))?
            .run(&mut tally)?;
        Ok((report.output, tally))
    }

    /// Builds the source once as given, to check it before any search and
    /// to learn the policy it runs when none is given. A trace whose
    /// capacity does not grow with the worker count (an SWF machine is
    /// split N ways; a recording runs its recorded fleet) needs a
    /// `--cluster` to plan on.
    pub(crate) fn check(&self, env: &EnvSettings) -> Result<SchedulerName> {
        let prepared = self.request.prepare(env)?;
        if let (Some(t), Source::Trace(source)) = (prepared.trace(), &self.request.source) {
            let fixed = matches!(t.format, TraceFormat::Swf | TraceFormat::Recording);
            if fixed && source.cluster.is_none() {
                return Err(Error::invalid(
                    "--cluster",
                    format!(
                        "{} is {}, whose pool is fixed: give --cluster SCENARIO to plan N workers of that scenario's profile",
                        t.file,
                        match t.format {
                            TraceFormat::Swf => "an SWF trace (one machine split N ways)",
                            _ => "a coordinator's recording",
                        }
                    ),
                ));
            }
        }
        Ok(prepared.scenario().scheduler)
    }

    /// One replication, reduced to the targets' metrics.
    pub(crate) fn sample(
        &self,
        env: &EnvSettings,
        targets: &[Target],
        workers: u32,
        scheduler: SchedulerName,
        seed: u64,
    ) -> Result<Sample> {
        let (output, tally) = self.run(env, workers, scheduler, seed)?;
        let doc = metrics_doc(&output)?;
        let values = targets
            .iter()
            .map(|t| match t.metric.as_str() {
                "makespan" => Ok(tally.makespan()),
                "p_wait" => Ok(tally.p_wait()),
                path => lookup(&doc, path).ok_or_else(|| {
                    Error::Run(format!("the results of a run have no number at {path}"))
                }),
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(Sample {
            finished: output.run.end_reason == EndReason::AllFinal,
            values,
        })
    }
}

/// A pool the source refuses (an SWF machine split over more workers than
/// it has processors; a recording's own fleet) is a bad `--min`/`--max`
/// range or a missing `--cluster`, not a bad `--workers`, which plan has
/// no flag for.
fn as_pool(e: Error, workers: u32) -> Error {
    match e {
        Error::InvalidInput { flag, message } if flag == "--workers" => Error::invalid(
            "--max",
            format!("the source cannot run {workers} workers: {message} (lower --max, or give --cluster SCENARIO)"),
        ),
        e => e,
    }
}

/// The parts of the results JSON a target may name: `metrics` and `run`.
pub(crate) fn metrics_doc(output: &RunOutput) -> Result<Value> {
    let to = |v: serde_json::Result<Value>| v.map_err(|e| Error::Run(format!("results: {e}")));
    Ok(serde_json::json!({
        "metrics": to(serde_json::to_value(&output.metrics))?,
        "run": to(serde_json::to_value(&output.run))?,
    }))
}

/// The derived metrics, counted from every test's final record.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tally {
    tests: u64,
    waited: u64,
    first_submit: Option<SimTime>,
    last_end: Option<SimTime>,
}

impl Tally {
    /// Last test's end minus the first submission, seconds (0 for none).
    pub(crate) fn makespan(&self) -> f64 {
        match (self.first_submit, self.last_end) {
            (Some(a), Some(b)) if b > a => b.as_secs_f64() - a.as_secs_f64(),
            _ => 0.0,
        }
    }

    /// Share of the tests that waited at all (0 for none).
    pub(crate) fn p_wait(&self) -> f64 {
        if self.tests == 0 {
            0.0
        } else {
            self.waited as f64 / self.tests as f64
        }
    }
}

impl Observer for Tally {
    fn on_final(&mut self, r: &TestRecord) -> Result<()> {
        self.tests += 1;
        self.waited += u64::from(r.waited_us > 0);
        let first = self.first_submit.get_or_insert(r.submitted_at);
        *first = (*first).min(r.submitted_at);
        if let Some(end) = r.finished_at {
            self.last_end = Some(self.last_end.map_or(end, |e| e.max(end)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Overrides;

    fn normal_operation(tests: u64) -> PlanSource {
        let mut request = RunRequest::new(Source::Scenario {
            name: "normal_operation".into(),
            config: None,
        });
        request.overrides = Overrides {
            tests: Some(tests),
            ..Default::default()
        };
        PlanSource {
            request,
            profile: None,
        }
    }

    #[test]
    fn a_sample_reads_file_paths_and_derived_metrics() {
        let targets: Vec<Target> = ["makespan<=1", "p_wait<=1", "wait.avg<=1", "run.end_time<=1"]
            .iter()
            .map(|t| Target::parse(t).unwrap())
            .collect();
        let env = EnvSettings::default();
        let src = normal_operation(40);
        let s = src
            .sample(&env, &targets, 12, SchedulerName::DEFAULT, 7)
            .unwrap();
        assert!(s.finished);
        let (output, tally) = src.run(&env, 12, SchedulerName::DEFAULT, 7).unwrap();
        assert_eq!(output.scenario.workers, 12);
        assert_eq!(s.values[0], tally.makespan());
        assert!(s.values[0] > 0.0 && s.values[0] <= output.run.end_time);
        assert!((0.0..=1.0).contains(&s.values[1]));
        assert_eq!(s.values[2], output.metrics.wait.avg);
        assert_eq!(s.values[3], output.run.end_time);
        // The same seed, the same numbers.
        assert_eq!(
            src.sample(&env, &targets, 12, SchedulerName::DEFAULT, 7)
                .unwrap(),
            s
        );
    }

    #[test]
    fn the_tally_counts_waits_and_the_span() {
        let mut t = Tally::default();
        assert_eq!((t.makespan(), t.p_wait()), (0.0, 0.0));
        t.tests = 4;
        t.waited = 1;
        t.first_submit = Some(SimTime::from_secs(2));
        t.last_end = Some(SimTime::from_secs(12));
        assert_eq!((t.makespan(), t.p_wait()), (10.0, 0.25));
    }
}
