//! What the machine offers: cores, memory (`/proc/meminfo`), CUDA devices
//! (`nvidia-smi -L`, when it is installed), and a name. Every value can be
//! overridden by a flag, so a machine can offer less than it has.

use std::process::{Command, Stdio};

/// The cores this process may use.
pub(crate) fn cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// Installed memory, GB (GiB, as the balancer counts: 1 GB = 1024 MiB).
pub(crate) fn memory_gb() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    meminfo_kib(&text, "MemTotal").map(|kib| kib as f64 / (1024.0 * 1024.0))
}

/// A `/proc/meminfo` field, KiB.
pub(crate) fn meminfo_kib(text: &str, field: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The CUDA devices' indices as `nvidia-smi -L` lists them (none when it
/// is not installed or fails).
pub(crate) fn cuda_devices() -> Vec<String> {
    let out = Command::new("nvidia-smi")
        .arg("-L")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => parse_nvidia_list(&String::from_utf8_lossy(&o.stdout)),
        _ => Vec::new(),
    }
}

/// `GPU 0: NVIDIA H100 (UUID: GPU-...)` lines → `["0", ...]`.
pub(crate) fn parse_nvidia_list(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("GPU ")?;
            let index = rest.split(':').next()?.trim();
            index
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| index.to_string())
                .filter(|i| !i.is_empty())
        })
        .collect()
}

/// The machine's host name, for the registration.
pub(crate) fn hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_smi_lists_parse_to_indices() {
        let text = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1a2b)\n\
                    GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-3c4d)\n\
                    No devices were found\n";
        assert_eq!(parse_nvidia_list(text), ["0", "1"]);
        assert!(parse_nvidia_list("").is_empty());
    }

    #[test]
    fn meminfo_fields_read_in_kib() {
        let text = "MemTotal:       24585328 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(meminfo_kib(text, "MemTotal"), Some(24_585_328));
        assert_eq!(meminfo_kib(text, "MemAvailable"), Some(20_000_000));
        assert_eq!(meminfo_kib(text, "Mem"), None);
    }
}
