//! Whether a run fits in memory, checked before it starts: a run that
//! would be killed for memory after minutes is refused at once (exit 2)
//! with the flag or field and the number that is too big.
//!
//! The estimate is the scenario's own (`Scenario::memory_bytes`); what is
//! available is read from the machine (Linux `/proc`), so this check is the
//! one thing about a run that depends on where it runs. It never changes an
//! output: a run either starts as it would anywhere, or is refused.

use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// Fails when the run needs more memory than the process may have.
/// `tests` names what sets the test count (`--tests`, or a file's field).
pub(super) fn check(scenario: &Scenario, tests: &str) -> Result<()> {
    let Some(available) = available_bytes() else {
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

/// The least of the machine's available memory and the process's limits
/// on its address space and data; `None` where `/proc` does not say.
fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let limits = std::fs::read_to_string("/proc/self/limits").ok();
    let free = meminfo.as_deref().and_then(mem_available);
    let caps = limits.as_deref().map(soft_limits).unwrap_or_default();
    free.into_iter().chain(caps).min()
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The soft limits on address space and data of `/proc/self/limits`
/// that are set, in bytes.
fn soft_limits(limits: &str) -> Vec<u64> {
    limits
        .lines()
        .filter(|l| l.starts_with("Max address space") || l.starts_with("Max data size"))
        .filter_map(|l| l.split_whitespace().nth(3)?.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read_in_bytes() {
        let meminfo = "MemTotal:       24000000 kB\nMemAvailable:    2000000 kB\n";
        assert_eq!(mem_available(meminfo), Some(2_048_000_000));
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max data size             unlimited            unlimited            bytes\n\
                      Max address space         1024000000           unlimited            bytes\n";
        assert_eq!(soft_limits(limits), [1_024_000_000]);
    }

    #[test]
    fn a_run_larger_than_memory_is_refused_naming_the_count() {
        let mut s = crate::scenario::StressOptions::default()
            .to_scenario()
            .unwrap();
        s.tests = 100_000_000;
        assert_eq!(s.memory_bytes(), 60_000_020_000);
        let Some(available) = available_bytes() else {
            return;
        };
        if available < s.memory_bytes() {
            let e = check(&s, "--tests").unwrap_err().to_string();
            assert!(e.starts_with("invalid --tests: 100000000 tests on up to 20 workers need about 60.0 GB, more than the "), "{e}");
        }
    }
}
