//! The results CSV: one row per cell, columns in a fixed order, floats with
//! a fixed number of decimals, so the same cells give the same bytes.
//!
//! Columns: `cell`, `point`, one per axis (named by its path), then
//! `replication`, `seed`, `cell_key` and the metrics of `METRICS`. Values
//! never hold a line break (the grid refuses them), so a line is a row:
//! resume and merge can keep rows as the exact bytes they read.

use super::grid::{value_text, Cell, Grid};
use crate::engine::RunOutput;
use crate::error::{Error, Result};

/// A metric's value, integers kept exact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    Int(u64),
    Float(f64),
}

type Pick = fn(&RunOutput) -> Num;

/// The summary metrics of a row: the reference's 14, then percentiles,
/// fairness and utilisation.
pub(crate) const METRICS: &[(&str, Pick)] = &[
    ("total_tests", |o| Num::Int(o.metrics.total_tests)),
    ("success_rate", |o| Num::Float(o.metrics.success_rate)),
    ("avg_latency", |o| Num::Float(o.metrics.avg_latency)),
    ("max_latency", |o| Num::Float(o.metrics.max_latency)),
    ("min_latency", |o| Num::Float(o.metrics.min_latency)),
    ("peak_throughput", |o| Num::Float(o.metrics.peak_throughput)),
    ("avg_throughput", |o| Num::Float(o.metrics.avg_throughput)),
    ("worker_assignment_stddev", |o| {
        Num::Float(o.metrics.worker_assignment_stddev)
    }),
    ("worker_assignment_range", |o| {
        Num::Int(o.metrics.worker_assignment_range)
    }),
    ("worker_utilization", |o| {
        Num::Float(o.metrics.worker_utilization)
    }),
    ("avg_scheduling_attempts", |o| {
        Num::Float(o.metrics.avg_scheduling_attempts)
    }),
    ("final_worker_count", |o| {
        Num::Int(o.metrics.final_worker_count)
    }),
    ("pending_tests", |o| Num::Int(o.metrics.pending_tests)),
    ("assigned_tests", |o| Num::Int(o.metrics.assigned_tests)),
    ("completed_tests", |o| Num::Int(o.metrics.completed_tests)),
    ("failed_tests", |o| Num::Int(o.metrics.failed_tests)),
    ("rejected_tests", |o| Num::Int(o.metrics.rejected_tests)),
    ("completion_success_rate", |o| {
        Num::Float(o.metrics.completion_success_rate)
    }),
    ("latency_p50", |o| Num::Float(o.metrics.latency.p50)),
    ("latency_p95", |o| Num::Float(o.metrics.latency.p95)),
    ("latency_p99", |o| Num::Float(o.metrics.latency.p99)),
    ("wait_avg", |o| Num::Float(o.metrics.wait.avg)),
    ("wait_p50", |o| Num::Float(o.metrics.wait.p50)),
    ("wait_p95", |o| Num::Float(o.metrics.wait.p95)),
    ("wait_p99", |o| Num::Float(o.metrics.wait.p99)),
    ("turnaround_avg", |o| Num::Float(o.metrics.turnaround.avg)),
    ("turnaround_p50", |o| Num::Float(o.metrics.turnaround.p50)),
    ("turnaround_p95", |o| Num::Float(o.metrics.turnaround.p95)),
    ("turnaround_p99", |o| Num::Float(o.metrics.turnaround.p99)),
    ("slowdown_p50", |o| Num::Float(o.metrics.slowdown.p50)),
    ("slowdown_p99", |o| Num::Float(o.metrics.slowdown.p99)),
    ("jain_fairness", |o| Num::Float(o.metrics.jain_fairness)),
    ("cpu_utilization", |o| Num::Float(o.metrics.cpu_utilization)),
    ("memory_utilization", |o| {
        Num::Float(o.metrics.memory_utilization)
    }),
    ("cuda_utilization", |o| {
        Num::Float(o.metrics.cuda_utilization)
    }),
    ("end_time", |o| Num::Float(o.run.end_time)),
];

/// The metrics written as whole numbers; the rest are floats.
pub(super) const INT_METRICS: &[&str] = &[
    "total_tests",
    "worker_assignment_range",
    "final_worker_count",
    "pending_tests",
    "assigned_tests",
    "completed_tests",
    "failed_tests",
    "rejected_tests",
];

/// Columns before the axes.
pub(super) const LEAD_COLUMNS: &[&str] = &["cell", "point"];
/// Columns between the axes and the metrics.
pub(super) const RUN_COLUMNS: &[&str] = &["replication", "seed", "cell_key"];

/// Decimal places of every float in a sweep file.
pub(super) const DECIMALS: usize = 6;

