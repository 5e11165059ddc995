//! The coordinator's recording (`lbsim serve --record FILE`): every fact the
//! balancer core saw, one JSON object per line, read back as a trace so the
//! simulator can replay a live run with the same pool, arrivals and run
//! times under any policy.
//!
//! A line is `{"t": SECONDS, "fact": KIND, ...}`; `t` is seconds since the
//! service's store was created (monotonic across restarts). The first line
//! of each server start is a `session` fact.

use crate::balancer::model::{Backends, TestSpec, WorkerSpec};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// The format's version, in every `session` fact.
pub const RECORDING_VERSION: u32 = 1;

/// One line of a recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactLine {
    /// Seconds since the store was created.
    pub t: f64,
    #[serde(flatten)]
    pub fact: Fact,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fact {
    /// The server started (or restarted) and began recording.
    Session {
        lbsim_recording: u32,
        scheduler: String,
    },
    /// A worker registered.
    Join {
        worker: u64,
        memory_gb: f64,
        memory_mib: u64,
        cpu_cores: u32,
        cuda_devices: u32,
        backends: Vec<String>,
    },
    /// A worker started draining.
    Drain { worker: u64 },
    /// A worker left (timed out or deleted); its runs were requeued.
    Fail { worker: u64, reason: String },
    /// A test was submitted (`rejected` set when it was refused at once).
    Submit {
        test: u64,
        priority: u8,
        memory_mib: u64,
        cuda_devices: u32,
        cpu_cores: u32,
        backend: Option<String>,
        expected_duration_s: f64,
        model_family: u32,
        concurrency_key: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rejected: Option<String>,
    },
    /// The live balancer's decision.
    Assign {
        test: u64,
        worker: u64,
        attempt: u32,
    },
    /// The worker started the run.
    Start { test: u64, attempt: u32 },
    /// A run ended: the test is final (`success`), with its run time.
    Complete {
        test: u64,
        attempt: u32,
        success: bool,
        run_time_s: f64,
    },
}

impl Fact {
    pub fn join(worker: u64, spec: &WorkerSpec) -> Fact {
        Fact::Join {
            worker,
            memory_gb: spec.memory_gb,
            memory_mib: spec.memory_mib,
            cpu_cores: spec.cpu_cores,
            cuda_devices: spec.cuda_devices,
            backends: spec
                .backends
                .names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    pub fn submit(test: u64, spec: &TestSpec, rejected: Option<String>) -> Fact {
        Fact::Submit {
            test,
            priority: spec.priority,
            memory_mib: spec.memory_mib,
            cuda_devices: spec.cuda_devices,
            cpu_cores: spec.cpu_cores,
            backend: spec
                .backend
                .and_then(|b| b.names().first().map(|s| s.to_string())),
            expected_duration_s: spec.expected_duration.as_secs_f64(),
            model_family: spec.model_family,
            concurrency_key: spec.concurrency_key,
            rejected,
        }
    }

    /// The line, as written (no newline).
    pub fn line(self, t_us: u64) -> String {
        let line = FactLine {
            t: t_us as f64 / 1e6,
            fact: self,
        };
        serde_json::to_string(&line).unwrap_or_default()
    }
}

/// The worker a `join` fact describes.
pub fn worker_spec(
    memory_gb: f64,
    memory_mib: u64,
    cores: u32,
    cuda: u32,
    backends: &[String],
) -> WorkerSpec {
    let set = backends
        .iter()
        .filter_map(|b| Backends::from_name(b))
        .fold(Backends::default(), Backends::union);
    WorkerSpec {
        memory_mib,
        memory_gb,
        cpu_cores: cores,
        cuda_devices: cuda,
        backends: set,
        speed: 1.0,
    }
}

/// The test a `submit` fact describes.
pub fn test_spec(f: &Fact) -> Option<TestSpec> {
    let Fact::Submit {
        priority,
        memory_mib,
        cuda_devices,
        cpu_cores,
        backend,
        expected_duration_s,
        model_family,
        concurrency_key,
        ..
    } = f
    else {
        return None;
    };
    Some(TestSpec {
        priority: *priority,
        memory_mib: *memory_mib,
        cuda_devices: *cuda_devices,
        cpu_cores: *cpu_cores,
        backend: backend.as_deref().and_then(Backends::from_name),
        expected_duration: SimDuration::from_secs_f64(*expected_duration_s),
        model_family: *model_family,
        concurrency_key: *concurrency_key,
    })
}

/// The pool a recording saw, for the replay's cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordedPool {
    /// Every worker that joined, in order, with its join time (replay s).
    pub joins: Vec<(f64, WorkerSpec)>,
    /// Drains and failures (replay s), in order.
    pub leaves: Vec<(f64, crate::scenario::ChurnAction)>,
    /// Every assignment the live coordinator made, in order.
    pub decisions: Vec<LiveDecision>,
    /// The policy the coordinator ran (its last session's).
    pub scheduler: Option<String>,
}

/// One assignment of the live coordinator, named as the replay names it:
/// tests by their place in the recording, workers by their join order.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveDecision {
    /// Seconds since the recording's first fact.
    pub t: f64,
    pub job: usize,
    pub worker: usize,
    pub attempt: u32,
}

