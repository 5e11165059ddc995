//! The client side of the coordinator's `GET /v1/status` document, as the
//! `monitor` dashboard reads it. Every field has a default, so a server that
//! adds, renames or leaves out a field still gives a document that parses.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// One snapshot of a running coordinator.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct StatusDoc {
    pub scheduler: String,
    pub uptime_s: f64,
    pub tests: TestCounts,
    pub workers: Vec<WorkerDoc>,
    pub pending_by_priority: ByPriority,
    pub throughput: ThroughputDoc,
    pub latency: LatencyDoc,
}

/// Tests by state; `submitted` is every test the coordinator accepted or
/// rejected, so the states add up to it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TestCounts {
    pub submitted: u64,
    pub pending: u64,
    pub assigned: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
}

/// One registered worker.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WorkerDoc {
    pub id: WorkerKey,
    pub name: Option<String>,
    /// `active`, `warming`, `cooling`, `draining`, `offline` or `failed`.
    pub status: String,
    pub load: LoadDoc,
    /// Tests it holds now (assigned or running).
    pub running: u64,
}

/// A worker id as the server writes it: a number or a string.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(untagged)]
pub enum WorkerKey {
    Number(u64),
    Text(String),
}

impl Default for WorkerKey {
    fn default() -> Self {
        WorkerKey::Text(String::new())
    }
}

impl fmt::Display for WorkerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerKey::Number(n) => write!(f, "{n}"),
            WorkerKey::Text(s) => f.write_str(s),
        }
    }
}

/// Measured utilisation, percent (0–100), as workers report it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct LoadDoc {
    pub cpu: f64,
    pub memory: f64,
    pub gpu: f64,
}

/// Pending tests by priority 1–5, either `{"1": n, …}` or `[n1, …, n5]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ByPriority {
    Map(BTreeMap<String, u64>),
    List(Vec<u64>),
}

impl Default for ByPriority {
    fn default() -> Self {
        ByPriority::List(Vec::new())
    }
}

impl ByPriority {
    /// Counts for priorities 1 to 5; anything else is left out.
    pub fn counts(&self) -> [u64; 5] {
        let mut out = [0; 5];
        match self {
            ByPriority::Map(map) => {
                for (key, &n) in map {
                    if let Ok(p @ 1..=5) = key.trim().parse::<usize>() {
                        out[p - 1] += n;
                    }
                }
            }
            ByPriority::List(list) => {
                for (slot, &n) in out.iter_mut().zip(list) {
                    *slot = n;
                }
            }
        }
        out
    }
}

/// Tests completed per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ThroughputDoc {
    /// Over the last few seconds (absent: the last minute's figure is shown).
    pub now_per_s: Option<f64>,
    pub last_minute_per_s: f64,
}

/// Scheduling latency of tests first assigned in the last minute, seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct LatencyDoc {
    pub avg_s: Option<f64>,
    pub p95_s: Option<f64>,
}

impl StatusDoc {
    /// Parses a document; the error is serde's, naming line and column.
    pub fn from_json(text: &str) -> Result<StatusDoc, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_object_parses_to_defaults() {
        let doc = StatusDoc::from_json("{}").unwrap();
        assert_eq!(doc, StatusDoc::default());
        assert_eq!(doc.pending_by_priority.counts(), [0; 5]);
    }

    #[test]
    fn unknown_fields_and_missing_ones_are_tolerated() {
        let doc = StatusDoc::from_json(
            r#"{"version": 3, "tests": {"submitted": 9, "completed": 4, "lost": 1},
                "workers": [{"id": 7, "status": "draining", "load": {"cpu": 50}}]}"#,
        )
        .unwrap();
        assert_eq!(doc.tests.submitted, 9);
        assert_eq!(doc.tests.completed, 4);
        assert_eq!(doc.workers[0].id, WorkerKey::Number(7));
        assert_eq!(doc.workers[0].load.cpu, 50.0);
        assert_eq!(doc.workers[0].load.gpu, 0.0);
    }

    #[test]
    fn pending_by_priority_reads_a_map_or_a_list() {
        let map: ByPriority = serde_json::from_str(r#"{"1": 2, "5": 7, "9": 1}"#).unwrap();
        assert_eq!(map.counts(), [2, 0, 0, 0, 7]);
        let list: ByPriority = serde_json::from_str("[1, 2, 3]").unwrap();
        assert_eq!(list.counts(), [1, 2, 3, 0, 0]);
    }

    #[test]
    fn a_worker_id_may_be_text() {
        let w: WorkerDoc = serde_json::from_str(r#"{"id": "w-1a", "name": "gpu-1"}"#).unwrap();
        assert_eq!(w.id.to_string(), "w-1a");
        assert_eq!(w.name.as_deref(), Some("gpu-1"));
    }
}