/// Fixed-precision float text; `-0` prints as `0`.
pub(super) fn fmt_float(x: f64) -> String {
    let s = format!("{x:.DECIMALS$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

impl Num {
    fn text(self) -> String {
        match self {
            Num::Int(n) => n.to_string(),
            Num::Float(x) => fmt_float(x),
        }
    }
}

/// An axis column is named by its path, unless that clashes with a fixed
/// column (`seed`): then it is `axis:PATH`.
pub(super) fn axis_column(path: &str) -> String {
    let clashes = LEAD_COLUMNS
        .iter()
        .chain(RUN_COLUMNS)
        .chain(METRICS.iter().map(|(n, _)| n))
        .any(|c| *c == path);
    if clashes {
        format!("axis:{path}")
    } else {
        path.to_string()
    }
}

/// The header fields of a grid's results file.
pub fn header(grid: &Grid) -> Vec<String> {
    let mut h: Vec<String> = LEAD_COLUMNS.iter().map(|c| c.to_string()).collect();
    h.extend(grid.axes.iter().map(|a| axis_column(&a.path)));
    h.extend(RUN_COLUMNS.iter().map(|c| c.to_string()));
    h.extend(METRICS.iter().map(|(n, _)| n.to_string()));
    h
}

/// The fields of a cell's row.
pub(super) fn fields(cell: &Cell, out: &RunOutput) -> Vec<String> {
    let mut f = vec![cell.index.to_string(), cell.point.to_string()];
    f.extend(cell.values.iter().map(value_text));
    f.push(cell.replication.to_string());
    f.push(cell.scenario.seed.to_string());
    f.push(cell.key.clone());
    f.extend(METRICS.iter().map(|(_, pick)| pick(out).text()));
    f
}

/// One CSV line, quoted where needed, ending in `\n`.
pub(super) fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = w.write_record(fields.iter().map(|s| s.as_ref()));
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Splits one line (without its `\n`) into fields.
pub(super) fn split(line: &str) -> Result<Vec<String>, String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    match r.records().next() {
        Some(Ok(rec)) => Ok(rec.iter().map(str::to_string).collect()),
        Some(Err(e)) => Err(e.to_string()),
        None => Ok(Vec::new()),
    }
}

/// A results file read back: its header and its complete rows, each kept
/// as the exact line it was (without `\n`). A last line without `\n` was
/// torn by a crash and is left out (`torn` says so).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ResultsFile {
    pub(crate) header: Option<String>,
    pub(crate) rows: Vec<Row>,
    /// Bytes of complete lines (where a torn tail starts).
    pub(crate) complete_len: u64,
    pub(crate) torn: bool,
}

/// A row read back.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    pub(crate) cell: usize,
    pub(crate) key: String,
    pub(crate) line: String,
    /// 1-based line number in its file.
    pub(crate) line_no: usize,
}

impl ResultsFile {
    /// Parses a results file's text; `file` names it in errors.
    pub(crate) fn parse(text: &str, file: &str) -> Result<ResultsFile> {
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        let mut out = ResultsFile {
            complete_len: complete as u64,
            torn: complete < text.len(),
            ..Default::default()
        };
        let mut lines = text[..complete].lines();
        let Some(header) = lines.next() else {
            return Ok(out);
        };
        let names = split(header).map_err(|m| Error::bad_line(file, 1, m))?;
        let col = |name: &str| {
            names.iter().position(|n| n == name).ok_or_else(|| {
                Error::bad_line(file, 1, format!("no '{name}' column: not a sweep file"))
            })
        };
        let (cell_col, key_col) = (col("cell")?, col("cell_key")?);
        for (i, line) in lines.enumerate() {
            let line_no = i + 2;
            let f = split(line).map_err(|m| Error::bad_line(file, line_no, m))?;
            if f.len() != names.len() {
                return Err(Error::bad_line(
                    file,
                    line_no,
                    format!("{} fields, the header has {}", f.len(), names.len()),
                ));
            }
            let cell = f[cell_col].parse().map_err(|_| {
                Error::bad_line(
                    file,
                    line_no,
                    format!("cell '{}' is not a number", f[cell_col]),
                )
            })?;
            out.rows.push(Row {
                cell,
                key: f[key_col].clone(),
                line: line.to_string(),
                line_no,
            });
        }
        out.header = Some(header.to_string());
        Ok(out)
    }

