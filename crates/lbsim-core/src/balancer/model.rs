//! The balancer's data model: what a worker offers, what a test needs, and
//! the state of each.
//!
//! Memory is held in whole MiB so that reserving and releasing it is exact:
//! float sums drift, and a worker that is "over capacity by 1e-15 GB" is a
//! bug that no snapshot should contain.

use crate::sim::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt;

/// MiB in one GB, as the reference counts memory (binary gigabytes).
pub const MIB_PER_GB: f64 = 1024.0;

/// Converts GB (as written in configs) to whole MiB, rounding down so a
/// worker never claims memory it does not have.
pub fn gb_to_mib_floor(gb: f64) -> u64 {
    if gb.is_nan() || gb <= 0.0 {
        0
    } else {
        (gb * MIB_PER_GB).floor() as u64
    }
}

/// Converts a requirement in GB to whole MiB, rounding up so a test never
/// gets less than it asked for.
pub fn gb_to_mib_ceil(gb: f64) -> u64 {
    if gb.is_nan() || gb <= 0.0 {
        0
    } else {
        (gb * MIB_PER_GB).ceil() as u64
    }
}

/// Dense worker index, never reused within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WorkerId(pub u32);

/// Dense test index in submission order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TestId(pub u64);

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "worker-{:04}", self.0)
    }
}

impl fmt::Display for TestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "test-{:06}", self.0)
    }
}

/// Execution backends, as a bit set (a test needs at most one; a worker
/// supports several). Bits from `LABEL_SHIFT` up are labels a coordinator
/// interned (`Backends::label`): a worker must carry every bit a test asks
/// for, so labels ride the backend check at no extra cost. The simulator
/// never sets them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Backends(pub u64);

impl Backends {
    /// The CPU backend (every worker has it unless told otherwise).
    pub const CPU: Backends = Backends(1);
    /// The CUDA backend.
    pub const CUDA: Backends = Backends(2);
    pub(crate) const ROCM: Backends = Backends(4);
    pub(crate) const NAMES: [(&'static str, Backends); 3] = [
        ("cpu", Backends::CPU),
        ("cuda", Backends::CUDA),
        ("rocm", Backends::ROCM),
    ];

    /// The first label bit; below it are backends.
    pub(crate) const LABEL_SHIFT: u32 = 8;
    /// How many distinct labels one balancer can tell apart.
    pub const MAX_LABELS: usize = 64 - Backends::LABEL_SHIFT as usize;

    /// The set holding only the `i`-th interned label (`i < MAX_LABELS`).
    pub fn label(i: usize) -> Backends {
        debug_assert!(i < Backends::MAX_LABELS);
        Backends(1 << (i as u32 + Backends::LABEL_SHIFT))
    }

    /// True when every bit of `other` is in `self`.
    pub fn contains(self, other: Backends) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits of both.
    pub fn union(self, other: Backends) -> Backends {
        Backends(self.0 | other.0)
    }

    /// A worker's backends when nothing names them: CPU, and CUDA too when
    /// it has CUDA devices (the reference's rule).
    pub fn for_cuda_devices(cuda_devices: u32) -> Backends {
        if cuda_devices > 0 {
            Backends::CPU.union(Backends::CUDA)
        } else {
            Backends::CPU
        }
    }

    /// The backend a name (`cpu`, `cuda`, `rocm`) stands for.
    pub fn from_name(name: &str) -> Option<Backends> {
        Backends::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }

    /// The names of the backends in this set, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Backends::NAMES
            .iter()
            .filter(|(_, b)| self.contains(*b))
            .map(|(n, _)| *n)
            .collect()
    }
}

/// What a worker offers. Fixed for its lifetime.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerSpec {
    /// Usable memory (the reference: 90 % of the installed memory).
    pub memory_mib: u64,
    /// Installed memory in GB, as drawn from the profile (for reports).
    pub memory_gb: f64,
    /// CPU cores.
    pub cpu_cores: u32,
    /// CUDA devices.
    pub cuda_devices: u32,
    /// The backends (and labels) it can run tests on.
    pub backends: Backends,
    /// Relative speed: a test runs `expected / speed` long, before noise.
    pub speed: f64,
}

