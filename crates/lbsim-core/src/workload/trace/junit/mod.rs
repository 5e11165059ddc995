//! JUnit XML test reports as a workload: "given my suite's recorded
//! durations, how long on N workers under which policy?"
//!
//! Each `testcase` becomes a test named `classname::name` that runs its
//! recorded `time`, needs what `--requirements` maps its name to (else
//! [`Needs::BUILT_IN`]), and fails at the end of its run when the report
//! says it failed or erred. Skipped cases and cases without a `time` are
//! not replayed: they are counted, by reason, with the other unusable
//! records of a trace. Tests of one class share a model family (the
//! affinity policy keeps a class on one worker). Every test is submitted
//! at time 0, as one CI run submits its suite, unless `--arrivals` spreads
//! them ([`Spread`]).
//!
//! Several reports, or a directory of them (every `*.xml` below it,
//! symlinked directories not followed), merge into one suite in the
//! sorted order of their paths, so the same files give the same run
//! whatever order the shell or the file system lists them in.

mod parse;
pub mod requirements;
pub mod spread;

pub use requirements::Needs;
pub(crate) use requirements::RequirementsMap;
pub use spread::Spread;

use super::{Trace, TraceFormat, TraceJob};
use crate::error::{Error, Result};
use crate::input::InputKind;
use crate::sim::{SimDuration, SimTime};
use indexmap::IndexMap;
use parse::{Case, Outcome};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest report read (it is parsed whole): a report of 5,000 tests
/// is under 1 MB.
pub(crate) const MAX_REPORT_BYTES: u64 = 256 << 20;
/// The most reports a directory may hold.
pub(crate) const MAX_REPORTS: usize = 10_000;
/// How deep below a directory reports are looked for.
const MAX_DEPTH: usize = 16;

/// How a suite is read, besides its files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JunitOptions {
    /// `--requirements MAP.json`.
    pub requirements: Option<PathBuf>,
    /// `--arrivals` (`None`: all at once).
    pub arrivals: Option<Spread>,
}

/// The results JSON's account of a suite (`trace.junit`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JunitSummary {
    /// Reports read (merged in the sorted order of their paths).
    pub files: u64,
    /// `testcase` elements read, whatever their outcome.
    pub testcases: u64,
    /// `passed + failed + errors + skipped = testcases`.
    pub passed: u64,
    /// Cases with a `failure`: replayed, and fail at the end of their run.
    pub failed: u64,
    /// Cases with an `error`: replayed like failures.
    pub errors: u64,
    /// Skipped cases: not replayed.
    pub skipped: u64,
    /// Cases without a `time` (whatever their outcome): not replayed.
    pub without_time: u64,
    /// The sum of the replayed tests' times: the suite on one worker.
    pub serial_s: f64,
    /// The longest replayed test and its time: no pool finishes sooner.
    pub longest: String,
    /// The longest replayed test's time, seconds.
    pub longest_s: f64,
    /// The `--requirements` map, if any.
    pub requirements: Option<String>,
    /// Replayed tests a rule of the map matched; the others took the default.
    pub mapped: u64,
    /// Replayed tests no rule matched: they took the map's default.
    pub unmapped: u64,
    /// "not used": labels in the map are read and checked, and the
    /// balancer has no worker labels yet to match them against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// How the replayed tests were submitted.
    pub arrivals: Spread,
}

/// Whether `paths` (with `--format`, if given) name a JUnit suite: the
/// format says so, several paths or a directory are given, a name ends
/// in `.xml`, or the first bytes are XML.
pub(crate) fn is_junit(paths: &[PathBuf], format: Option<TraceFormat>) -> bool {
    if let Some(f) = format {
        return f == TraceFormat::Junit;
    }
    let [path] = paths else {
        return true;
    };
    if path.is_dir() || has_xml_name(path) {
        return true;
    }
    // Only a regular file is read twice (sniffed, then read): the head of
    // a pipe would be lost. A report from a pipe takes `--format junit`.
    if !path.is_file() {
        return false;
    }
    let mut head = [0u8; 64];
    let n = crate::input::open(path, InputKind::Trace)
        .and_then(|mut f| f.read(&mut head).map_err(|e| Error::io(path, e)))
        .unwrap_or(0);
    looks_like_xml(&head[..n])
}

fn has_xml_name(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    name.ends_with(".xml") || name.ends_with(".xml.gz")
}

/// XML text (after a byte-order mark and white space): a declaration or
/// a JUnit root.
pub(super) fn looks_like_xml(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let head = start.map_or(&head[..0], |s| &head[s..]);
    head.starts_with(b"<?xml") || head.starts_with(b"<testsuite")
}

