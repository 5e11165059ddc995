//! Read-only views of the core for the API: tests, workers and the status
//! snapshot the dashboards read.

use super::{CallError, CallResult, Core, TestEntry, WorkerEntry};
use crate::api::{
    Heartbeat, RunView, TestList, TestState, TestView, WorkerList, WorkerStatusView, WorkerView,
};
use serde::{Deserialize, Serialize};

/// Store µs as seconds.
fn secs(us: u64) -> f64 {
    us as f64 / 1e6
}

/// The last minute, µs.
const MINUTE_US: u64 = 60_000_000;

/// `GET /v1/status`: one type for both ends, serialised by the server and
/// read back by the dashboards (`lbsim dashboard monitor`), so the two
/// cannot drift apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Status {
    pub scheduler: String,
    /// Seconds since this server process started.
    pub uptime_s: f64,
    /// Seconds since the store was created (the time base of every record).
    pub now: f64,
    pub tests: StatusCounts,
    pub workers: StatusWorkers,
    /// Pending tests by priority (index 0 is priority 1).
    pub pending_by_priority: [u64; 5],
    pub last_minute: LastMinute,
    pub totals: StatusTotals,
}

/// Test counts: `submitted` and one per state. The dashboard keeps its
/// counts in this type too (a simulation leaves `assigned`, `cancelled` and
/// `timed_out` at 0), so a
/// polled document needs no translation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusCounts {
    pub submitted: u64,
    pub pending: u64,
    pub assigned: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
    /// Absent from servers older than cancellation: read as 0.
    #[serde(default)]
    pub cancelled: u64,
    #[serde(default)]
    pub timed_out: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusWorkers {
    pub active: u64,
    pub draining: u64,
    pub offline: u64,
    /// Live workers (not offline) with their load.
    pub live: Vec<WorkerLoadView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkerLoadView {
    pub worker_id: u64,
    pub name: Option<String>,
    pub status: WorkerStatusView,
    /// Last measured utilisation, percent.
    pub load: Heartbeat,
    pub effective_load: f64,
    pub tests: u64,
}

/// Throughput and latency over the last 60 seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastMinute {
    pub assigned_per_s: f64,
    pub completed_per_s: f64,
    pub latency_avg_s: f64,
    pub latency_p95_s: f64,
    pub latency_max_s: f64,
}

/// Counters since this server process started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusTotals {
    pub assigned: u64,
    pub lost: u64,
    pub worker_timeouts: u64,
}

impl Core {
    fn test_view(&self, id: u64, t: &TestEntry) -> TestView {
        TestView {
            test_id: id,
            state: t.state,
            requirements: t.request.clone(),
            attempts: t.attempts,
            losses: t.losses,
            worker_id: t.worker,
            submitted_at: secs(t.submitted_us),
            assigned_at: t.first_assigned_us.map(secs),
            started_at: t.started_us.map(secs),
            finished_at: t.finished_us.map(secs),
            run_time_s: t.run_time_s,
            reason: t.reason.clone(),
            result: t
                .result
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            exit_code: t.exit_code,
            has_log: t.log_tail.is_some(),
            runs: t
                .runs
                .iter()
                .map(|r| RunView {
                    attempt: r.attempt,
                    worker_id: r.worker,
                    assigned_at: secs(r.assigned_us),
                    started_at: r.started_us.map(secs),
                    ended_at: r.ended_us.map(secs),
                    outcome: r.outcome.map(str::to_string),
                    run_time_s: r.run_time_s,
                    exit_code: r.exit_code,
                })
                .collect(),
        }
    }

    pub fn get_test(&self, id: u64) -> CallResult<TestView> {
        let t = self
            .test(id)
            .ok_or_else(|| CallError::not_found(format!("test {id}")))?;
        Ok(self.test_view(id, t))
    }

    /// Tests with ids after `after`, optionally in one state, at most `limit`.
    pub fn list_tests(&self, state: Option<TestState>, after: u64, limit: usize) -> TestList {
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(self.tests.len());
        let mut tests = Vec::new();
        let mut last = None;
        for (i, t) in self.tests.iter().enumerate().skip(start) {
            if tests.len() == limit {
                break;
            }
            last = Some(i as u64 + 1);
            if state.is_none_or(|s| s == t.state) {
                tests.push(self.test_view(i as u64 + 1, t));
            }
        }
        let more = last.is_some_and(|l| l < self.tests.len() as u64);
        TestList {
            tests,
            next_after: if more { last } else { None },
        }
    }

