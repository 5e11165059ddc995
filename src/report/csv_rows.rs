//! The per-test CSV, streamed row by row as tests become final.

use super::atomic::AtomicFile;
use crate::balancer::TestRecord;
use crate::engine::Observer;
use crate::error::{Error, Result};
use crate::sim::SimTime;
use std::path::Path;

/// The columns, in order. Times are simulated seconds with six decimals;
/// an empty cell means "never" (e.g. `assigned_at` of a rejected test).
pub const TEST_CSV_COLUMNS: [&str; 14] = [
    "id",
    "priority",
    "memory_gb",
    "cuda",
    "submitted_at",
    "assigned_at",
    "started_at",
    "finished_at",
    "worker",
    "attempts",
    "outcome",
    "requeues",
    "wait",
    "expected_duration",
];

/// Writes one row per test to a file that appears only when the run succeeds.
pub struct TestCsv {
    file: AtomicFile,
}

fn secs(t: Option<SimTime>) -> String {
    t.map(|t| format!("{:.6}", t.as_secs_f64()))
        .unwrap_or_default()
}

impl TestCsv {
    pub fn create(path: &Path) -> Result<TestCsv> {
        let mut csv = TestCsv {
            file: AtomicFile::create(path)?,
        };
        csv.write_row(&TEST_CSV_COLUMNS.map(String::from))?;
        Ok(csv)
    }

    fn write_row(&mut self, cells: &[String]) -> Result<()> {
        use std::io::Write;
        let line = cells.join(",");
        let path = self.file.path().to_path_buf();
        writeln!(self.file.writer(), "{line}").map_err(|e| Error::io(path, e))
    }

    /// The row of one record (no cell ever needs quoting).
    pub fn row(r: &TestRecord) -> Vec<String> {
        vec![
            r.id.to_string(),
            r.priority.to_string(),
            format!("{:.6}", r.memory_mib as f64 / 1024.0),
            r.cuda_devices.to_string(),
            secs(Some(r.submitted_at)),
            secs(r.assigned_at),
            secs(r.started_at),
            secs(r.finished_at),
            r.worker.map(|w| w.to_string()).unwrap_or_default(),
            r.attempts.to_string(),
            r.outcome.as_str().to_string(),
            r.requeues.to_string(),
            format!("{:.6}", r.waited_us as f64 / 1e6),
            format!("{:.6}", r.expected_us as f64 / 1e6),
        ]
    }

    /// Renames the finished file into place.
    pub fn commit(self) -> Result<()> {
        self.file.commit()
    }
}

impl Observer for TestCsv {
    fn on_final(&mut self, record: &TestRecord) -> Result<()> {
        self.write_row(&TestCsv::row(record))
    }
}
