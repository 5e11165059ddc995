//! `lbsim fidelity REC`: how well the simulator reproduces a live
//! coordinator. The recording (`lbsim serve --record`) is replayed under its
//! own policy (or another), on its own pool, with its own arrivals and run
//! times and the loads its heartbeats reported; then each live decision is
//! set beside the replay's (same worker or not, and why the first one that
//! differs did) and each key metric of the live run beside the replay's.
//! So a user can gate "the model still matches production".

pub(crate) mod agreement;
pub(crate) mod live;
pub(crate) mod metrics;

use crate::balancer::model::WorkerId;
use crate::balancer::policy::SchedulerName;
use crate::balancer::{Assignment, TestRecord};
use crate::engine::{Observer, RunOutput, Simulation};
use crate::error::{Error, Result};
use crate::sim::SimTime;
use crate::workload::trace::recording::RecordedPool;
use crate::workload::trace::{replay_scenario, ReplayOptions, Trace, TraceArrivals, TraceFormat};
use agreement::{Agreement, Placed, Spans};
use metrics::MetricError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// How to replay.
#[derive(Clone, Debug)]
pub(crate) struct FidelityOptions {
    /// Replay under this policy instead of the recorded one.
    pub(crate) scheduler: Option<SchedulerName>,
    pub(crate) seed: u64,
    /// Gate: decisions placed elsewhere and each gated metric's error, percent.
    pub(crate) tolerance_pct: f64,
    /// How long each replayed run holds its worker.
    pub(crate) run_time: RunTime,
}

/// How long a replayed run holds its worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RunTime {
    /// From its assignment to its report, as the live balancer saw it
    /// (the run time plus the lease hand-out, start and report round trips).
    Held,
    /// The run time the worker reported (what `lbsim replay` uses).
    Reported,
}

impl RunTime {
    pub(crate) fn parse(s: &str) -> std::result::Result<RunTime, String> {
        match s {
            "held" => Ok(RunTime::Held),
            "reported" => Ok(RunTime::Reported),
            _ => Err(format!("'{s}' is not held or reported")),
        }
    }
}

/// The time runs held their workers beyond their reported run time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Overhead {
    pub(crate) avg_s: f64,
    pub(crate) max_s: f64,
}

/// What `lbsim fidelity` found (the `--json` document).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct FidelityReport {
    pub(crate) recording: String,
    /// The policy the recording names (its last session's).
    pub(crate) recorded_scheduler: Option<String>,
    /// The policy the replay ran.
    pub(crate) scheduler: String,
    pub(crate) tests: u64,
    pub(crate) workers: u64,
    /// `held` (assignment to report) or `reported` (the worker's run time).
    pub(crate) run_time: RunTime,
    /// Recorded load changes applied during the replay (0 for a recording
    /// made before `load` facts existed).
    pub(crate) loads_replayed: u64,
    pub(crate) decisions: Agreement,
    /// How long a completed run held its worker beyond its reported run
    /// time (lease hand-out, start and report round trips): the replay,
    /// which runs each test for its reported run time, frees workers that
    /// much sooner.
    pub(crate) live_overhead: Overhead,
    pub(crate) metrics: Vec<MetricError>,
    pub(crate) tolerance_pct: f64,
    /// The largest of: the share of decisions placed elsewhere, and each
    /// gated metric's error (percent).
    pub(crate) worst_pct: f64,
    pub(crate) within_tolerance: bool,
}

