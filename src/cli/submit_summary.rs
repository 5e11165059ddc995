//! The summary `lbsim submit --wait` prints: counts, the tests that did
//! not pass with the end of their logs, and the slowest tests.

use crate::error::Result;
use crate::service::api::{TestState, TestView};
use std::time::Duration;

/// A final test, with its log tail when it did not pass.
pub(crate) struct Finished {
    pub(crate) view: TestView,
    pub(crate) log: Option<String>,
}

/// Log lines shown per test that did not pass (JUnit has the whole tail).
const TAIL_LINES: usize = 10;
/// The slowest tests listed.
const SLOWEST: usize = 5;

/// `test 7 name`, or `test 7` for an unnamed test.
pub(crate) fn label(v: &TestView) -> String {
    match &v.requirements.name {
        Some(n) => format!("test {} {}", v.test_id, crate::console::one_line(n)),
        None => format!("test {}", v.test_id),
    }
}

fn count(f: &[Finished], state: TestState) -> usize {
    f.iter().filter(|t| t.view.state == state).count()
}

pub(crate) fn print(finished: &[Finished], wall: Duration) -> Result<()> {
    let rejected = count(finished, TestState::Rejected);
    outln!(
        "lbsim submit: {} in {:.1} s: {} passed, {} failed, {} timed out, {} cancelled{}",
        match finished.len() {
            1 => "1 test".to_string(),
            n => format!("{n} tests"),
        },
        wall.as_secs_f64(),
        count(finished, TestState::Completed),
        count(finished, TestState::Failed),
        count(finished, TestState::TimedOut),
        count(finished, TestState::Cancelled),
        if rejected > 0 {
            format!(", {rejected} rejected")
        } else {
            String::new()
        }
    );
    for f in finished
        .iter()
        .filter(|f| f.view.state != TestState::Completed)
    {
        outln!("{}", not_passed(&f.view));
        if let Some(log) = &f.log {
            let lines: Vec<&str> = log.lines().collect();
            for line in &lines[lines.len().saturating_sub(TAIL_LINES)..] {
                outln!("  | {}", crate::console::one_line(line));
            }
        }
    }
    let mut timed: Vec<&TestView> = finished
        .iter()
        .map(|f| &f.view)
        .filter(|v| v.run_time_s.is_some())
        .collect();
    timed.sort_by(|a, b| {
        b.run_time_s
            .unwrap_or(0.0)
            .total_cmp(&a.run_time_s.unwrap_or(0.0))
    });
    if !timed.is_empty() {
        let slowest: Vec<String> = timed
            .iter()
            .take(SLOWEST)
            .map(|v| format!("{:.2} s {}", v.run_time_s.unwrap_or(0.0), label(v)))
            .collect();
        outln!("slowest: {}", slowest.join(", "));
    }
    Ok(())
}

/// One line for a test that did not pass: what, which, how.
fn not_passed(v: &TestView) -> String {
    let attempts = match v.attempts {
        1 => "1 attempt".to_string(),
        n => format!("{n} attempts"),
    };
    let how = match (v.state, v.exit_code) {
        (TestState::Failed, Some(code)) => format!("exit {code}, {attempts}"),
        (TestState::Rejected, _) => v.reason.clone().unwrap_or_default(),
        _ => attempts,
    };
    let state = match v.state {
        TestState::TimedOut => "timed out",
        other => other.as_str(),
    };
    format!("{state}: {} ({})", label(v), crate::console::one_line(&how))
}
