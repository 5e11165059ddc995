//! Recorded workloads: a trace file read into jobs, each replayed as a test
//! with its recorded run time, so a real workload runs through the balancer
//! exactly as it happened (or compressed, or denser).
//!
//! The formats: the Standard Workload Format of the Parallel Workloads
//! Archive (`swf`, gzipped or not), lbsim's own per-test CSV (`csv`), a
//! coordinator's recording (`recording`) and JUnit XML test reports
//! (`junit`, see [`junit`]). A
//! line that cannot be read stops the replay with its file and line number;
//! a job that is well formed but unusable (an unknown run time, say) is
//! counted with its reason and reported, never silently dropped.

pub mod junit;
pub mod recording;
mod replay;
mod swf;
mod test_csv;

pub use replay::{replay_scenario, Replay, ReplayOptions, TraceSection};
pub(crate) use replay::{ClusterPlan, ClusterPool};

use crate::balancer::model::{TestId, TestSpec};
use crate::error::{Error, Result};
use crate::sim::{SimDuration, SimTime};
use crate::workload::{Arrival, ArrivalSource, Fate};
use indexmap::IndexMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The two trace formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceFormat {
    /// Standard Workload Format (Parallel Workloads Archive), plain or gzipped.
    Swf,
    /// lbsim's per-test CSV (the `--csv` output).
    Csv,
    /// A coordinator's recording (`lbsim serve --record`), JSON lines.
    Recording,
    /// JUnit XML test reports (pytest, Surefire, Gradle, go-junit-report,
    /// Bazel, ctest): one test per `testcase` (see [`junit`]).
    Junit,
}

/// A `--format` value that names no trace format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a trace format (known: swf, csv, recording, junit)")]
pub struct UnknownTraceFormat(pub String);

impl TraceFormat {
    /// Parses a `--format` value.
    pub fn parse(s: &str) -> std::result::Result<TraceFormat, UnknownTraceFormat> {
        match s {
            "swf" => Ok(TraceFormat::Swf),
            "csv" => Ok(TraceFormat::Csv),
            "recording" => Ok(TraceFormat::Recording),
            "junit" => Ok(TraceFormat::Junit),
            _ => Err(UnknownTraceFormat(s.to_string())),
        }
    }

    /// The name `--format` takes and the results JSON writes.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceFormat::Swf => "swf",
            TraceFormat::Csv => "csv",
            TraceFormat::Recording => "recording",
            TraceFormat::Junit => "junit",
        }
    }

    /// Guesses the format from the name, then from the first bytes: `.csv`
    /// or a first line starting with `id,` is CSV; `.xml` or XML text is
    /// JUnit; anything else is SWF.
    fn detect(path: &Path, head: &[u8]) -> TraceFormat {
        let name = path.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".csv") || name.ends_with(".csv.gz") || head.starts_with(b"id,") {
            TraceFormat::Csv
        } else if head.starts_with(b"{\"t\":") {
            TraceFormat::Recording
        } else if name.ends_with(".xml") || name.ends_with(".xml.gz") || junit::looks_like_xml(head)
        {
            TraceFormat::Junit
        } else {
            TraceFormat::Swf
        }
    }
}

/// One usable job of a trace, before any time transform.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceJob {
    /// When it was submitted, counted from the trace's first submission.
    pub submit: SimTime,
    /// The recorded run time (replayed exactly).
    pub run: SimDuration,
    /// False when the trace records the run as failed or cancelled.
    pub success: bool,
    /// Its needs, from the trace's columns (or the defaults where it has none).
    pub spec: TestSpec,
    /// The line it was read from (for messages).
    pub line: u64,
}

/// What the cluster should look like, as far as the trace says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceHeader {
    /// `MaxProcs` (or `MaxNodes`) from an SWF header.
    pub(crate) max_procs: Option<u64>,
    /// Where `max_procs` came from (for the report).
    pub(crate) procs_source: Option<&'static str>,
    /// `MaxMemory` from an SWF header, KB per processor.
    pub(crate) max_memory_kb: Option<u64>,
}

/// A trace read whole: its usable jobs in submission order and an account
/// of every record that was not usable.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The path it was read from, as given.
    pub file: String,
    /// The format it was read as (named or detected).
    pub format: TraceFormat,
    /// The cluster its header describes, if it has one.
    pub header: TraceHeader,
    /// Its usable jobs, in submission order.
    pub jobs: Vec<TraceJob>,
    /// Job records in the file (usable or not; comments not counted).
    pub records: u64,
    /// Unusable records by reason, in the order the reasons were first met.
    pub unusable: IndexMap<&'static str, u64>,
    /// Line of the first unusable record, for the warning.
    pub first_unusable_line: Option<u64>,
    /// Records replayed with an estimated run time (CSV rows that never ran).
    pub estimated: u64,
    /// The pool a coordinator's recording saw.
    pub recorded: Option<recording::RecordedPool>,
    /// A JUnit suite's account of its cases.
    pub junit: Option<junit::JunitSummary>,
}

