//! The live run a recording describes, measured like `lbsim load` measures
//! one: the recording's facts become the service's test and worker records
//! (submission, each run's assignment, start and end, the final state),
//! which `loadgen::results::from_records` summarises with the simulator's
//! own collector. Times are seconds since the recording's first fact, the
//! replay's clock.

use crate::balancer::model::MIB_PER_GB;
use crate::engine::RunOutput;
use crate::error::{Error, Result};
use crate::loadgen::results::{from_records, TimeBase};
use crate::scenario::Scenario;
use crate::service::api::{
    Heartbeat, RunView, TestRequest, TestState, TestView, WorkerRegistration, WorkerStatusView,
    WorkerView,
};
use crate::workload::trace::recording::{Fact, FactLine};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// The records a recording holds, as the service would list them.
#[derive(Default)]
pub(crate) struct LiveRecords {
    pub(crate) tests: Vec<TestView>,
    pub(crate) workers: Vec<WorkerView>,
    /// The first fact's time (the replay's zero).
    pub(crate) t0: f64,
    /// The last fact about a test.
    pub(crate) end: f64,
    test_index: BTreeMap<u64, usize>,
    worker_index: BTreeMap<u64, usize>,
}

/// Reads the recording's facts into records (the file was read as a trace
/// already, so a bad line here is unexpected, but still named).
pub(crate) fn read(path: &Path) -> Result<LiveRecords> {
    let file = crate::input::open(path, crate::input::InputKind::Trace)?;
    let name = path.display().to_string();
    let mut r = LiveRecords::default();
    let mut first = None;
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let fact: FactLine = serde_json::from_str(&line)
            .map_err(|e| Error::bad_file(name.clone(), format!("line {}", n + 1), e.to_string()))?;
        first.get_or_insert(fact.t);
        r.apply(fact.t, &fact.fact);
    }
    r.t0 = first.unwrap_or(0.0);
    r.end = r.end.max(r.t0);
    // Workers that left after the last test fact (a load's fleet drains
    // once every test is final) end the run active, as `lbsim load` reads
    // them: their leaving is not part of the run.
    for w in &mut r.workers {
        if w.left_at.is_some_and(|l| l > r.end) {
            w.left_at = None;
            w.status = WorkerStatusView::Active;
        }
    }
    Ok(r)
}

/// The live run's output over `scenario` (the replay's, for its window).
pub(crate) fn output(r: &LiveRecords, scenario: &Scenario) -> RunOutput {
    let base = TimeBase {
        t0: r.t0,
        speed: 1.0,
    };
    from_records(scenario, &r.tests, &r.workers, base, r.end)
}

impl LiveRecords {
    fn test(&mut self, id: u64) -> Option<&mut TestView> {
        let &i = self.test_index.get(&id)?;
        self.tests.get_mut(i)
    }

    fn apply(&mut self, t: f64, fact: &Fact) {
        match fact {
            Fact::Join { worker, .. } => self.join(t, *worker, fact),
            Fact::Drain { worker } | Fact::Fail { worker, .. } => self.leave(t, *worker, fact),
            Fact::Submit { test, rejected, .. } => {
                self.submit(t, *test, fact, rejected.is_some());
                self.end = self.end.max(t);
            }
            Fact::Assign {
                test,
                worker,
                attempt,
            } => {
                self.end = self.end.max(t);
                if let Some(v) = self.test(*test) {
                    end_open_run(v, t, "requeued");
                    v.state = TestState::Assigned;
                    v.attempts = *attempt;
                    v.worker_id = Some(*worker);
                    v.assigned_at.get_or_insert(t);
                    v.runs.push(RunView {
                        attempt: *attempt,
                        worker_id: *worker,
                        assigned_at: t,
                        started_at: None,
                        ended_at: None,
                        outcome: None,
                        run_time_s: None,
                        exit_code: None,
                    });
                }
            }
            Fact::Start { test, .. } => {
                if let Some(v) = self.test(*test) {
                    v.state = TestState::Running;
                    v.started_at = Some(t);
                    if let Some(run) = v.runs.last_mut() {
                        run.started_at = Some(t);
                    }
                }
            }
            Fact::Complete {
                test,
                success,
                run_time_s,
                retried,
                ..
            } => self.complete(t, *test, *success, *run_time_s, *retried),
            Fact::Cancel { test } => {
                self.end = self.end.max(t);
                if let Some(v) = self.test(*test) {
                    end_open_run(v, t, "cancelled");
                    v.state = TestState::Cancelled;
                    v.finished_at = Some(t);
                }
            }
            Fact::Session { .. } | Fact::Load { .. } => {}
        }
    }