    fn worker_view(&self, id: u64, w: &WorkerEntry) -> WorkerView {
        let state = w.balancer.map(|b| self.balancer.worker(b));
        WorkerView {
            worker_id: id,
            name: w.registration.name.clone(),
            status: w.status,
            capabilities: w.registration.clone(),
            load: w.load.clone(),
            effective_load: state.map_or(0.0, |s| s.effective_load()),
            tests: state.map_or_else(Vec::new, |s| s.running.iter().map(|t| t.0).collect()),
            assignments: w.assignments,
            joined_at: secs(w.joined_us),
            left_at: w.left_us.map(secs),
            reason: w.reason.clone(),
        }
    }

    pub(crate) fn get_worker(&self, id: u64) -> CallResult<WorkerView> {
        let w = self
            .worker(id)
            .ok_or_else(|| CallError::not_found(format!("worker {id}")))?;
        Ok(self.worker_view(id, w))
    }

    pub fn list_workers(&self) -> WorkerList {
        WorkerList {
            workers: (self.workers.iter().enumerate())
                .map(|(i, w)| self.worker_view(i as u64 + 1, w))
                .collect(),
        }
    }

    /// The status snapshot; drops facts older than a minute.
    pub fn status(&mut self, now: u64, uptime_s: f64) -> Status {
        let since = now.saturating_sub(MINUTE_US);
        while self.recent.front().is_some_and(|&(at, _)| at < since) {
            self.recent.pop_front();
        }
        while self
            .recent_completions
            .front()
            .is_some_and(|&at| at < since)
        {
            self.recent_completions.pop_front();
        }
        let window_s = secs(now).clamp(1.0, 60.0);
        let mut latencies: Vec<f64> = self.recent.iter().map(|&(_, l)| secs(l)).collect();
        latencies.sort_by(f64::total_cmp);
        let p = crate::metrics::Percentiles::of(&latencies);
        let mut pending_by_priority = [0u64; 5];
        for t in self.tests.iter().filter(|t| t.state == TestState::Pending) {
            pending_by_priority[usize::from(t.spec.priority.clamp(1, 5)) - 1] += 1;
        }
        let c = self.counts;
        Status {
            scheduler: self.scheduler_label().to_string(),
            uptime_s,
            now: secs(now),
            tests: StatusCounts {
                submitted: c.iter().sum(),
                pending: c[0],
                assigned: c[1],
                running: c[2],
                completed: c[3],
                failed: c[4],
                rejected: c[5],
                cancelled: c[6],
                timed_out: c[7],
            },
            workers: self.status_workers(),
            pending_by_priority,
            last_minute: LastMinute {
                assigned_per_s: latencies.len() as f64 / window_s,
                completed_per_s: self.recent_completions.len() as f64 / window_s,
                latency_avg_s: p.avg,
                latency_p95_s: p.p95,
                latency_max_s: p.max,
            },
            totals: StatusTotals {
                assigned: self.totals.assigned,
                lost: self.totals.lost,
                worker_timeouts: self.totals.worker_timeouts,
            },
        }
    }

    fn status_workers(&self) -> StatusWorkers {
        let mut s = StatusWorkers {
            active: 0,
            draining: 0,
            offline: 0,
            live: Vec::new(),
        };
        for (i, w) in self.workers.iter().enumerate() {
            match w.status {
                WorkerStatusView::Active => s.active += 1,
                WorkerStatusView::Draining => s.draining += 1,
                WorkerStatusView::Offline => s.offline += 1,
            }
            if let Some(b) = w.balancer {
                let state = self.balancer.worker(b);
                s.live.push(WorkerLoadView {
                    worker_id: i as u64 + 1,
                    name: w.registration.name.clone(),
                    status: w.status,
                    load: w.load.clone(),
                    effective_load: state.effective_load(),
                    tests: state.running.len() as u64,
                });
            }
        }
        s
    }
}
