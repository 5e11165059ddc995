//! One worker as the index sees it (its free resources and ranking keys),
//! and the keys a policy may rank by: the leaf type the index, its tallies
//! and its memory order all read, kept below all three so none of them
//! imports another for it.

use super::model::Shape;

/// CUDA demand levels tracked exactly; higher demands prune with the top level
/// (a looser but still valid bound).
pub(super) const CUDA_LEVELS: usize = 5;

/// The ranking keys a policy can ask the index to maximise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankKey {
    /// The performance-based score (history and load).
    Performance = 0,
    /// Idleness: 1 − effective load.
    Idle = 1,
    /// Tightness: minus free memory (best fit maximises it).
    Tight = 2,
    /// `priority_based`'s score for priority 1–2 tests (speed).
    Speed = 3,
    /// `priority_based`'s score for priority 3 tests (balance).
    Balanced = 4,
}
pub(crate) const RANK_KEYS: usize = 5;

/// What the index needs to know of one worker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeafData {
    /// Memory free for new tests, MiB.
    pub free_memory_mib: u64,
    /// CUDA devices free.
    pub free_cuda: u32,
    /// CPU cores free.
    pub free_cores: u32,
    /// The worker's backends and labels, as `Backends` bits (0 while it
    /// takes no work, so nothing fits it).
    pub backends: u64,
    /// Its value of each [`RankKey`], indexed by the key's number.
    pub keys: [f64; RANK_KEYS],
}

impl LeafData {
    /// The weight of an idleness-weighted draw: `1 − effective load`.
    pub(crate) fn idleness(&self) -> f64 {
        self.keys[RankKey::Idle as usize].max(0.0)
    }

    /// True if a test of this shape fits the worker (exact).
    pub fn fits(&self, shape: &Shape) -> bool {
        self.free_memory_mib >= shape.memory_mib
            && self.free_cuda >= shape.cuda_devices
            && self.free_cores >= shape.cpu_cores
            && self.backends & shape.backend.0 == shape.backend.0
    }
}
