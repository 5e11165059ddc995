//! The per-test CSV, streamed row by row as tests become final.

use super::atomic::AtomicFile;
use crate::balancer::TestRecord;
use crate::engine::Observer;
use crate::error::{Error, Result};
use crate::sim::SimTime;
use std::path::Path;

/// The columns, in order. Times are simulated seconds with six decimals;
/// an empty cell means "never" (e.g. `assigned_at` of a rejected test).
pub(crate) const TEST_CSV_COLUMNS: [&str; 14] = [
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
pub(crate) struct TestCsv {
    file: AtomicFile,
    /// The row being written, kept to avoid an allocation per test.
    line: String,
}

/// `micros` as seconds with six decimals: exactly what
/// `format!("{:.6}", micros as f64 / 1e6)` prints, in integer arithmetic.
/// Below 2^33 s a double resolves a microsecond (its error is under half of
/// one), so rounding it to six decimals gives back the exact decimal; above,
/// the float formatting itself is used.
pub(super) fn push_secs(out: &mut String, micros: u64) {
    use std::fmt::Write;
    const EXACT_BELOW_US: u64 = (1 << 33) * 1_000_000;
    if micros < EXACT_BELOW_US {
        let _ = write!(out, "{}.{:06}", micros / 1_000_000, micros % 1_000_000);
    } else {
        let _ = write!(out, "{:.6}", micros as f64 / 1e6);
    }
}

impl TestCsv {
    /// Starts the per-test CSV at `path` (written atomically).
    pub(crate) fn create(path: &Path) -> Result<TestCsv> {
        let mut csv = TestCsv {
            file: AtomicFile::create(path)?,
            line: TEST_CSV_COLUMNS.join(","),
        };
        csv.write_line()?;
        Ok(csv)
    }

    fn write_line(&mut self) -> Result<()> {
        use std::io::Write;
        self.line.push('\n');
        let written = self.file.writer().write_all(self.line.as_bytes());
        self.line.clear();
        written.map_err(|e| Error::io(self.file.path().to_path_buf(), e))
    }

    /// Appends the row of one record to `out`, without a line end (no cell
    /// ever needs quoting).
    pub(crate) fn push_row(out: &mut String, r: &TestRecord) {
        use std::fmt::Write;
        let secs_or_empty = |out: &mut String, t: Option<SimTime>| {
            if let Some(t) = t {
                push_secs(out, t.0);
            }
        };
        let _ = write!(
            out,
            "{},{},{:.6},{},",
            r.id,
            r.priority,
            r.memory_mib as f64 / 1024.0,
            r.cuda_devices
        );
        push_secs(out, r.submitted_at.0);
        for t in [r.assigned_at, r.started_at, r.finished_at] {
            out.push(',');
            secs_or_empty(out, t);
        }
        out.push(',');
        if let Some(w) = r.worker {
            let _ = write!(out, "{w}");
        }
        let _ = write!(
            out,
            ",{},{},{},",
            r.attempts,
            r.outcome.as_str(),
            r.requeues
        );
        push_secs(out, r.waited_us);
        out.push(',');
        push_secs(out, r.expected_us);
    }

    /// Renames the finished file into place.
    pub(crate) fn commit(self) -> Result<()> {
        self.file.commit()
    }
}

impl Observer for TestCsv {
    fn on_final(&mut self, record: &TestRecord) -> Result<()> {
        TestCsv::push_row(&mut self.line, record);
        self.write_line()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn seconds_print_as_the_float_formatting_would() {
        let edge = (1u64 << 33) * 1_000_000;
        let mut cases = vec![
            0,
            1,
            999_999,
            1_000_000,
            1_000_001,
            edge - 1,
            edge,
            edge + 1,
        ];
        cases.extend([u64::MAX / 4, 10_000_000_000_000_000, 123_456_789_012_345]);
        let mut rng = RngStreams::new(1).stream(Stream::Custom(3));
        for _ in 0..200_000 {
            let bits = rng.below(60) as u32;
            cases.push(rng.next_u64() >> (63 - bits));
        }
        for micros in cases {
            let mut s = String::new();
            push_secs(&mut s, micros);
            assert_eq!(s, format!("{:.6}", micros as f64 / 1e6), "{micros}");
        }
    }
}