/// A recording being read: the jobs so far and the pool they ran on.
struct RecordingReader {
    trace: super::Trace,
    pool: RecordedPool,
    /// Test id -> its index in `trace.jobs`.
    index: std::collections::BTreeMap<u64, usize>,
    /// Worker id -> its place in join order.
    workers: std::collections::BTreeMap<u64, usize>,
    finished: std::collections::BTreeSet<u64>,
}

/// Reads a whole recording. Times become seconds since its first fact.
pub fn read<R: std::io::BufRead>(file: &str, input: R) -> crate::error::Result<super::Trace> {
    use super::{bad_line, numbered_lines, Trace, TraceFormat};
    let mut r = RecordingReader {
        trace: Trace::empty(file, TraceFormat::Recording),
        pool: RecordedPool::default(),
        index: Default::default(),
        workers: Default::default(),
        finished: Default::default(),
    };
    let mut t0 = None;
    for line in numbered_lines(file, input) {
        let (n, line) = line?;
        if line.trim().is_empty() {
            continue;
        }
        let fact: FactLine = serde_json::from_str(&line)
            .map_err(|e| bad_line(file, n, format!("not a recording fact: {e}")))?;
        if !(fact.t.is_finite() && fact.t >= 0.0) {
            return Err(bad_line(file, n, "t: must be seconds >= 0"));
        }
        let t = (fact.t - *t0.get_or_insert(fact.t)).max(0.0);
        r.apply(t, n, &fact.fact)
            .ok_or_else(|| bad_line(file, n, "bad submit"))?;
    }
    let mut trace = r.trace;
    trace.estimated = (trace.records as usize - r.finished.len()) as u64;
    trace.recorded = Some(r.pool);
    Ok(trace)
}

impl RecordingReader {
    /// A live decision, kept when its test and worker are known.
    fn assign(&mut self, t: f64, test: u64, worker: u64, attempt: u32) {
        if let (Some(&job), Some(&worker)) = (self.index.get(&test), self.workers.get(&worker)) {
            let d = LiveDecision {
                t,
                job,
                worker,
                attempt,
            };
            self.pool.decisions.push(d);
        }
    }

    /// Takes one fact at `t` (seconds since the first), from line `n`;
    /// `None` for a submission whose requirements make no test.
    fn apply(&mut self, t: f64, n: u64, fact: &Fact) -> Option<()> {
        use super::TraceJob;
        use crate::scenario::ChurnAction;
        use crate::sim::SimTime;
        match fact {
            Fact::Join {
                worker,
                memory_gb,
                memory_mib,
                cpu_cores,
                cuda_devices,
                backends,
            } => {
                let spec =
                    worker_spec(*memory_gb, *memory_mib, *cpu_cores, *cuda_devices, backends);
                self.workers.insert(*worker, self.pool.joins.len());
                self.pool.joins.push((t, spec));
            }
            Fact::Drain { .. } => self.pool.leaves.push((t, ChurnAction::Drain)),
            Fact::Fail { .. } => self.pool.leaves.push((t, ChurnAction::Fail)),
            Fact::Submit {
                test,
                expected_duration_s,
                ..
            } => {
                self.trace.records += 1;
                let spec = test_spec(fact)?;
                self.index.insert(*test, self.trace.jobs.len());
                self.trace.jobs.push(TraceJob {
                    submit: SimTime::from_secs_f64(t),
                    run: SimDuration::from_secs_f64(*expected_duration_s),
                    success: true,
                    spec,
                    line: n,
                });
            }
            Fact::Complete {
                test,
                success,
                run_time_s,
                ..
            } => {
                if let Some(&i) = self.index.get(test) {
                    let job = &mut self.trace.jobs[i];
                    job.run = SimDuration::from_secs_f64(run_time_s.max(0.0));
                    job.success = *success;
                    self.finished.insert(*test);
                }
            }
            Fact::Assign {
                test,
                worker,
                attempt,
            } => self.assign(t, *test, *worker, *attempt),
            Fact::Session { scheduler, .. } => self.pool.scheduler = Some(scheduler.clone()),
            Fact::Start { .. } => {}
        }
        Some(())
    }
}

