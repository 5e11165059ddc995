//! lbsim's own per-test CSV (the `--csv` output) as a trace, so one run's
//! workload can be re-run against another policy or cluster.
//!
//! Columns are found by name. A completed or failed row replays its last
//! run (`finished_at − started_at`); a row that never finished a run
//! (rejected, or pending or running at the horizon) replays with its
//! `expected_duration` and is counted as estimated. The CSV has no core
//! count: every test needs one core, as the synthetic workload's do.

use super::{bad_line, Trace, TraceFormat, TraceJob};
use crate::balancer::model::{Backends, TestSpec, MIB_PER_GB};
use crate::error::{Error, Result};
use crate::sim::{SimDuration, SimTime};
use std::io::Read;

const NEEDED: [&str; 8] = [
    "priority",
    "memory_gb",
    "cuda",
    "submitted_at",
    "started_at",
    "finished_at",
    "outcome",
    "expected_duration",
];

/// One row's cells, with the line for error messages.
struct Row<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a [usize; 8],
}

impl Row<'_> {
    fn cell(&self, k: usize) -> &str {
        self.record.get(self.columns[k]).unwrap_or("").trim()
    }

    fn bad(&self, k: usize, what: &str) -> Error {
        bad_line(
            self.file,
            self.line,
            format!("{}: '{}' {what}", NEEDED[k], self.cell(k)),
        )
    }

    fn seconds(&self, k: usize) -> Result<Option<SimDuration>> {
        let c = self.cell(k);
        if c.is_empty() {
            return Ok(None);
        }
        match c.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(SimDuration::from_secs_f64(x))),
            _ => Err(self.bad(k, "is not a time in seconds")),
        }
    }

    fn required_seconds(&self, k: usize) -> Result<SimDuration> {
        self.seconds(k)?.ok_or_else(|| self.bad(k, "is empty"))
    }
}

/// Reads a whole per-test CSV.
pub(super) fn read<R: Read>(file: &str, input: R) -> Result<Trace> {
    let mut trace = Trace::empty(file, TraceFormat::Csv);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| bad_line(file, 1, format!("cannot read the header: {e}")))?
        .clone();
    let mut columns = [0usize; 8];
    for (k, name) in NEEDED.iter().enumerate() {
        columns[k] = headers
            .iter()
            .position(|h| h.trim() == *name)
            .ok_or_else(|| bad_line(file, 1, format!("missing column '{name}'")))?;
    }
    let id_column = headers.iter().position(|h| h.trim() == "id");
    let checked: Vec<(usize, Checked)> = CHECKED
        .iter()
        .filter_map(|(name, kind)| {
            let at = headers.iter().position(|h| h.trim() == *name)?;
            Some((at, *kind))
        })
        .collect();
    let mut rows: Vec<(SimTime, u64, TraceJob)> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                return Err(bad_line(file, line, format!("{e}")));
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        let row = Row {
            file,
            line,
            record: &record,
            columns: &columns,
        };
        trace.records += 1;
        check_cells(&row, &headers, &checked)?;
        let (job, estimated) = job_of(&row)?;
        trace.estimated += u64::from(estimated);
        let order = id_column
            .and_then(|c| record.get(c))
            .and_then(|id| id.trim().trim_start_matches("test-").parse().ok())
            .unwrap_or(trace.records);
        rows.push((job.submit, order, job));
    }
    // Rows are written as tests finish; replay them in submission order.
    rows.sort_by_key(|(t, order, _)| (*t, *order));
    trace.jobs = rows.into_iter().map(|(_, _, j)| j).collect();
    Ok(trace)
}

/// What a column the replay does not use must hold, when present: a row
/// that says a test was assigned before time began, or ran a negative
/// number of times, is not a record of a run.
#[derive(Clone, Copy)]
enum Checked {
    /// Empty (never happened) or seconds >= 0.
    Time,
    /// A whole number >= 0.
    Count,
}

const CHECKED: [(&str, Checked); 4] = [
    ("assigned_at", Checked::Time),
    ("wait", Checked::Time),
    ("attempts", Checked::Count),
    ("requeues", Checked::Count),
];

fn check_cells(row: &Row, headers: &csv::StringRecord, checked: &[(usize, Checked)]) -> Result<()> {
    for &(at, kind) in checked {
        let cell = row.record.get(at).unwrap_or("").trim();
        let ok = match kind {
            Checked::Time => {
                cell.is_empty() || cell.parse::<f64>().is_ok_and(|x| x.is_finite() && x >= 0.0)
            }
            Checked::Count => cell.parse::<u64>().is_ok(),
        };
        if !ok {
            let what = match kind {
                Checked::Time => "is not a time in seconds",
                Checked::Count => "is not a whole number >= 0",
            };
            let name = headers.get(at).unwrap_or("").trim();
            return Err(bad_line(
                row.file,
                row.line,
                format!("{name}: '{cell}' {what}"),
            ));
        }
    }
    Ok(())
}