    /// Checks that every value a merge and its summary rely on is one: the
    /// run columns and integer metrics whole numbers, float metrics finite
    /// numbers, the key 16 hex digits. Bad input names file, line and field.
    pub(crate) fn check_values(&self, file: &str) -> Result<()> {
        let Some(header) = &self.header else {
            return Ok(());
        };
        let names = split(header).map_err(|m| Error::bad_line(file, 1, m))?;
        for row in &self.rows {
            let fields = split(&row.line).map_err(|m| Error::bad_line(file, row.line_no, m))?;
            for (name, value) in names.iter().zip(&fields) {
                if let Some(why) = bad_value(name, value) {
                    return Err(Error::bad_line(
                        file,
                        row.line_no,
                        format!("{name} '{value}' {why}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Reads a results file; a missing file reads as empty.
    pub(crate) fn read(path: &std::path::Path) -> Result<ResultsFile> {
        match crate::input::read_text(path, crate::input::InputKind::Results) {
            Ok(text) => ResultsFile::parse(&text, &path.display().to_string()),
            Err(Error::Input { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(ResultsFile::default())
            }
            Err(Error::Input { source, .. }) => Err(Error::io(path, source)),
            Err(e) => Err(e),
        }
    }
}

/// Why a field's value is unusable, if it is (axis columns are free).
fn bad_value(name: &str, value: &str) -> Option<&'static str> {
    let whole = ["point", "replication", "seed"].contains(&name) || INT_METRICS.contains(&name);
    if whole {
        return value
            .parse::<u64>()
            .is_err()
            .then_some("is not a whole number");
    }
    if name == "cell_key" {
        let hex = value.len() == 16 && value.bytes().all(|b| b.is_ascii_hexdigit());
        return (!hex).then_some("is not 16 hex digits");
    }
    if METRICS.iter().any(|(n, _)| *n == name) {
        let finite = value.parse::<f64>().is_ok_and(f64::is_finite);
        return (!finite).then_some("is not a finite number");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_have_fixed_decimals_and_no_negative_zero() {
        assert_eq!(fmt_float(0.1 + 0.2), "0.300000");
        assert_eq!(fmt_float(-0.0000001), "0.000000");
        assert_eq!(fmt_float(-1.5), "-1.500000");
        assert_eq!(fmt_float(12.0), "12.000000");
    }

    #[test]
    fn lines_quote_where_needed_and_split_back() {
        let l = line(&["1", "{\"type\":\"random\",\"x\":1}", "a b"]);
        assert_eq!(l, "1,\"{\"\"type\"\":\"\"random\"\",\"\"x\"\":1}\",a b\n");
        assert_eq!(
            split(l.trim_end()).unwrap(),
            vec!["1", "{\"type\":\"random\",\"x\":1}", "a b"]
        );
    }

    #[test]
    fn a_torn_last_line_is_left_out() {
        let text = "cell,cell_key\n0,aa\n1,bb\n2,c";
        let f = ResultsFile::parse(text, "r.csv").unwrap();
        assert!(f.torn);
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.complete_len, 24);
        assert_eq!(f.rows[1].line, "1,bb");
        let f = ResultsFile::parse("cell,cell_k", "r.csv").unwrap();
        assert!(f.torn && f.header.is_none());
    }

    #[test]
    fn a_row_with_missing_fields_names_its_line() {
        let e = ResultsFile::parse("cell,cell_key\n0\n", "r.csv").unwrap_err();
        assert_eq!(e.to_string(), "r.csv: line 2: 1 fields, the header has 2");
    }

    #[test]
    fn values_are_checked_naming_line_and_field() {
        let head = "cell,point,workers,replication,seed,cell_key,total_tests,avg_latency";
        let good = "0,0,x,0,42,00ff00ff00ff00ff,60,1.500000";
        let check = |row: &str| {
            ResultsFile::parse(&format!("{head}\n{good}\n{row}\n"), "r.csv")
                .unwrap()
                .check_values("r.csv")
        };
        assert!(check(good).is_ok());
        for (row, why) in [
            (
                "1,0,x,0,42,00ff00ff00ff00ff,NaN,1.5",
                "line 3: total_tests 'NaN' is not a whole number",
            ),
            (
                "1,0,x,0,42,00ff00ff00ff00ff,60,NaN",
                "line 3: avg_latency 'NaN' is not a finite number",
            ),
            (
                "1,0,x,0,42,xyz,60,1.5",
                "line 3: cell_key 'xyz' is not 16 hex digits",
            ),
            (
                "1,0,x,-1,42,00ff00ff00ff00ff,60,1.5",
                "line 3: replication '-1' is not a whole number",
            ),
        ] {
            let e = check(row).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert_eq!(e.to_string(), format!("r.csv: {why}"));
        }
    }

    #[test]
    fn the_integer_metrics_are_the_ones_written_as_integers() {
        let mut scenario = crate::scenario::StressOptions::default()
            .to_scenario()
            .unwrap();
        scenario.tests = 50;
        let report = crate::run::RunRequest::new(crate::run::Source::Ready(Box::new(scenario)))
            .prepare(&crate::scenario::EnvSettings::default())
            .and_then(|run| run.run(&mut crate::engine::NoObserver))
            .unwrap();
        for (name, pick) in METRICS {
            let int = matches!(pick(&report.output), Num::Int(_));
            assert_eq!(int, INT_METRICS.contains(name), "{name}");
        }
    }

    #[test]
    fn the_seed_axis_gets_its_own_column_name() {
        assert_eq!(axis_column("seed"), "axis:seed");
        assert_eq!(axis_column("workers"), "workers");
    }
}