    /// A run ended: the test is final, or pending again when the run
    /// failed with retries left (`retried`).
    fn complete(&mut self, t: f64, test: u64, success: bool, run_time_s: f64, retried: bool) {
        self.end = self.end.max(t);
        if let Some(v) = self.test(test) {
            let outcome = if success { "completed" } else { "failed" };
            end_open_run(v, t, outcome);
            v.run_time_s = Some(run_time_s);
            if retried {
                v.state = TestState::Pending;
                return;
            }
            v.state = if success {
                TestState::Completed
            } else {
                TestState::Failed
            };
            v.finished_at = Some(t);
        }
    }

    fn join(&mut self, t: f64, id: u64, fact: &Fact) {
        let Fact::Join {
            memory_gb,
            cpu_cores,
            cuda_devices,
            backends,
            name,
            ..
        } = fact
        else {
            return;
        };
        self.worker_index.insert(id, self.workers.len());
        self.workers.push(WorkerView {
            worker_id: id,
            name: name.clone(),
            status: WorkerStatusView::Active,
            capabilities: WorkerRegistration {
                memory_gb: *memory_gb,
                cpu_cores: *cpu_cores,
                cuda_devices: *cuda_devices,
                backends: Some(backends.clone()),
                name: name.clone(),
                labels: Vec::new(),
            },
            load: Heartbeat::default(),
            effective_load: 0.0,
            tests: Vec::new(),
            assignments: 0,
            joined_at: t,
            left_at: None,
            reason: None,
        });
    }

    /// A drain or a failure: the worker leaves the pool (a failure also
    /// sends its runs back to pending, as the service does).
    fn leave(&mut self, t: f64, id: u64, fact: &Fact) {
        let Some(&i) = self.worker_index.get(&id) else {
            return;
        };
        let w = &mut self.workers[i];
        if w.left_at.is_none() {
            w.left_at = Some(t);
            w.status = WorkerStatusView::Offline;
        }
        if matches!(fact, Fact::Fail { .. }) {
            for v in &mut self.tests {
                let open = v.runs.last().is_some_and(|r| r.ended_at.is_none());
                if open && v.worker_id == Some(id) && !v.state.is_final() {
                    end_open_run(v, t, "requeued");
                    v.state = TestState::Pending;
                }
            }
        }
    }

    fn submit(&mut self, t: f64, id: u64, fact: &Fact, rejected: bool) {
        let Some(spec) = crate::workload::trace::recording::test_spec(fact) else {
            return;
        };
        let requirements = TestRequest {
            memory_gb: spec.memory_mib as f64 / MIB_PER_GB,
            cuda_devices: spec.cuda_devices,
            cpu_cores: spec.cpu_cores,
            backend: spec
                .backend
                .and_then(|b| b.names().first().map(|s| s.to_string())),
            priority: spec.priority,
            expected_duration_s: Some(spec.expected_duration.as_secs_f64()),
            ..TestRequest::default()
        };
        self.test_index.insert(id, self.tests.len());
        self.tests.push(TestView {
            test_id: id,
            state: if rejected {
                TestState::Rejected
            } else {
                TestState::Pending
            },
            requirements,
            attempts: 0,
            losses: 0,
            worker_id: None,
            submitted_at: t,
            assigned_at: None,
            started_at: None,
            finished_at: rejected.then_some(t),
            run_time_s: None,
            reason: None,
            result: None,
            exit_code: None,
            has_log: false,
            runs: Vec::new(),
        });
    }
}

/// Closes the test's run in progress, if any.
fn end_open_run(v: &mut TestView, t: f64, outcome: &str) {
    if let Some(run) = v.runs.last_mut().filter(|r| r.ended_at.is_none()) {
        run.ended_at = Some(t);
        run.outcome = Some(outcome.to_string());
    }
}
