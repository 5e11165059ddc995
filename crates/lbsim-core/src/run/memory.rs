//! Whether a run fits in memory, checked before it starts: a run that
//! would be killed for memory after minutes is refused at once (exit 2)
//! with the flag or field and the number that is too big.
//!
//! The estimate is the scenario's own (`Scenario::memory_bytes`); what is
//! available is the machine's (`scenario::available_bytes`).

use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// Fails when the run needs more memory than the process may have.
/// `tests` names what sets the test count (`--tests`, or a file's field).
pub(super) fn check(scenario: &Scenario, tests: &str) -> Result<()> {
    let Some(available) = crate::scenario::available_bytes() else {
        return Ok(());
    };
    let needed = scenario.memory_bytes();
    if needed <= available {
        return Ok(());
    }
    Err(Error::invalid(
        tests,
        format!(
            "{} tests on up to {} workers need about {}, more than the {} available",
            scenario.tests,
            scenario.peak_workers(),
            gigabytes(needed),
            gigabytes(available)
        ),
    ))
}

fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_larger_than_memory_is_refused_naming_the_count() {
        let mut s = crate::scenario::StressOptions::default()
            .to_scenario()
            .unwrap();
        s.tests = 100_000_000;
        assert_eq!(s.memory_bytes(), 60_000_020_000);
        let Some(available) = crate::scenario::available_bytes() else {
            return;
        };
        if available < s.memory_bytes() {
            let e = check(&s, "--tests").unwrap_err().to_string();
            assert!(e.starts_with("invalid --tests: 100000000 tests on up to 20 workers need about 60.0 GB, more than the "), "{e}");
        }
    }
}