impl Trace {
    /// Reads a trace; `format` `None` means detect it. A JUnit report (or
    /// a directory of them) is read with no requirements map, all at once
    /// (see [`junit::load`] for the rest).
    pub fn load(path: &Path, format: Option<TraceFormat>) -> Result<Trace> {
        let paths = [path.to_path_buf()];
        if format == Some(TraceFormat::Junit) || (format.is_none() && path.is_dir()) {
            return junit::load(&paths, &junit::JunitOptions::default(), 0);
        }
        let file = crate::input::open(path, crate::input::InputKind::Trace)?;
        let mut reader = BufReader::new(file);
        let head = reader.fill_buf().map_err(|e| Error::io(path, e))?.to_vec();
        let is_gzip = head.starts_with(&[0x1f, 0x8b]);
        let input: Box<dyn Read> = if is_gzip {
            Box::new(flate2::read::MultiGzDecoder::new(reader))
        } else {
            Box::new(reader)
        };
        let mut input = BufReader::new(LineLimit::new(input, max_lines()));
        let text_head = if is_gzip {
            // A corrupt gzip stream is a bad file, not a failed read.
            input
                .fill_buf()
                .map_err(|e| bad_line(&path.display().to_string(), 1, format!("cannot read: {e}")))?
                .to_vec()
        } else {
            head
        };
        let format = format.unwrap_or_else(|| TraceFormat::detect(path, &text_head));
        let name = path.display().to_string();
        let mut trace = match format {
            TraceFormat::Swf => swf::read(&name, input)?,
            TraceFormat::Csv => test_csv::read(&name, input)?,
            TraceFormat::Recording => recording::read(&name, input)?,
            // Parsed whole, not by lines: pytest writes its report on one.
            TraceFormat::Junit if path.is_file() => {
                return junit::load(&paths, &junit::JunitOptions::default(), 0)
            }
            // Its head is read: a pipe cannot be read again from the start.
            TraceFormat::Junit => {
                let why = "JUnit XML from a pipe: add --format junit to read it";
                return Err(bad_line(&name, 1, why));
            }
        };
        // Stable: jobs submitted together keep their file order.
        trace.jobs.sort_by_key(|j| j.submit);
        Ok(trace)
    }

    /// Records that were not replayed.
    pub(crate) fn unusable_total(&self) -> u64 {
        self.unusable.values().sum()
    }

    fn count_unusable(&mut self, reason: &'static str, line: u64) {
        *self.unusable.entry(reason).or_insert(0) += 1;
        self.first_unusable_line.get_or_insert(line);
    }

    /// A trace with no job yet, to fill in.
    pub fn empty(file: &str, format: TraceFormat) -> Trace {
        Trace {
            file: file.to_string(),
            format,
            header: TraceHeader::default(),
            jobs: Vec::new(),
            records: 0,
            unusable: IndexMap::new(),
            first_unusable_line: None,
            estimated: 0,
            recorded: None,
            junit: None,
        }
    }
}

/// The longest line a trace may have: an SWF record is about 100 bytes.
pub const MAX_LINE_BYTES: u64 = 1 << 20;
/// The most lines a trace may have (a record is at least a line, and a job
/// is held in memory until the replay): split a larger trace.
pub const MAX_LINES: u64 = 20_000_000;

/// The most lines this process can replay: `MAX_LINES`, or fewer if
/// memory holds fewer jobs (each line may be a job, held while read,
/// transformed, then run).
fn max_lines() -> u64 {
    let per_job = crate::scenario::BYTES_PER_TEST + 2 * std::mem::size_of::<TraceJob>() as u64;
    crate::scenario::available_bytes().map_or(MAX_LINES, |b| MAX_LINES.min(b / per_job))
}

/// A reader that fails on a line longer than `MAX_LINE_BYTES` or past
/// `max_lines` lines, so a small gzip of one endless line (or of millions
/// of jobs) cannot grow memory without a check. The readers turn the
/// failure into an error naming the line.
struct LineLimit<R> {
    inner: R,
    line_bytes: u64,
    lines: u64,
    max_lines: u64,
}

