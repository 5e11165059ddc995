//! What a run keeps for `Results.tests()` and `Results.decisions()`: every
//! final test record and every decision, in the order the CSV outputs
//! would list them, turned into Python dicts only when asked.

use lbsim::balancer::model::TestId;
use lbsim::balancer::{Assignment, TestRecord};
use lbsim::engine::Observer;
use lbsim::sim::SimTime;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicBool, Ordering};

/// Simulated time between two looks at the stop flag: the engine calls
/// `on_time` at most once per event and at most once per this much
/// simulated time, so the look costs nothing measurable.
const STOP_CHECK_US: u64 = 100_000;

/// Collects records and decisions while a run goes, and stops the run
/// (an error the caller turns into `KeyboardInterrupt`) once `stop` is set.
pub(crate) struct Recorder<'a> {
    pub(crate) keep: bool,
    pub(crate) stop: &'a AtomicBool,
    pub(crate) tests: Vec<TestRecord>,
    pub(crate) decisions: Vec<Assignment>,
}

impl<'a> Recorder<'a> {
    pub(crate) fn new(keep: bool, stop: &'a AtomicBool) -> Self {
        Recorder {
            keep,
            stop,
            tests: Vec::new(),
            decisions: Vec::new(),
        }
    }
}

impl Observer for Recorder<'_> {
    fn on_time(&mut self, now: SimTime) -> lbsim::Result<SimTime> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(lbsim::Error::Run("interrupted".into()));
        }
        Ok(SimTime(now.0.saturating_add(STOP_CHECK_US)))
    }

    fn on_decision(&mut self, decision: &Assignment) -> lbsim::Result<()> {
        if self.keep {
            self.decisions.push(*decision);
        }
        Ok(())
    }

    fn on_final(&mut self, record: &TestRecord) -> lbsim::Result<()> {
        if self.keep {
            self.tests.push(record.clone());
        }
        Ok(())
    }
}

fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

fn test_name(t: TestId) -> String {
    t.to_string()
}

/// One test as a dict with the per-test CSV's columns (seconds as floats,
/// `None` for "never").
pub(crate) fn test_dict<'py>(py: Python<'py>, r: &TestRecord) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", test_name(r.id))?;
    d.set_item("priority", r.priority)?;
    d.set_item("memory_gb", r.memory_mib as f64 / 1024.0)?;
    d.set_item("cuda", r.cuda_devices)?;
    d.set_item("submitted_at", secs(r.submitted_at))?;
    d.set_item("assigned_at", r.assigned_at.map(secs))?;
    d.set_item("started_at", r.started_at.map(secs))?;
    d.set_item("finished_at", r.finished_at.map(secs))?;
    d.set_item("worker", r.worker.map(|w| w.to_string()))?;
    d.set_item("attempts", r.attempts)?;
    d.set_item("outcome", r.outcome.as_str())?;
    d.set_item("requeues", r.requeues)?;
    d.set_item("wait", r.waited_us as f64 / 1e6)?;
    d.set_item("expected_duration", r.expected_us as f64 / 1e6)?;
    Ok(d)
}

/// One decision as a dict with the decision log's columns.
pub(crate) fn decision_dict<'py>(
    py: Python<'py>,
    a: &Assignment,
    policy: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("time", secs(a.time))?;
    d.set_item("test", test_name(a.test))?;
    d.set_item("worker", a.worker.to_string())?;
    d.set_item("policy", policy)?;
    d.set_item("score", if a.score.is_finite() { a.score } else { 0.0 })?;
    d.set_item("candidates", a.candidates)?;
    d.set_item("attempt", a.attempt)?;
    Ok(d)
}