impl WorkerSpec {
    /// A shape no real worker reaches. Declared to a balancer driven from
    /// outside (the coordinator, the Python API), it keeps the balancer from
    /// rejecting any test itself: the caller decides, from the shapes that
    /// really registered, and a test waits while none has.
    pub fn universal() -> WorkerSpec {
        WorkerSpec {
            memory_mib: u64::MAX / 4,
            memory_gb: f64::MAX,
            cpu_cores: u32::MAX / 4,
            cuda_devices: u32::MAX / 4,
            backends: Backends(u64::MAX),
            speed: 1.0,
        }
    }
}

/// What a test needs.
#[derive(Clone, Debug, PartialEq)]
pub struct TestSpec {
    /// Priority 1 (most urgent) to 5.
    pub priority: u8,
    /// Memory it needs, MiB.
    pub memory_mib: u64,
    /// CUDA devices it needs.
    pub cuda_devices: u32,
    /// CPU cores the test keeps busy while it runs (drives the CPU load).
    pub cpu_cores: u32,
    /// The backend it must run on; `None` means any.
    pub backend: Option<Backends>,
    /// How long a run takes on a worker of speed 1, before noise.
    pub expected_duration: SimDuration,
    /// A small integer naming the model family (affinity policies use it).
    pub model_family: u32,
    /// Tests that share a key never run at the same time.
    pub concurrency_key: Option<u32>,
}

impl TestSpec {
    /// The part of a test that decides where it can run. Tests with equal
    /// shapes are interchangeable for capacity, which lets a scheduling pass
    /// skip a whole class once one of them fits nowhere.
    pub fn shape(&self) -> Shape {
        Shape {
            memory_mib: self.memory_mib,
            cuda_devices: self.cuda_devices,
            cpu_cores: self.cpu_cores,
            backend: self.backend.unwrap_or_default(),
        }
    }
}

/// The resource demand of a test, for fit checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Shape {
    /// Memory, MiB.
    pub memory_mib: u64,
    /// CUDA devices.
    pub cuda_devices: u32,
    /// CPU cores.
    pub cpu_cores: u32,
    /// Required backends (empty set: any).
    pub backend: BackendKey,
}

/// `Backends` with a total order, so shapes can be map keys.
pub(crate) type BackendKey = Backends;

impl PartialOrd for Backends {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Backends {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl Shape {
    /// True when a test of shape `self` fits wherever one of shape `other`
    /// fits (it asks for no more of anything).
    /// The component-wise smallest shape of the two: whatever cannot hold
    /// it cannot hold either of them.
    pub fn floor(&self, other: &Shape) -> Shape {
        Shape {
            memory_mib: self.memory_mib.min(other.memory_mib),
            cuda_devices: self.cuda_devices.min(other.cuda_devices),
            cpu_cores: self.cpu_cores.min(other.cpu_cores),
            backend: Backends(self.backend.0 & other.backend.0),
        }
    }

    pub(crate) fn fits_within(&self, other: &Shape) -> bool {
        self.memory_mib <= other.memory_mib
            && self.cuda_devices <= other.cuda_devices
            && self.cpu_cores <= other.cpu_cores
            && other.backend.contains(self.backend)
    }

