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
