//! The coordinator's recording (`lbsim serve --record FILE`): every fact the
//! balancer core saw, one JSON object per line, read back as a trace so the
//! simulator can replay a live run with the same pool, arrivals and run
//! times under any policy.
//!
//! A line is `{"t": SECONDS, "fact": KIND, ...}`; `t` is seconds since the
//! service's store was created (monotonic across restarts). The first line
//! of each server start is a `session` fact.

use crate::balancer::model::{Backends, TestSpec, WorkerSpec};
use crate::scenario::{ChurnAction, RecordedLeave, RecordedWorker};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// The format's version, in every `session` fact.
pub const RECORDING_VERSION: u32 = 1;

/// One line of a recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactLine {
    /// Seconds since the store was created.
    pub t: f64,
    /// What happened at `t`, with its fields on the same line.
    #[serde(flatten)]
    pub fact: Fact,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fact {
    /// The server started (or restarted) and began recording.
    Session {
        /// The format's version ([`RECORDING_VERSION`]).
        lbsim_recording: u32,
        /// The policy the live balancer ran.
        scheduler: String,
    },
    /// A worker registered.
    Join {
        /// The service's id for the worker.
        worker: u64,
        /// Installed memory, GB.
        memory_gb: f64,
        /// Memory tests may use, MiB.
        memory_mib: u64,
        /// CPU cores.
        cpu_cores: u32,
        /// CUDA devices.
        cuda_devices: u32,
        /// The backends it can run tests on, by name.
        backends: Vec<String>,
        /// The name it registered with (absent in older recordings).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The labels it carries (absent in older recordings and when none;
        /// the simulator does not model labels).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        labels: Vec<String>,
    },
    /// A worker started draining.
    Drain {
        /// The service's id for the worker.
        worker: u64,
    },
    /// A worker left (timed out or deleted); its runs were requeued.
    Fail {
        /// The service's id for the worker.
        worker: u64,
        /// Why it left, in the service's words.
        reason: String,
    },
    /// A test was submitted (`rejected` set when it was refused at once).
    Submit {
        /// The service's id for the test.
        test: u64,
        /// Its priority (higher goes first).
        priority: u8,
        /// Memory it needs, MiB.
        memory_mib: u64,
        /// CUDA devices it needs.
        cuda_devices: u32,
        /// CPU cores it needs.
        cpu_cores: u32,
        /// The backend it must run on, if any.
        backend: Option<String>,
        /// The run time the submitter expected, seconds.
        expected_duration_s: f64,
        /// Its model family (affinity groups tests that share one).
        model_family: u32,
        /// At most one test of a key runs at a time, if set.
        concurrency_key: Option<u32>,
        /// Why it was refused at once, if it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rejected: Option<String>,
        /// The test's name, when it had one (absent in older recordings).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The labels it asked for (absent when none).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        labels: Vec<String>,
    },
    /// The live balancer's decision.
    Assign {
        /// The service's id for the test.
        test: u64,
        /// The service's id for the worker it went to.
        worker: u64,
        /// Which attempt this is (1 for the first).
        attempt: u32,
    },
    /// The worker started the run.
    Start {
        /// The service's id for the test.
        test: u64,
        /// Which attempt started (1 for the first).
        attempt: u32,
    },
    /// The test was cancelled (`POST /v1/tests/{id}/cancel`): it is final.
    Cancel {
        /// The service's id for the test.
        test: u64,
    },
    /// A heartbeat changed the load the balancer sees on a worker: the
    /// measured load its booked runs do not explain (fractions 0–1, as the
    /// balancer's drift). Written only when it changes; absent from
    /// recordings made before it existed (read as no such load).
    Load {
        /// The service's id for the worker.
        worker: u64,
        /// Unexplained CPU load, fraction 0–1.
        cpu: f64,
        /// Unexplained memory use, fraction 0–1.
        memory: f64,
        /// Unexplained GPU load, fraction 0–1.
        gpu: f64,
    },
    /// A run ended, with its measured run time: the test is final
    /// (`success`), unless `retried` (a failed run with retries left: the
    /// test is pending again).
    Complete {
        /// The service's id for the test.
        test: u64,
        /// Which attempt ended (1 for the first).
        attempt: u32,
        /// Whether the run passed.
        success: bool,
        /// The run's measured time, seconds.
        run_time_s: f64,
        /// `passed`, `failed`, `timed_out` or `cancelled` (absent in older
        /// recordings: `success` says it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
        /// A failed run with retries left: the test is pending again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        retried: bool,
    },
}