    /// True if a worker with this spec could ever run it (empty and idle).
    pub fn fits_spec(&self, spec: &WorkerSpec) -> bool {
        self.memory_mib <= spec.memory_mib
            && self.cuda_devices <= spec.cuda_devices
            && self.cpu_cores <= spec.cpu_cores
            && spec.backends.contains(self.backend)
    }
}

/// Whether a worker takes new work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerStatus {
    /// Takes new work.
    Active,
    /// Leaving gracefully: runs what it has, takes nothing new.
    Draining,
    /// Gone (drained or failed).
    Offline,
}

/// Utilisation fractions (0–1), as in the reference's `WorkerLoad`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Utilisation {
    /// CPU, fraction 0–1.
    pub cpu: f64,
    /// Memory, fraction 0–1.
    pub memory: f64,
    /// GPU, fraction 0–1.
    pub gpu: f64,
    /// Disk I/O, fraction 0–1.
    pub io: f64,
    /// Network, fraction 0–1.
    pub network: f64,
}

impl Utilisation {
    /// The reference's load score: 0.3·cpu + 0.3·mem + 0.2·gpu + 0.1·io + 0.1·net.
    pub fn load_score(&self) -> f64 {
        (0.3 * self.cpu + 0.3 * self.memory + 0.2 * self.gpu + 0.1 * self.io + 0.1 * self.network)
            .clamp(0.0, 1.0)
    }
}

/// Random variation on top of the load that tests cause (the environment:
/// other processes, I/O, network). Set by the workload, not by the balancer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoadDrift {
    /// Extra CPU load, fraction (added to what the runs cause).
    pub cpu: f64,
    /// Extra memory use, fraction.
    pub memory: f64,
    /// Extra GPU load, fraction.
    pub gpu: f64,
    /// Disk I/O, fraction (tests cause none).
    pub io: f64,
    /// Network, fraction (tests cause none).
    pub network: f64,
}

/// Thermal state: warming and cooling reduce a worker's performance level,
/// which raises its effective load and slows the tests it starts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Thermal {
    /// Full performance.
    Normal,
    /// Warming up: below full performance.
    Warming {
        /// When the phase ends.
        until: SimTime,
    },
    /// Cooling down after a hot spell: below full performance.
    Cooling {
        /// When the phase ends.
        until: SimTime,
    },
}

impl Thermal {
    /// When a warming or cooling phase ends (`None` when normal).
    pub fn until(self) -> Option<SimTime> {
        match self {
            Thermal::Normal => None,
            Thermal::Warming { until } | Thermal::Cooling { until } => Some(until),
        }
    }
}

/// How a test's life ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Ran to the end successfully.
    Completed,
    /// Failed on its last attempt, retries used up.
    Failed,
    /// Refused at submission: no worker it could ever run on.
    Rejected,
    /// Still waiting when the run stopped at its horizon.
    Pending,
    /// Still running when the run stopped at its horizon.
    Running,
}

impl Outcome {
    /// The name the CSV and the results JSON write.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Rejected => "rejected",
            Outcome::Pending => "pending",
            Outcome::Running => "running",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_rounding_favours_safety() {
        assert_eq!(gb_to_mib_floor(3.6), 3686);
        assert_eq!(gb_to_mib_ceil(0.5), 512);
        assert_eq!(gb_to_mib_ceil(0.0001), 1);
        assert_eq!(gb_to_mib_floor(-1.0), 0);
    }

    #[test]
    fn load_score_uses_reference_weights() {
        let u = Utilisation {
            cpu: 1.0,
            memory: 0.5,
            gpu: 0.5,
            io: 0.2,
            network: 0.0,
        };
        assert!((u.load_score() - (0.3 + 0.15 + 0.1 + 0.02)).abs() < 1e-12);
        let max = Utilisation {
            cpu: 2.0,
            memory: 2.0,
            gpu: 2.0,
            io: 2.0,
            network: 2.0,
        };
        assert_eq!(max.load_score(), 1.0);
    }

    #[test]
    fn shape_dominance() {
        let small = Shape {
            memory_mib: 512,
            cuda_devices: 0,
            cpu_cores: 1,
            backend: Backends::default(),
        };
        let big = Shape {
            memory_mib: 4096,
            cuda_devices: 1,
            cpu_cores: 1,
            backend: Backends::CUDA,
        };
        assert!(small.fits_within(&big));
        assert!(!big.fits_within(&small));
    }
}
