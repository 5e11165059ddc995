//! How much memory this process may use, from the machine (Linux `/proc`):
//! the one input of a run's checks that depends on where it runs. It only
//! decides whether a run is refused (exit 2), never what a run outputs.

/// The least of the machine's available memory and the process's limits
/// on its address space and data; `None` where `/proc` does not say.
pub(crate) fn available_bytes() -> Option<u64> {
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
}
