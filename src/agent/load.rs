//! The load a heartbeat reports, measured: CPU from `/proc/stat` (busy
//! time over the interval since the last heartbeat, all cores), memory
//! from `/proc/meminfo` (in use: total less available), GPU utilisation
//! from `nvidia-smi` when the worker offers devices and it is installed.
//! The balancer's view of the machine is then what the machine does,
//! whoever else runs on it.

use super::detect::meminfo_kib;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// CPU jiffies from `/proc/stat`'s `cpu` line: (busy, total).
pub(crate) fn cpu_times(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 4 {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest is in user).
    let total: u64 = v.iter().take(8).sum();
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// Busy percent between two `cpu_times` samples.
pub(crate) fn cpu_percent(before: (u64, u64), after: (u64, u64)) -> f64 {
    let busy = after.0.saturating_sub(before.0) as f64;
    let total = after.1.saturating_sub(before.1) as f64;
    if total > 0.0 {
        100.0 * busy / total
    } else {
        0.0
    }
}

/// Memory in use, percent of the total.
pub(crate) fn memory_percent(meminfo: &str) -> Option<f64> {
    let total = meminfo_kib(meminfo, "MemTotal")? as f64;
    let available = meminfo_kib(meminfo, "MemAvailable")? as f64;
    (total > 0.0).then(|| 100.0 * (total - available).max(0.0) / total)
}

/// Measures the machine between heartbeats.
pub(crate) struct LoadSampler {
    last_cpu: Option<(u64, u64)>,
    /// The devices whose utilisation is averaged; empty: no GPU query.
    devices: Vec<String>,
    /// `nvidia-smi` failed once: not asked again.
    no_smi: bool,
}

impl LoadSampler {
    pub(crate) fn new(devices: Vec<String>) -> LoadSampler {
        let mut s = LoadSampler {
            last_cpu: None,
            devices,
            no_smi: false,
        };
        s.last_cpu = s.read_cpu();
        s
    }

    fn read_cpu(&self) -> Option<(u64, u64)> {
        cpu_times(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// (cpu, memory, gpu) percent since the previous sample.
    pub(crate) fn sample(&mut self) -> (f64, f64, f64) {
        let now = self.read_cpu();
        let cpu = match (self.last_cpu, now) {
            (Some(a), Some(b)) => cpu_percent(a, b),
            _ => 0.0,
        };
        self.last_cpu = now.or(self.last_cpu);
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| memory_percent(&t))
            .unwrap_or(0.0);
        (cpu, memory, self.gpu())
    }

    fn gpu(&mut self) -> f64 {
        if self.devices.is_empty() || self.no_smi {
            return 0.0;
        }
        match gpu_utilisation(&self.devices) {
            Some(u) => u,
            None => {
                self.no_smi = true;
                0.0
            }
        }
    }
}

/// The mean utilisation of `devices` (indices), from
/// `nvidia-smi --query-gpu=utilization.gpu`; `None` if it is not
/// installed, fails, or takes over two seconds (it is then killed).
fn gpu_utilisation(devices: &[String]) -> Option<f64> {
    let mut child = Command::new("nvidia-smi")
        .args([
            "--query-gpu=utilization.gpu",
            "--format=csv,noheader,nounits",
            &format!("--id={}", devices.join(",")),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = child.try_wait().ok()? {
            break status;
        }
        if waited >= Duration::from_secs(2) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
        waited += Duration::from_millis(10);
    };
    let mut text = String::new();
    child.stdout.take()?.read_to_string(&mut text).ok()?;
    if !status.success() {
        return None;
    }
    mean_of_lines(&text)
}

/// The mean of one number per line (`nvidia-smi`'s csv, no units).
pub(crate) fn mean_of_lines(text: &str) -> Option<f64> {
    let v: Vec<f64> = text
        .lines()
        .filter_map(|l| l.trim().parse::<f64>().ok())
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_load_is_busy_over_total_between_samples() {
        let a = cpu_times("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n").unwrap();
        let b = cpu_times("cpu  200 0 200 800 100 0 0 0 0 0\n").unwrap();
        assert_eq!(a, (200, 1000));
        assert!((cpu_percent(a, b) - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(cpu_percent(b, b), 0.0);
        assert!(cpu_times("intr 1 2 3").is_none());
    }

    #[test]
    fn memory_in_use_and_gpu_means() {
        let m = "MemTotal: 1000 kB\nMemFree: 10 kB\nMemAvailable: 250 kB\n";
        assert_eq!(memory_percent(m), Some(75.0));
        assert_eq!(mean_of_lines("10\n30\n"), Some(20.0));
        assert_eq!(mean_of_lines("[N/A]\n"), None);
    }
}