/// Reads the reports at `paths` (files or directories) into one suite.
pub fn load(paths: &[PathBuf], options: &JunitOptions, seed: u64) -> Result<Trace> {
    let files = report_files(paths)?;
    let max_cases = super::max_lines();
    let mut cases: Vec<(usize, Case)> = Vec::new();
    for (k, file) in files.iter().enumerate() {
        let name = file.display().to_string();
        let left = max_cases.saturating_sub(cases.len() as u64);
        let text = read_report(file)?;
        cases.extend(
            parse::cases(&name, &text, left)?
                .into_iter()
                .map(|c| (k, c)),
        );
    }
    let map = match &options.requirements {
        Some(path) => {
            let text = crate::input::read_text(path, InputKind::Config)?;
            Some((
                path.display().to_string(),
                RequirementsMap::parse(&path.display().to_string(), &text)?,
            ))
        }
        None => None,
    };
    let mut trace = suite(
        files.len() as u64,
        cases,
        map.as_ref().map(|(f, m)| (f.as_str(), m)),
    );
    trace.file = suite_name(paths);
    let spread = options.arrivals.unwrap_or(Spread::AtOnce);
    spread.apply(&mut trace.jobs, seed);
    if let Some(summary) = trace.junit.as_mut() {
        summary.arrivals = spread;
    }
    Ok(trace)
}

/// How messages and the results name the suite: its path, or its paths.
fn suite_name(paths: &[PathBuf]) -> String {
    match paths {
        [one] => one.display().to_string(),
        [first, rest @ ..] => format!("{} and {} more", first.display(), rest.len()),
        [] => String::new(),
    }
}

/// The report files named, directories expanded, sorted by path.
fn report_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            walk(path, 0, &mut files)?;
            if files.len() == before {
                return Err(Error::bad_file(
                    path.display().to_string(),
                    "whole directory",
                    "no .xml file in it or below it",
                ));
            }
        } else {
            files.push(path.clone());
        }
        if files.len() > MAX_REPORTS {
            let why = format!("more than {MAX_REPORTS} reports: merge fewer at a time");
            return Err(Error::bad_file(
                path.display().to_string(),
                "whole directory",
                why,
            ));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        let path = entry.path();
        if kind.is_dir() && depth < MAX_DEPTH {
            walk(&path, depth + 1, out)?;
        } else if !kind.is_dir() && has_xml_name(&path) && path.is_file() {
            out.push(path);
        }
        if out.len() > MAX_REPORTS {
            return Ok(());
        }
    }
    Ok(())
}

/// One report's text, through the capped reader (gzip undone), as UTF-8.
fn read_report(path: &Path) -> Result<String> {
    let name = path.display().to_string();
    let file = crate::input::open(path, InputKind::Trace)?;
    let mut bytes = Vec::new();
    let mut head = std::io::BufReader::new(file);
    let gzip = std::io::BufRead::fill_buf(&mut head)
        .map_err(|e| Error::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    let input: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(head))
    } else {
        Box::new(head)
    };
    input
        .take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::bad_file(name.clone(), "whole file", format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        let why = format!(
            "larger than the {} MiB limit for a JUnit report",
            MAX_REPORT_BYTES >> 20
        );
        return Err(Error::bad_file(name, "whole file", why));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        Error::bad_line(name, line, "not UTF-8 text")
    })
}

/// The suite as a trace: each usable case a job, in merged order.
fn suite(files: u64, cases: Vec<(usize, Case)>, map: Option<(&str, &RequirementsMap)>) -> Trace {
    let mut trace = Trace::empty("", TraceFormat::Junit);
    let default_map = RequirementsMap::default();
    let rules = map.map_or(&default_map, |(_, m)| m);
    let mut families: IndexMap<String, u32> = IndexMap::new();
    let mut s = JunitSummary {
        files,
        testcases: cases.len() as u64,
        passed: 0,
        failed: 0,
        errors: 0,
        skipped: 0,
        without_time: 0,
        serial_s: 0.0,
        longest: String::new(),
        longest_s: 0.0,
        requirements: map.map(|(f, _)| f.to_string()),
        mapped: 0,
        unmapped: 0,
        labels: rules.has_labels().then(|| "not used".to_string()),
        arrivals: Spread::AtOnce,
    };
    for (_, case) in cases {
        trace.records += 1;
        match case.outcome {
            Outcome::Skipped => {
                s.skipped += 1;
                trace.count_unusable("skipped", case.line);
                continue;
            }
            Outcome::Passed => s.passed += 1,
            Outcome::Failed => s.failed += 1,
            Outcome::Error => s.errors += 1,
        }
        let Some(time_s) = case.time_s else {
            s.without_time += 1;
            trace.count_unusable("no time", case.line);
            continue;
        };
        let next = families.len() as u32;
        let family = *families.entry(case.class.clone()).or_insert(next);
        let (needs, rule) = rules.needs_of(&case.name);
        *(if rule.is_some() {
            &mut s.mapped
        } else {
            &mut s.unmapped
        }) += 1;
        let run = SimDuration::from_secs_f64(time_s);
        s.serial_s += time_s;
        if time_s > s.longest_s || s.longest.is_empty() {
            (s.longest, s.longest_s) = (case.name.clone(), time_s);
        }
        trace.jobs.push(TraceJob {
            submit: SimTime::ZERO,
            run,
            success: case.outcome == Outcome::Passed,
            spec: needs.spec(run, family),
            line: case.line,
        });
    }
    trace.junit = Some(s);
    trace
}

#[cfg(test)]
mod tests;
