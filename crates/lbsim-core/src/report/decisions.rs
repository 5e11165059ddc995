//! The decision log: one CSV row per assignment, in decision order. Diffing
//! two of them shows exactly which scheduling decisions a change moved.

use super::atomic::AtomicFile;
use crate::balancer::policy::SchedulerName;
use crate::balancer::{Assignment, TestRecord};
use crate::engine::Observer;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// The columns, in order.
pub const DECISION_COLUMNS: [&str; 7] = [
    "time",
    "test",
    "worker",
    "policy",
    "score",
    "candidates",
    "attempt",
];

/// Streams decisions to a file that appears only when the run succeeds.
pub(crate) struct DecisionLog {
    file: AtomicFile,
    policy: SchedulerName,
}

impl DecisionLog {
    /// Starts the decision log of a run of `policy` at `path` (written atomically).
    pub(crate) fn create(path: &Path, policy: SchedulerName) -> Result<DecisionLog> {
        let mut log = DecisionLog {
            file: AtomicFile::create(path)?,
            policy,
        };
        let header = DECISION_COLUMNS.join(",");
        log.line(&header)?;
        Ok(log)
    }

    fn line(&mut self, line: &str) -> Result<()> {
        let path = self.file.path().to_path_buf();
        writeln!(self.file.writer(), "{line}").map_err(|e| Error::io(path, e))
    }

    /// One row; the score is rounded like every output float.
    pub(crate) fn row(a: &Assignment, policy: SchedulerName) -> String {
        let score = if a.score.is_finite() {
            (a.score * 1e6).round() / 1e6
        } else {
            0.0
        };
        let score = if score == 0.0 { 0.0 } else { score };
        use std::fmt::Write as _;
        let mut row = String::with_capacity(64);
        super::csv_rows::push_secs(&mut row, a.time.0);
        let _ = write!(
            row,
            ",{},{},{},{:.6},{},{}",
            a.test, a.worker, policy, score, a.candidates, a.attempt
        );
        row
    }

    /// Finishes the file: it appears whole or not at all.
    pub(crate) fn commit(self) -> Result<()> {
        self.file.commit()
    }
}

impl Observer for DecisionLog {
    fn on_decision(&mut self, decision: &Assignment) -> Result<()> {
        let row = DecisionLog::row(decision, self.policy);
        self.line(&row)
    }

    fn on_final(&mut self, _record: &TestRecord) -> Result<()> {
        Ok(())
    }
}

/// The live decisions as decision-log rows (`--decisions` columns), times
/// mapped like the replay's submissions: `t × time_scale / load_factor`.
pub fn live_decision_rows(
    pool: &crate::workload::trace::recording::RecordedPool,
    time_scale: f64,
    load_factor: f64,
) -> Vec<String> {
    use crate::balancer::model::{TestId, WorkerId};
    let policy = pool.scheduler.as_deref().unwrap_or("live");
    pool.decisions
        .iter()
        .map(|d| {
            let at = crate::sim::SimTime::from_secs_f64(d.t * time_scale / load_factor);
            let mut row = String::with_capacity(64);
            super::csv_rows::push_secs(&mut row, at.0);
            let (test, worker) = (TestId(d.job as u64), WorkerId(d.worker as u32));
            row.push_str(&format!(
                ",{test},{worker},{policy},0.000000,0,{}",
                d.attempt
            ));
            row
        })
        .collect()
}