/// Replays the recording and compares.
pub(crate) fn fidelity(path: &Path, o: &FidelityOptions) -> Result<FidelityReport> {
    let trace = Trace::load(path, Some(TraceFormat::Recording))?;
    let file = path.display().to_string();
    let pool = trace.recorded.clone().unwrap_or_default();
    if pool.decisions.is_empty() {
        return Err(Error::bad_file(
            file,
            "whole file",
            "no assignment recorded: nothing to compare",
        ));
    }
    let scheduler = scheduler_of(&file, o, &pool)?;
    let options = ReplayOptions {
        workers: None,
        scheduler,
        seed: o.seed,
        time_scale: 1.0,
        load_factor: 1.0,
        cluster: None,
        balancing: Default::default(),
    };
    let mut replay = replay_scenario(&trace, &options)?;
    let records = live::read(path)?;
    if o.run_time == RunTime::Held {
        hold(&mut replay.jobs, &records);
    }
    let mut seen = Seen::default();
    let output = run_replay(&replay, &pool, &mut seen)?;
    let live_out = live::output(&records, &replay.scenario);
    let live_decisions: Vec<Placed> = (pool.decisions.iter())
        .map(|d| Placed {
            t: d.t,
            test: d.job,
            worker: d.worker,
        })
        .collect();
    let decisions = agreement::compare(
        &live_decisions,
        &seen.decisions,
        &live_spans(&records),
        &seen.spans(),
    );
    let metrics = metrics::key_metrics(&live_out, &output);
    let worst = (100.0 - decisions.agreement_pct).max(metrics::worst_gated(&metrics));
    Ok(FidelityReport {
        recording: file,
        recorded_scheduler: pool.scheduler.clone(),
        scheduler: scheduler.to_string(),
        tests: replay.jobs.len() as u64,
        workers: pool.joins.len() as u64,
        run_time: o.run_time,
        loads_replayed: pool.loads.len() as u64,
        decisions,
        live_overhead: overhead(&records),
        metrics,
        tolerance_pct: o.tolerance_pct,
        worst_pct: (worst * 1e6).round() / 1e6,
        within_tolerance: worst <= o.tolerance_pct,
    })
}

/// The policy to replay: `--scheduler`, else the one the recording names.
fn scheduler_of(file: &str, o: &FidelityOptions, pool: &RecordedPool) -> Result<SchedulerName> {
    match (o.scheduler, pool.scheduler.as_deref()) {
        (Some(s), _) => Ok(s),
        (None, Some(name)) => SchedulerName::parse(name).map_err(|_| {
            Error::invalid(
                "--scheduler",
                format!(
                    "{file} was recorded under '{name}', which the simulator does not model: \
                     name a policy"
                ),
            )
        }),
        (None, None) => Err(Error::invalid(
            "--scheduler",
            format!("{file} names no policy (no session fact): name one"),
        )),
    }
}

/// Each job's run becomes the time its last live run held its worker
/// (assignment to report). Jobs and tests are both in recording order; a
/// test that never completed keeps its run time.
fn hold(jobs: &mut [crate::workload::trace::TraceJob], r: &live::LiveRecords) {
    for (job, t) in jobs.iter_mut().zip(&r.tests) {
        let held = t.runs.last().and_then(|run| {
            let end = run.ended_at.filter(|_| t.state.is_final())?;
            Some(end - run.assigned_at)
        });
        if let Some(h) = held.filter(|h| h.is_finite() && *h >= 0.0) {
            job.run = crate::sim::SimDuration::from_secs_f64(h);
        }
    }
}

/// Runs the replay, setting each recorded load just before its time.
fn run_replay(
    replay: &crate::workload::trace::Replay,
    pool: &RecordedPool,
    seen: &mut Seen,
) -> Result<RunOutput> {
    let arrivals = Box::new(TraceArrivals::new(replay.jobs.clone()));
    let mut sim = Simulation::with_arrivals(&replay.scenario, arrivals, seen);
    for l in &pool.loads {
        let at = SimTime::from_secs_f64(l.t);
        if at.0 > 0 {
            sim.run_until(SimTime(at.0 - 1))?;
        }
        sim.set_drift(WorkerId(l.worker as u32), l.drift);
    }
    sim.finish()
}

/// The replay's decisions and final records, as they happen.
#[derive(Default)]
struct Seen {
    decisions: Vec<Placed>,
    finished: BTreeMap<usize, f64>,
}

impl Observer for Seen {
    fn on_decision(&mut self, a: &Assignment) -> Result<()> {
        self.decisions.push(Placed {
            t: a.time.as_secs_f64(),
            test: a.test.0 as usize,
            worker: a.worker.0 as usize,
        });
        Ok(())
    }