impl Fact {
    /// The `join` fact of a worker registering with `spec`.
    pub fn join(worker: u64, spec: &WorkerSpec, name: Option<String>, labels: Vec<String>) -> Fact {
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
            name,
            labels,
        }
    }

    /// A submission; `name` and `labels` come from the request (the spec
    /// holds labels only as interned bits).
    pub fn submit(
        test: u64,
        spec: &TestSpec,
        rejected: Option<String>,
        name: Option<String>,
        labels: Vec<String>,
    ) -> Fact {
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
            name,
            labels,
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
    /// Every worker that joined, in join order, `at_s` in seconds since the
    /// recording's first fact.
    pub joins: Vec<RecordedWorker>,
    /// Drains and failures of those workers, in order (same clock); facts
    /// about a worker whose join is not in the recording are left out.
    pub leaves: Vec<RecordedLeave>,
    /// Every assignment the live coordinator made, in order.
    pub decisions: Vec<LiveDecision>,
    /// The policy the coordinator ran (its last session's).
    pub scheduler: Option<String>,
    /// Every recorded change of a worker's unexplained load, in order.
    pub loads: Vec<RecordedLoad>,
}

/// A `load` fact, named as the replay names it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedLoad {
    /// Seconds since the recording's first fact.
    pub t: f64,
    /// The worker's place in join order.
    pub worker: usize,
    /// Its unexplained load, as the balancer takes it.
    pub drift: crate::balancer::model::LoadDrift,
}

