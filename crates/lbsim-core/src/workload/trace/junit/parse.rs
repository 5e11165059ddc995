//! One JUnit XML report read into its test cases, in file order.
//!
//! Every test runner writes the same core: `testcase` elements (with
//! `name`, `classname` and `time`, seconds) inside `testsuite` elements,
//! which may sit inside `testsuites` and nest (pytest `--junitxml`, Maven
//! Surefire, Gradle, `go-junit-report`, Bazel `test.xml`, ctest
//! `--output-junit`, GoogleTest). A case is skipped when it has a
//! `skipped` child or, as GoogleTest and ctest write it, a `status` of
//! `notrun` or `disabled` or a `result` of `skipped` or `suppressed`; it
//! failed when it has a `failure` or `error` child (Surefire's
//! `flakyFailure` and `rerunFailure` are reruns of a case that has its own
//! verdict, and do not count). Everything else (properties, output,
//! attributes of the suites) is read past.
//!
//! Malformed XML, a `testcase` without a `name`, or a `time` that is not a
//! number of seconds stops the read with the file and line. A missing or
//! empty `time` is not an error: the case is returned without one and the
//! caller counts it (see `super`).

use crate::error::{Error, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// How a test case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Passed,
    /// A `failure` child: an assertion failed.
    Failed,
    /// An `error` child: the test could not run to its verdict.
    Error,
    Skipped,
}

/// One `testcase`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Case {
    /// `classname::name`, or `name` alone when there is no class.
    pub(crate) name: String,
    /// The `classname` (empty when absent).
    pub(crate) class: String,
    /// Seconds; `None` when the report gives no time.
    pub(crate) time_s: Option<f64>,
    pub(crate) outcome: Outcome,
    /// The line of its `<testcase`.
    pub(crate) line: u64,
}

/// Line numbers of byte offsets met in increasing order, counted once.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl Lines<'_> {
    fn of(&mut self, offset: u64) -> u64 {
        let to = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        if to < self.at {
            let before = &self.text[..to];
            return before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        }
        self.line += self.text[self.at..to]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.at = to;
        self.line
    }
}

/// What a read has found so far.
struct Reading {
    out: Vec<Case>,
    /// The case being read and the depth of its element.
    open: Option<(Case, usize)>,
    depth: usize,
    root_seen: bool,
    max_cases: u64,
}

impl Reading {
    /// A start (or empty) element at `line`.
    fn element(&mut self, element: &BytesStart, empty: bool, line: u64) -> Result<(), String> {
        let name = element.local_name();
        if !self.root_seen {
            self.root_seen = true;
            if !matches!(name.as_ref(), "testsuites" | "testsuite") {
                return Err(format!(
                    "<{}> is not a JUnit report (its root must be <testsuites> or <testsuite>)",
                    name.as_ref()
                ));
            }
        }
        if !empty {
            self.depth += 1;
        }
        // A `testcase` inside a case (no runner writes one) is read past.
        match (name.as_ref(), self.open.as_mut().map(|(c, _)| c)) {
            ("testcase", None) => {
                if self.out.len() as u64 >= self.max_cases {
                    let max = self.max_cases;
                    return Err(format!(
                        "more than {max} test cases, more than this machine can replay"
                    ));
                }
                let case = case_of(element, line)?;
                if empty {
                    self.out.push(case);
                } else {
                    self.open = Some((case, self.depth));
                }
            }
            ("skipped", Some(c)) => c.outcome = Outcome::Skipped,
            ("error", Some(c)) if c.outcome != Outcome::Skipped => c.outcome = Outcome::Error,
            ("failure", Some(c)) if c.outcome == Outcome::Passed => c.outcome = Outcome::Failed,
            _ => {}
        }
        Ok(())
    }

    /// An end tag: a case's own closes it.
    fn end(&mut self, local_name: &str) {
        if local_name == "testcase" && self.open.as_ref().is_some_and(|(_, d)| *d == self.depth) {
            self.out.extend(self.open.take().map(|(c, _)| c));
        }
        self.depth = self.depth.saturating_sub(1);
    }
}

/// The cases of one report (`file` names it in messages), at most
/// `max_cases` of them.
pub(crate) fn cases(file: &str, text: &str, max_cases: u64) -> Result<Vec<Case>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let mut lines = Lines {
        text: text.as_bytes(),
        at: 0,
        line: 1,
    };
    let bad = |line: u64, message: String| Error::bad_line(file.to_string(), line, message);
    let mut r = Reading {
        out: Vec::new(),
        open: None,
        depth: 0,
        root_seen: false,
        max_cases,
    };
    loop {
        let start = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => return Err(bad(lines.of(reader.error_position()), e.to_string())),
        };
        let (element, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                r.end(e.local_name().as_ref());
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let line = lines.of(start);
        r.element(&element, empty, line)
            .map_err(|why| bad(line, why))?;
    }
    if !r.root_seen {
        return Err(bad(1, "no XML element: not a JUnit report".into()));
    }
    if r.depth > 0 || r.open.is_some() {
        let end = lines.of(text.len() as u64);
        return Err(bad(
            end,
            "the file ends inside an element (cut short?)".into(),
        ));
    }
    Ok(r.out)
}

/// A case from its `testcase` element's attributes.
fn case_of(element: &BytesStart, line: u64) -> std::result::Result<Case, String> {
    let (mut name, mut class, mut time, mut skipped) = (None, String::new(), None, false);
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        match attribute.key.local_name().as_ref() {
            "name" => name = Some(value.into_owned()),
            "classname" => class = value.trim().to_string(),
            "time" => time = seconds(&value)?,
            "status" => skipped |= matches!(value.as_ref(), "notrun" | "disabled"),
            "result" => skipped |= matches!(value.as_ref(), "skipped" | "suppressed"),
            _ => {}
        }
    }
    let name = name.ok_or_else(|| "a <testcase> without a name".to_string())?;
    Ok(Case {
        name: if class.is_empty() {
            name
        } else {
            format!("{class}::{name}")
        },
        class,
        time_s: time,
        outcome: if skipped {
            Outcome::Skipped
        } else {
            Outcome::Passed
        },
        line,
    })
}

/// A `time` value in seconds. Surefire writes thousands separators in some
/// locales (`1,234.5`), which are dropped; empty is no time at all.
fn seconds(value: &str) -> std::result::Result<Option<f64>, String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let plain = v.replace(',', "");
    match plain.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
        _ => Err(format!("time: '{v}' is not a time in seconds")),
    }
}