    fn on_final(&mut self, r: &TestRecord) -> Result<()> {
        if let Some(f) = r.finished_at {
            self.finished.insert(r.id.0 as usize, f.as_secs_f64());
        }
        Ok(())
    }
}

impl Seen {
    /// Each replayed run: until the test's next assignment, else its end.
    fn spans(&self) -> Spans {
        let mut next: BTreeMap<usize, f64> = BTreeMap::new();
        let mut out = Vec::with_capacity(self.decisions.len());
        for d in self.decisions.iter().rev() {
            let end = next
                .get(&d.test)
                .copied()
                .or_else(|| self.finished.get(&d.test).copied())
                .unwrap_or(f64::INFINITY);
            out.push((d.worker, d.test, d.t, end));
            next.insert(d.test, d.t);
        }
        Spans(out)
    }
}

/// Each live run on the replay's clock, its worker by join order.
fn live_spans(r: &live::LiveRecords) -> Spans {
    let order: BTreeMap<u64, usize> = (r.workers.iter().enumerate())
        .map(|(i, w)| (w.worker_id, i))
        .collect();
    let mut out = Vec::new();
    for (k, t) in r.tests.iter().enumerate() {
        for run in &t.runs {
            if let Some(&w) = order.get(&run.worker_id) {
                let end = run.ended_at.map_or(f64::INFINITY, |e| e - r.t0);
                out.push((w, k, run.assigned_at - r.t0, end));
            }
        }
    }
    Spans(out)
}

/// Assignment to report, less the reported run time, over completed runs.
fn overhead(r: &live::LiveRecords) -> Overhead {
    let xs: Vec<f64> = (r.tests.iter())
        .filter_map(|t| {
            let run = t.runs.last()?;
            Some(run.ended_at? - run.assigned_at - t.run_time_s?)
        })
        .map(|x| x.max(0.0))
        .collect();
    let avg = if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    };
    let round = |x: f64| (x * 1e6).round() / 1e6;
    Overhead {
        avg_s: round(avg),
        max_s: round(xs.iter().copied().fold(0.0, f64::max)),
    }
}

/// The report as text.
pub(crate) fn render(r: &FidelityReport) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "fidelity {}: {} tests on {} workers, recorded under {}, replayed under {} (runs {})",
        r.recording,
        r.tests,
        r.workers,
        r.recorded_scheduler.as_deref().unwrap_or("(unknown)"),
        r.scheduler,
        match r.run_time {
            RunTime::Held => "held from assignment to report, as live",
            RunTime::Reported => "for their reported run time",
        }
    );
    let d = &r.decisions;
    let _ = writeln!(
        t,
        "decisions: {} of {} on the same worker ({:.1} %); {} recorded loads replayed",
        d.same_worker, d.live, d.agreement_pct, r.loads_replayed
    );
    if let Some(f) = &d.first_divergence {
        let _ = writeln!(
            t,
            "first divergence: decision #{}, {} (assignment {})",
            f.index, f.test, f.assignment
        );
        let _ = writeln!(t, "  live:   t={:.3} s {}", f.live.t, f.live.worker);
        match &f.replay {
            Some(p) => {
                let _ = writeln!(t, "  replay: t={:.3} s {}", p.t, p.worker);
            }
            None => {
                let _ = writeln!(t, "  replay: (not assigned)");
            }
        }
        let _ = writeln!(t, "  why:    {}", f.why);
    }
    let _ = writeln!(
        t,
        "live runs held their workers {:.3} s (max {:.3} s) beyond their reported run time",
        r.live_overhead.avg_s, r.live_overhead.max_s
    );
    t.push_str(&metrics::render(&r.metrics, "replay"));
    let verdict = if r.within_tolerance {
        "within"
    } else {
        "beyond"
    };
    let _ = writeln!(
        t,
        "{verdict} tolerance of {} % (worst: {:.1} %, of decisions placed elsewhere and the \
         gated metrics: turnaround avg and p95, latency p99, throughput, success rate)",
        r.tolerance_pct, r.worst_pct
    );
    t
}
