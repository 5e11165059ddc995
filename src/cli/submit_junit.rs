//! JUnit XML for `lbsim submit --junit FILE`: one testcase per test
//! (`path::name` split into classname and name, as pytest's ids read),
//! a failure for a failed or timed-out test with its log tail, skipped
//! for a cancelled one, an error for one no worker could hold. Written
//! whole or not at all.

use super::submit_summary::Finished;
use crate::error::{Error, Result};
use crate::service::api::TestState;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::path::Path;
use std::time::Duration;

pub(crate) fn write(path: &Path, finished: &[Finished], wall: Duration) -> Result<()> {
    let xml = render(finished, wall).map_err(|e| Error::Run(format!("JUnit XML: {e}")))?;
    crate::report::write_atomically(path, &xml)
}

fn count(f: &[Finished], states: &[TestState]) -> usize {
    f.iter().filter(|t| states.contains(&t.view.state)).count()
}

/// The document, as bytes.
pub(crate) fn render(finished: &[Finished], wall: Duration) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests = finished.len().to_string();
    let failures = count(finished, &[TestState::Failed, TestState::TimedOut]).to_string();
    let errors = count(finished, &[TestState::Rejected]).to_string();
    let skipped = count(finished, &[TestState::Cancelled]).to_string();
    let time = format!("{:.3}", wall.as_secs_f64());
    let attrs = [
        ("tests", tests.as_str()),
        ("failures", &failures),
        ("errors", &errors),
        ("skipped", &skipped),
        ("time", &time),
    ];
    w.create_element("testsuites")
        .with_attribute(("name", "lbsim submit"))
        .with_attributes(attrs)
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attribute(("name", "lbsim submit"))
                .with_attributes(attrs)
                .write_inner_content(|w| {
                    for f in finished {
                        testcase(w, f)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

fn testcase(w: &mut Writer<Vec<u8>>, f: &Finished) -> std::io::Result<()> {
    let v = &f.view;
    let full = v
        .requirements
        .name
        .clone()
        .unwrap_or_else(|| format!("test {}", v.test_id));
    let (class, name) = match full.rsplit_once("::") {
        Some((c, n)) => (c.to_string(), n.to_string()),
        None => ("lbsim".to_string(), full.clone()),
    };
    let time = format!("{:.3}", v.run_time_s.unwrap_or(0.0));
    let el = w
        .create_element("testcase")
        .with_attribute(("classname", xml_text(&class).as_str()))
        .with_attribute(("name", xml_text(&name).as_str()))
        .with_attribute(("time", time.as_str()));
    let log = xml_text(f.log.as_deref().unwrap_or(""));
    let attempts = match v.attempts {
        1 => "1 attempt".to_string(),
        n => format!("{n} attempts"),
    };
    let (tag, message) = match v.state {
        TestState::Completed => return el.write_empty().map(|_| ()),
        TestState::Failed => (
            "failure",
            v.exit_code.map_or(format!("failed ({attempts})"), |c| {
                format!("exit code {c} ({attempts})")
            }),
        ),
        TestState::TimedOut => ("failure", format!("timed out ({attempts})")),
        TestState::Cancelled => ("skipped", "cancelled".to_string()),
        _ => (
            "error",
            v.reason.clone().unwrap_or_else(|| v.state.as_str().into()),
        ),
    };
    el.write_inner_content(|w| {
        let inner = w
            .create_element(tag)
            .with_attribute(("message", xml_text(&message).as_str()))
            .with_attribute(("type", v.state.as_str()));
        if log.is_empty() {
            inner.write_empty()?;
        } else {
            inner.write_text_content(BytesText::new(&log))?;
        }
        Ok(())
    })
    .map(|_| ())
}

/// Text XML 1.0 may hold: control characters other than tab and line
/// breaks (a log's colour codes) become U+FFFD, so the file always parses.
pub(crate) fn xml_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}