/// Workers that joined before the first submission are the initial pool.
fn initial_count(trace: &super::Trace, pool: &RecordedPool) -> usize {
    let first = trace
        .jobs
        .first()
        .map_or(f64::MAX, |j| j.submit.as_secs_f64());
    pool.joins
        .iter()
        .filter(|(t, _)| *t <= first)
        .count()
        .max(1)
}

/// The replay's cluster: as many workers as were there at the first
/// submission, with capabilities drawn from the recorded workers' (the same
/// pool when the fleet was uniform; the same mix otherwise).
pub fn cluster(
    trace: &super::Trace,
    workers: Option<u32>,
) -> crate::error::Result<(crate::scenario::WorkerProfile, super::ClusterPlan)> {
    let none =
        || crate::error::Error::bad_file(trace.file.clone(), "whole file", "no worker joined");
    let pool = trace.recorded.as_ref().ok_or_else(none)?;
    let first = pool.joins.first().ok_or_else(none)?;
    let specs: Vec<&WorkerSpec> = pool.joins.iter().map(|(_, s)| s).collect();
    let uniform = specs.iter().all(|s| *s == &first.1);
    let fraction =
        first.1.memory_mib as f64 / (first.1.memory_gb * crate::balancer::model::MIB_PER_GB);
    let profile = crate::scenario::WorkerProfile {
        memory_gb: specs.iter().map(|s| s.memory_gb).collect(),
        cuda_devices: specs.iter().map(|s| s.cuda_devices).collect(),
        cpu_cores: specs.iter().map(|s| s.cpu_cores).collect(),
        speed: vec![1.0],
        usable_memory_fraction: fraction.clamp(0.01, 1.0),
    };
    let plan = super::ClusterPlan {
        workers: workers.unwrap_or(initial_count(trace, pool) as u32),
        cores_per_worker: uniform.then_some(first.1.cpu_cores),
        memory_gb_per_worker: uniform.then_some(first.1.memory_gb),
        processors: None,
        processors_source: std::borrow::Cow::Borrowed(if uniform {
            "recorded workers"
        } else {
            "recorded workers (capabilities drawn from their mix)"
        }),
        processors_left_out: 0,
        memory_modelled: true,
    };
    Ok((profile, plan))
}

/// Later joins, drains and failures as scripted churn (a drain or failure
/// takes the oldest active worker), times multiplied by `factor`.
pub fn churn(trace: &super::Trace, factor: f64) -> crate::scenario::Churn {
    use crate::scenario::{ChurnAction, ChurnEvent};
    let Some(pool) = &trace.recorded else {
        return crate::scenario::Churn::None;
    };
    let initial = initial_count(trace, pool);
    let event = |t: f64, action| ChurnEvent {
        at_s: t * factor,
        action,
        count: 1,
        every_s: 0.0,
        replace: false,
    };
    let mut events: Vec<ChurnEvent> = pool.joins[initial.min(pool.joins.len())..]
        .iter()
        .map(|(t, _)| event(*t, ChurnAction::Join))
        .chain(pool.leaves.iter().map(|(t, a)| event(*t, *a)))
        .collect();
    events.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    if events.is_empty() {
        crate::scenario::Churn::None
    } else {
        crate::scenario::Churn::Timeline { events }
    }
}