impl<R> LineLimit<R> {
    fn new(inner: R, max_lines: u64) -> Self {
        LineLimit {
            inner,
            line_bytes: 0,
            lines: 0,
            max_lines,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.lines += 1;
                self.line_bytes = 0;
            } else {
                self.line_bytes += 1;
            }
            let too_much = if self.line_bytes > MAX_LINE_BYTES {
                format!("a line longer than {MAX_LINE_BYTES} bytes")
            } else if self.lines > self.max_lines {
                let max = self.max_lines;
                format!("more than {max} lines, more jobs than this machine can replay: split the trace")
            } else {
                continue;
            };
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                too_much,
            ));
        }
        Ok(n)
    }
}

/// A malformed line: the replay stops, naming the file and the line.
fn bad_line(file: &str, line: u64, message: impl Into<String>) -> Error {
    Error::bad_file(file.to_string(), format!("line {line}"), message.into())
}

/// Reads lines with their 1-based numbers; a read error (bad gzip, bad
/// UTF-8) names the line it happened on.
fn numbered_lines<'a, R: BufRead + 'a>(
    file: &'a str,
    input: R,
) -> impl Iterator<Item = Result<(u64, String)>> + 'a {
    input.lines().enumerate().map(move |(i, line)| {
        let n = i as u64 + 1;
        line.map(|l| (n, l))
            .map_err(|e| bad_line(file, n, format!("cannot read: {e}")))
    })
}

/// Replays a trace's jobs in order, with their recorded run times.
pub struct TraceArrivals {
    jobs: std::vec::IntoIter<TraceJob>,
    next: u64,
}

impl TraceArrivals {
    /// `jobs` must be in submission order (as `replay_scenario` returns them).
    pub fn new(jobs: Vec<TraceJob>) -> Self {
        TraceArrivals {
            jobs: jobs.into_iter(),
            next: 0,
        }
    }
}

impl ArrivalSource for TraceArrivals {
    fn next_arrival(&mut self) -> Option<Arrival> {
        let job = self.jobs.next()?;
        let id = TestId(self.next);
        self.next += 1;
        Some(Arrival {
            time: job.submit,
            id,
            spec: job.spec,
            fate: Fate {
                seed: 0,
                exact: Some((job.run, job.success)),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_detection_uses_name_then_content() {
        let p = Path::new;
        assert_eq!(TraceFormat::detect(p("a.csv"), b""), TraceFormat::Csv);
        assert_eq!(
            TraceFormat::detect(p("a.txt"), b"id,priority"),
            TraceFormat::Csv
        );
        assert_eq!(TraceFormat::detect(p("a.swf.gz"), b""), TraceFormat::Swf);
        assert_eq!(
            TraceFormat::detect(p("a"), b"; Version: 2"),
            TraceFormat::Swf
        );
        assert_eq!(
            TraceFormat::parse("xml").unwrap_err().to_string(),
            "'xml' is not a trace format (known: swf, csv, recording, junit)"
        );
    }

    #[test]
    fn arrivals_are_numbered_densely_and_replayed_exactly() {
        let spec = swf::job_spec(4, 0, SimDuration::from_secs(9));
        let jobs = vec![
            TraceJob {
                submit: SimTime::from_secs(1),
                run: SimDuration::from_secs(5),
                success: true,
                spec: spec.clone(),
                line: 1,
            },
            TraceJob {
                submit: SimTime::from_secs(2),
                run: SimDuration::from_secs(3),
                success: false,
                spec,
                line: 2,
            },
        ];
        let mut a = TraceArrivals::new(jobs);
        let first = a.next_arrival().unwrap();
        assert_eq!(first.id, TestId(0));
        assert_eq!(first.fate.exact, Some((SimDuration::from_secs(5), true)));
        let second = a.next_arrival().unwrap();
        assert_eq!(
            (second.id, second.fate.exact.unwrap().1),
            (TestId(1), false)
        );
        assert!(a.next_arrival().is_none());
    }

    /// Regression: a small gzip holding one 6 GiB line was read whole.
    #[test]
    fn an_endless_line_stops_the_read_with_its_line_number() {
        let mut text = b"; header\n".to_vec();
        text.extend(std::iter::repeat_n(b'1', (MAX_LINE_BYTES + 10) as usize));
        let mut reader = BufReader::new(LineLimit::new(&text[..], MAX_LINES));
        let mut sink = Vec::new();
        let err = reader.read_to_end(&mut sink).unwrap_err();
        assert_eq!(err.to_string(), "a line longer than 1048576 bytes");
        let input = BufReader::new(LineLimit::new(&text[..], MAX_LINES));
        let first = numbered_lines("t.swf", input).find_map(|l| l.err());
        assert_eq!(
            first.unwrap().to_string(),
            "t.swf: line 2: cannot read: a line longer than 1048576 bytes"
        );
    }
}