/// The job of one row, and whether its run time is an estimate.
fn job_of(row: &Row) -> Result<(TraceJob, bool)> {
    let priority: u8 = row
        .cell(0)
        .parse()
        .ok()
        .filter(|p| (1..=5).contains(p))
        .ok_or_else(|| row.bad(0, "is not a priority from 1 to 5"))?;
    let memory_gb: f64 = row
        .cell(1)
        .parse()
        .ok()
        .filter(|m: &f64| m.is_finite() && *m >= 0.0)
        .ok_or_else(|| row.bad(1, "is not a memory size in GB"))?;
    let cuda: u32 = row
        .cell(2)
        .parse()
        .map_err(|_| row.bad(2, "is not a device count"))?;
    let submit = row.required_seconds(3)?;
    let expected = row.required_seconds(7)?;
    let (run, success, estimated) = match row.cell(6) {
        outcome @ ("completed" | "failed") => {
            let started = row.required_seconds(4)?;
            let finished = row.required_seconds(5)?;
            if finished < started {
                return Err(row.bad(5, "is before started_at"));
            }
            (
                SimDuration(finished.0 - started.0),
                outcome == "completed",
                false,
            )
        }
        "rejected" | "pending" | "running" => (expected, true, true),
        _ => return Err(row.bad(6, "is not an outcome")),
    };
    let spec = TestSpec {
        priority,
        // The CSV rounds to 6 decimals of a GB: nearest MiB recovers it.
        memory_mib: (memory_gb * MIB_PER_GB).round() as u64,
        cuda_devices: cuda,
        cpu_cores: 1,
        backend: (cuda > 0).then_some(Backends::CUDA),
        expected_duration: expected,
        model_family: 0,
        concurrency_key: None,
    };
    let job = TraceJob {
        submit: SimTime(submit.0),
        run,
        success,
        spec,
        line: row.line,
    };
    Ok((job, estimated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::TEST_CSV_COLUMNS;

    fn parse(rows: &str) -> Result<Trace> {
        let text = format!("{}\n{rows}", TEST_CSV_COLUMNS.join(","));
        read("r.csv", text.as_bytes())
    }

    #[test]
    fn rows_replay_their_last_run_in_submission_order() {
        let t = parse(
            "test-000001,2,1.000000,1,0.500000,0.5,0.5,3.0,worker-0000,1,failed,0,0.0,10.0\n\
             test-000000,1,0.000977,0,0.500000,0.5,1.0,11.0,worker-0001,1,completed,0,0.5,10.0\n\
             test-000002,5,0.5,0,0.7,,,,,0,rejected,0,0.0,4.0\n",
        )
        .unwrap();
        assert_eq!((t.records, t.estimated), (3, 1));
        let j = &t.jobs;
        assert_eq!(
            (j[0].spec.priority, j[0].run, j[0].success),
            (1, SimDuration::from_secs(10), true)
        );
        assert_eq!(j[0].spec.memory_mib, 1);
        assert_eq!((j[1].spec.priority, j[1].success), (2, false));
        assert_eq!(j[1].spec.backend, Some(Backends::CUDA));
        assert_eq!(
            (j[2].run, j[2].submit),
            (SimDuration::from_secs(4), SimTime(700_000))
        );
    }

    /// Regression: a negative `assigned_at` or `attempts` passed.
    #[test]
    fn columns_the_replay_does_not_use_must_still_be_sound() {
        let err = |rows: &str| parse(rows).unwrap_err().to_string();
        assert_eq!(
            err("test-000000,1,1.0,0,0.5,-2,1.0,11.0,w,1,completed,0,0.5,10.0\n"),
            "r.csv: line 2: assigned_at: '-2' is not a time in seconds"
        );
        assert_eq!(
            err("test-000000,1,1.0,0,0.5,0.5,1.0,11.0,w,-1,completed,0,0.5,10.0\n"),
            "r.csv: line 2: attempts: '-1' is not a whole number >= 0"
        );
    }

    #[test]
    fn malformed_rows_name_the_line() {
        let err = |rows: &str| parse(rows).unwrap_err().to_string();
        let ok = "test-000000,1,1.0,0,0.5,0.5,1.0,11.0,worker-0001,1,completed,0,0.5,10.0";
        assert_eq!(
            err(&format!(
                "{ok}\ntest-000001,9,1.0,0,0.5,0.5,1.0,11.0,w,1,completed,0,0,1\n"
            )),
            "r.csv: line 3: priority: '9' is not a priority from 1 to 5"
        );
        assert_eq!(
            err("test-000001,1,1.0,0,0.5,0.5,,11.0,w,1,completed,0,0,1\n"),
            "r.csv: line 2: started_at: '' is empty"
        );
        assert_eq!(
            err("test-000001,1,1.0,0,0.5,0.5,5.0,1.0,w,1,completed,0,0,1\n"),
            "r.csv: line 2: finished_at: '1.0' is before started_at"
        );
        assert_eq!(
            err("test-000001,1,1.0,0,0.5,0.5,1.0,2.0,w,1,exploded,0,0,1\n"),
            "r.csv: line 2: outcome: 'exploded' is not an outcome"
        );
        assert!(err("a,b\n").contains("line 2"));
        let no_column = read("r.csv", "id,priority\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(no_column, "r.csv: line 1: missing column 'memory_gb'");
    }
}