/// One assignment of the live coordinator, named as the replay names it:
/// tests by their place in the recording, workers by their join order.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveDecision {
    /// Seconds since the recording's first fact.
    pub t: f64,
    /// The test's place in the recording.
    pub job: usize,
    /// The worker's place in join order.
    pub worker: usize,
    /// Which attempt of the test this is (1 for the first).
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

    /// A load change of a worker whose join was recorded (a value out of
    /// 0–1 is clamped: the balancer's drift is a fraction).
    fn load(&mut self, t: f64, worker: u64, [cpu, memory, gpu]: [f64; 3]) {
        let frac = |x: f64| {
            if x.is_finite() {
                x.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        if let Some(&i) = self.workers.get(&worker) {
            self.pool.loads.push(RecordedLoad {
                t,
                worker: i,
                drift: crate::balancer::model::LoadDrift {
                    cpu: frac(cpu),
                    memory: frac(memory),
                    gpu: frac(gpu),
                    io: 0.0,
                    network: 0.0,
                },
            });
        }
    }

    /// A drain or failure of a worker whose join was recorded.
    fn leave(&mut self, t: f64, worker: u64, action: ChurnAction) {
        if let Some(&i) = self.workers.get(&worker) {
            self.pool.leaves.push(RecordedLeave {
                at_s: t,
                worker: i as u32,
                action,
            });
        }
    }

    /// Takes one fact at `t` (seconds since the first), from line `n`;
    /// `None` for a submission whose requirements make no test.
    fn apply(&mut self, t: f64, n: u64, fact: &Fact) -> Option<()> {
        match fact {
            Fact::Join {
                worker,
                memory_gb,
                memory_mib,
                cpu_cores,
                cuda_devices,
                backends,
                name,
                ..
            } => {
                self.workers.insert(*worker, self.pool.joins.len());
                self.pool.joins.push(RecordedWorker {
                    at_s: t,
                    memory_gb: *memory_gb,
                    memory_mib: *memory_mib,
                    cpu_cores: *cpu_cores,
                    cuda_devices: *cuda_devices,
                    backends: backends.clone(),
                    name: name.clone(),
                });
            }
            Fact::Drain { worker } => self.leave(t, *worker, ChurnAction::Drain),
            Fact::Fail { worker, .. } => self.leave(t, *worker, ChurnAction::Fail),
            Fact::Submit {
                test,
                expected_duration_s,
                ..
            } => self.submit(t, n, *test, *expected_duration_s, fact)?,
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
            Fact::Cancel { test } => self.cancel(*test),
            Fact::Load {
                worker,
                cpu,
                memory,
                gpu,
            } => self.load(t, *worker, [*cpu, *memory, *gpu]),
        }
        Some(())
    }

    /// A submitted test: a job that runs its expected duration unless a
    /// report says otherwise.
    fn submit(&mut self, t: f64, n: u64, test: u64, expected_s: f64, fact: &Fact) -> Option<()> {
        use super::TraceJob;
        use crate::sim::SimTime;
        self.trace.records += 1;
        let spec = test_spec(fact)?;
        self.index.insert(test, self.trace.jobs.len());
        self.trace.jobs.push(TraceJob {
            submit: SimTime::from_secs_f64(t),
            run: SimDuration::from_secs_f64(expected_s),
            success: true,
            spec,
            line: n,
        });
        Some(())
    }

    /// A cancelled test is replayed as a failed run of what it ran
    /// (nothing, if it never reported a run).
    fn cancel(&mut self, test: u64) {
        if let Some(&i) = self.index.get(&test) {
            let job = &mut self.trace.jobs[i];
            if !self.finished.contains(&test) {
                job.run = SimDuration::ZERO;
            }
            job.success = false;
            self.finished.insert(test);
        }
    }
}

/// Workers that joined by the first submission are the initial pool (at
/// least the first to join: a run starts with a worker).
fn initial_count(trace: &super::Trace, pool: &RecordedPool) -> usize {
    let first = trace
        .jobs
        .first()
        .map_or(f64::MAX, |j| j.submit.as_secs_f64());
    pool.joins.iter().filter(|w| w.at_s <= first).count().max(1)
}

/// The replay's cluster as reported: the workers there at the first
/// submission, with per-worker figures when the fleet is uniform, and the
/// recorded mix as the profile (the run itself takes each recorded worker
/// as it registered: see [`churn`]).
pub fn cluster(
    trace: &super::Trace,
) -> crate::error::Result<(crate::scenario::WorkerProfile, super::ClusterPlan)> {
    let none =
        || crate::error::Error::bad_file(trace.file.clone(), "whole file", "no worker joined");
    let pool = trace.recorded.as_ref().ok_or_else(none)?;
    let specs: Vec<WorkerSpec> = pool.joins.iter().map(RecordedWorker::spec).collect();
    let first = specs.first().ok_or_else(none)?;
    let uniform = specs.iter().all(|s| s == first);
    let fraction = first.memory_mib as f64 / (first.memory_gb * crate::balancer::model::MIB_PER_GB);
    let profile = crate::scenario::WorkerProfile {
        memory_gb: specs.iter().map(|s| s.memory_gb).collect(),
        cuda_devices: specs.iter().map(|s| s.cuda_devices).collect(),
        cpu_cores: specs.iter().map(|s| s.cpu_cores).collect(),
        speed: vec![1.0],
        usable_memory_fraction: fraction.clamp(0.01, 1.0),
    };
    let plan = super::ClusterPlan {
        workers: initial_count(trace, pool) as u32,
        cores_per_worker: uniform.then_some(first.cpu_cores),
        memory_gb_per_worker: uniform.then_some(first.memory_gb),
        processors: None,
        processors_source: std::borrow::Cow::Borrowed("recorded workers"),
        processors_left_out: 0,
        memory_modelled: true,
    };
    Ok((profile, plan))
}

/// The recorded pool to replay, times multiplied by `factor`: the initial
/// workers at time zero, every later one at its join time, and each drain
/// and failure on the worker it happened to.
pub fn churn(trace: &super::Trace, factor: f64) -> crate::scenario::Churn {
    let Some(pool) = &trace.recorded else {
        return crate::scenario::Churn::None;
    };
    let initial = initial_count(trace, pool);
    let workers = (pool.joins.iter().enumerate())
        .map(|(i, w)| RecordedWorker {
            at_s: if i < initial { 0.0 } else { w.at_s * factor },
            ..w.clone()
        })
        .collect();
    let leaves = (pool.leaves.iter())
        .map(|l| RecordedLeave {
            at_s: l.at_s * factor,
            ..l.clone()
        })
        .collect();
    crate::scenario::Churn::Recorded { workers, leaves }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::model::{WorkerId, WorkerStatus};
    use crate::balancer::policy::SchedulerName;
    use crate::engine::{NoObserver, Simulation};
    use crate::sim::SimTime;
    use crate::workload::trace::{replay_scenario, ReplayOptions, TraceArrivals};

    fn submit(t: f64, test: u64, duration: f64) -> String {
        format!(
            r#"{{"t":{t},"fact":"submit","test":{test},"priority":3,"memory_mib":1024,"cuda_devices":0,"cpu_cores":1,"backend":null,"expected_duration_s":{duration},"model_family":0,"concurrency_key":null}}"#
        )
    }

    /// A mixed fleet: two workers before the first submission, one after;
    /// the late one drains and the second fails, while the oldest (the
    /// first) stays: a drain or failure on "the oldest" would miss both.
    fn mixed_fleet() -> String {
        let join = |t, w, gb, mib, cores, cuda, backends: &str, name: &str| {
            format!(
                r#"{{"t":{t},"fact":"join","worker":{w},"memory_gb":{gb},"memory_mib":{mib},"cpu_cores":{cores},"cuda_devices":{cuda},"backends":[{backends}]{name}}}"#
            )
        };
        [
            r#"{"t":100,"fact":"session","lbsim_recording":1,"scheduler":"least_loaded"}"#.into(),
            join(
                100.5,
                1,
                16.0,
                14745,
                8,
                0,
                r#""cpu""#,
                r#","name":"cpu-a""#,
            ),
            join(101.0, 2, 64.0, 60000, 32, 2, r#""cpu","cuda""#, ""),
            submit(102.0, 1, 10.0),
            join(
                103.0,
                3,
                8.0,
                7000,
                4,
                0,
                r#""cpu","rocm""#,
                r#","name":"late""#,
            ),
            submit(104.0, 2, 0.5),
            r#"{"t":105,"fact":"drain","worker":3}"#.into(),
            r#"{"t":106,"fact":"fail","worker":2,"reason":"left (DELETE)"}"#.into(),
            r#"{"t":107,"fact":"drain","worker":99}"#.into(),
        ]
        .join("\n")
    }

    fn options(workers: Option<u32>) -> ReplayOptions {
        ReplayOptions {
            workers,
            scheduler: SchedulerName::RoundRobin,
            seed: 42,
            time_scale: 1.0,
            load_factor: 1.0,
            cluster: None,
            balancing: Default::default(),
        }
    }

    #[test]
    fn the_recorded_pool_joins_and_leaves_exactly_as_recorded() {
        let trace = read("rec.jsonl", mixed_fleet().as_bytes()).unwrap();
        let pool = trace.recorded.clone().unwrap();
        assert_eq!(pool.joins.len(), 3);
        assert_eq!(pool.joins[0].name.as_deref(), Some("cpu-a"));
        assert_eq!(pool.leaves.len(), 2, "the unknown worker 99 is left out");
        let replay = replay_scenario(&trace, &options(None)).unwrap();
        assert_eq!(
            replay.scenario.workers, 2,
            "the pool at the first submission"
        );
        let mut observer = NoObserver;
        let arrivals = Box::new(TraceArrivals::new(replay.jobs.clone()));
        let mut sim = Simulation::with_arrivals(&replay.scenario, arrivals, &mut observer);
        sim.run_until(SimTime::from_secs(60)).unwrap();
        let workers = sim.balancer().workers();
        let specs: Vec<WorkerSpec> = workers.iter().map(|w| w.spec.clone()).collect();
        let recorded: Vec<WorkerSpec> = pool.joins.iter().map(RecordedWorker::spec).collect();
        assert_eq!(specs, recorded, "every worker exactly as it registered");
        assert_eq!(specs[2].backends.names(), ["cpu", "rocm"]);
        assert_eq!(specs[1].memory_mib, 60000, "usable memory as granted");
        let joined: Vec<f64> = workers.iter().map(|w| w.joined_at.as_secs_f64()).collect();
        assert_eq!(joined, [0.0, 0.0, 3.0]);
        let left: Vec<Option<f64>> = workers
            .iter()
            .map(|w| w.left_at.map(|t| t.as_secs_f64()))
            .collect();
        assert_eq!(left, [None, Some(6.0), Some(5.0)]);
        assert_eq!(workers[0].status, WorkerStatus::Active);
        let ids: Vec<WorkerId> = workers.iter().map(|w| w.id).collect();
        assert_eq!(ids, [WorkerId(0), WorkerId(1), WorkerId(2)]);
    }

    #[test]
    fn workers_is_refused_unless_another_pool_is_named() {
        let trace = read("rec.jsonl", mixed_fleet().as_bytes()).unwrap();
        let err = replay_scenario(&trace, &options(Some(4))).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string()
                .starts_with("invalid --workers: a recording replays its own pool (3 workers"),
            "{err}"
        );
        let cluster = crate::workload::trace::ClusterPool {
            workers: 5,
            profile: crate::scenario::WorkerProfile::default(),
        };
        let o = ReplayOptions {
            cluster: Some(cluster),
            ..options(Some(4))
        };
        let s = replay_scenario(&trace, &o).unwrap().scenario;
        assert_eq!(s.workers, 4);
        assert_eq!(
            s.churn,
            crate::scenario::Churn::None,
            "no recorded churn on another pool"
        );
    }
}
