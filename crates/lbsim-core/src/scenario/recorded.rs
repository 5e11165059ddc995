//! A live coordinator's pool as its recording saw it (`lbsim replay` of a
//! `lbsim serve --record` file): every worker with the capabilities it
//! registered, joining at its recorded time, and each drain and failure on
//! the worker it happened to. Replayed exactly, never drawn.

use super::check::FieldPath;
use super::{ChurnAction, MAX_WORKERS};
use crate::balancer::model::{Backends, WorkerSpec};
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// One worker that registered with the coordinator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedWorker {
    /// When it joins, replay seconds (0 for the workers that were there at
    /// the first submission).
    pub at_s: f64,
    /// Installed memory, GB.
    pub memory_gb: f64,
    /// Memory tests may use (what the coordinator granted it).
    pub memory_mib: u64,
    /// CPU cores.
    pub cpu_cores: u32,
    /// CUDA devices.
    pub cuda_devices: u32,
    /// The backends it can run tests on, by name (unknown names are dropped).
    pub backends: Vec<String>,
    /// The name it registered with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl RecordedWorker {
    /// The balancer's view of it (recorded workers all run at speed 1: the
    /// recorded run times already carry their speed).
    pub fn spec(&self) -> WorkerSpec {
        let backends = (self.backends.iter())
            .filter_map(|b| Backends::from_name(b))
            .fold(Backends::default(), Backends::union);
        WorkerSpec {
            memory_mib: self.memory_mib,
            memory_gb: self.memory_gb,
            cpu_cores: self.cpu_cores,
            cuda_devices: self.cuda_devices,
            backends,
            speed: 1.0,
        }
    }
}

/// A recorded drain or failure (a `DELETE` or a lost heartbeat).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedLeave {
    /// Replay seconds.
    pub at_s: f64,
    /// The worker, by its place in join order (0: the first to join).
    pub worker: u32,
    /// `drain` or `fail`.
    pub action: ChurnAction,
}

/// The rules of a recorded pool, under `path` (`churn`).
pub(crate) fn check(
    workers: &[RecordedWorker],
    leaves: &[RecordedLeave],
    path: &FieldPath,
) -> Result<()> {
    if workers.len() > MAX_WORKERS as usize {
        return Err(path.field("workers").error("more than 1000000 workers"));
    }
    for (i, w) in workers.iter().enumerate() {
        let at = path.field("workers").index(i);
        if !(w.at_s.is_finite() && w.at_s >= 0.0) {
            return Err(at.field("at_s").error("must be >= 0"));
        }
        if !(w.memory_gb.is_finite() && w.memory_gb > 0.0) {
            return Err(at.field("memory_gb").error("must be a positive number"));
        }
    }
    for (i, l) in leaves.iter().enumerate() {
        let at = path.field("leaves").index(i);
        if !(l.at_s.is_finite() && l.at_s >= 0.0) {
            return Err(at.field("at_s").error("must be >= 0"));
        }
        let Some(w) = workers.get(l.worker as usize) else {
            return Err(at.field("worker").error("names no recorded worker"));
        };
        if l.at_s < w.at_s {
            return Err(at.field("at_s").error("is before the worker joined"));
        }
        if l.action == ChurnAction::Join {
            return Err(at.field("action").error("must be drain or fail"));
        }
    }
    Ok(())
}
