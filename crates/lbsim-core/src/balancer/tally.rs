//! Tallies kept beside the capacity index ([`super::index::FitTree`]): for
//! each node and each *capacity class* (every worker present; or those with
//! a free core, at least 0, 1 or 2 free CUDA devices, and at least 0, 1, 2,
//! 4 or 8 GiB free), a sum or a max of one worker value over the workers of
//! that class below the node.
//!
//! Sums of a weight (1, or idleness) let a policy draw among the workers of
//! the smallest class that holds every worker fitting a test, in O(log W),
//! instead of among all workers: a test of 8 GiB and two CUDA devices on a
//! pool of mostly small workers then misses rarely, and the draw stays
//! exact (rejection against a superset of the fitting workers keeps the
//! proposal's law restricted to them). A max of a ranking key is a tighter bound for the index's
//! searches by a key other than the policy's main one (`composite`'s
//! members). Only the policies that need a tally pay for one.

use super::leaf::{LeafData, RankKey};
use super::model::{Shape, WorkerId};

/// Memory steps of a class: any, or at least `1024 << (m - 1)` MiB free
/// (the index's own per-memory-level bound uses steps 1 and up).
pub(super) const MEM_STEPS: usize = 5;
const MEM_STEP_BASE_MIB: u64 = 1024;
/// CUDA steps of a class: at least 0, 1 or 2 free devices.
const CUDA_STEPS: usize = 3;
/// Class 0 is every worker present; class `1 + c·MEM_STEPS + m` holds those
/// with a free core, at least `c` free CUDA devices and memory step `m`.
pub(crate) const CLASSES: usize = 1 + CUDA_STEPS * MEM_STEPS;

/// The highest memory step `memory_mib` reaches.
pub(super) fn mem_step(memory_mib: u64) -> usize {
    (memory_mib / MEM_STEP_BASE_MIB)
        .checked_ilog2()
        .map_or(0, |s| (s as usize + 1).min(MEM_STEPS - 1))
}

/// The smallest class that holds every worker a test of `shape` fits.
pub(crate) fn class_of(shape: &Shape) -> usize {
    if shape.cpu_cores == 0 {
        return 0;
    }
    let cuda = (shape.cuda_devices as usize).min(CUDA_STEPS - 1);
    1 + cuda * MEM_STEPS + mem_step(shape.memory_mib)
}

/// Whether the worker of `d` belongs to each class.
pub(super) fn classes_of(d: &LeafData) -> [bool; CLASSES] {
    let mut member = [false; CLASSES];
    member[0] = true;
    if d.free_cores > 0 {
        let (cuda, mem) = (
            (d.free_cuda as usize).min(CUDA_STEPS - 1),
            mem_step(d.free_memory_mib),
        );
        for c in 0..=cuda {
            for m in 0..=mem {
                member[1 + c * MEM_STEPS + m] = true;
            }
        }
    }
    member
}

/// What a tally keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TallyKind {
    /// How many workers (for uniform draws).
    Count,
    /// Their idleness, `1 − effective load`, summed (for weighted draws).
    Idleness,
    /// The max of a ranking key (a search bound).
    MaxKey(RankKey),
}

/// One tally over every node of the index, in the index's node numbering.
#[derive(Clone, Debug)]
pub struct Tally {
    kind: TallyKind,
    values: Values,
}

/// A tally's values per node and class. Counts are whole numbers, kept as
/// `u32` (slots are `u32`, so no count overflows): half the bytes of an
/// `f64`, so a node update and a draw's path touch half the memory.
#[derive(Clone, Debug)]
enum Values {
    /// Idleness sums, or maxima of a key.
    Real(Vec<[f64; CLASSES]>),
    Count(Vec<[u32; CLASSES]>),
}

impl Tally {
    /// The value of an empty subtree: nothing summed, or no key.
    fn empty_real(kind: TallyKind) -> [f64; CLASSES] {
        match kind {
            TallyKind::MaxKey(_) => [f64::NEG_INFINITY; CLASSES],
            TallyKind::Count | TallyKind::Idleness => [0.0; CLASSES],
        }
    }

    /// An empty tally of `kind`.
    pub fn new(kind: TallyKind) -> Tally {
        let values = match kind {
            TallyKind::Count => Values::Count(Vec::new()),
            _ => Values::Real(Vec::new()),
        };
        Tally { kind, values }
    }

    /// What it sums.
    pub fn kind(&self) -> TallyKind {
        self.kind
    }

    /// Empties the tally for a tree of `nodes` nodes.
    pub(super) fn reset(&mut self, nodes: usize) {
        match &mut self.values {
            Values::Real(v) => *v = vec![Tally::empty_real(self.kind); nodes],
            Values::Count(v) => *v = vec![[0; CLASSES]; nodes],
        }
    }

    /// Writes node `i` as the leaf of `data`.
    pub(super) fn set_leaf(&mut self, i: usize, data: Option<&LeafData>) {
        let member = data.map_or([false; CLASSES], classes_of);
        match &mut self.values {
            Values::Count(v) => v[i] = member.map(u32::from),
            Values::Real(v) => {
                let x = match (self.kind, data) {
                    (TallyKind::MaxKey(k), Some(d)) => d.keys[k as usize],
                    (_, Some(d)) => d.idleness(),
                    (_, None) => 0.0,
                };
                let empty = Tally::empty_real(self.kind);
                v[i] = std::array::from_fn(|j| if member[j] { x } else { empty[j] });
            }
        }
    }

    /// Recomputes inner node `i` from its children. A sum is always taken
    /// from the two children, so it depends only on the leaves, never on
    /// the order of updates.
    pub(super) fn pull(&mut self, i: usize) {
        match &mut self.values {
            Values::Count(v) => {
                let (l, r) = (v[2 * i], v[2 * i + 1]);
                v[i] = std::array::from_fn(|j| l[j] + r[j]);
            }
            Values::Real(v) => {
                let (l, r) = (v[2 * i], v[2 * i + 1]);
                v[i] = match self.kind {
                    TallyKind::MaxKey(_) => {
                        std::array::from_fn(|j| if l[j] > r[j] { l[j] } else { r[j] })
                    }
                    _ => std::array::from_fn(|j| l[j] + r[j]),
                };
            }
        }
    }

    /// Node `i`'s value for `class`.
    pub(super) fn at(&self, i: usize, class: usize) -> f64 {
        match &self.values {
            Values::Real(v) => v[i][class],
            Values::Count(v) => f64::from(v[i][class]),
        }
    }

    /// The worker where the running sum over `class`, in id order, passes
    /// `r`: with `r` uniform in `[0, total)`, a draw weighted by the tally
    /// among the class's workers. `None` if rounding ran off the end onto a
    /// worker of no weight (the caller draws again).
    pub(super) fn descend(&self, leaves: usize, class: usize, mut r: f64) -> Option<WorkerId> {
        if leaves == 0 {
            return None;
        }
        let mut i = 1;
        while i < leaves {
            let left = self.at(2 * i, class);
            i = if r < left {
                2 * i
            } else {
                r -= left;
                2 * i + 1
            };
        }
        (self.at(i, class) > 0.0).then_some(WorkerId((i - leaves) as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::index::tests::{leaf, shape};

    /// A test's class holds every worker it fits, and only the classes it
    /// should: the step boundaries either side, then a grid of shapes.
    #[test]
    fn a_tests_class_holds_every_worker_it_fits() {
        assert_eq!(class_of(&shape(8192, 2, 0)), 0);
        for (mem, step) in [
            (0, 0),
            (1023, 0),
            (1024, 1),
            (2047, 1),
            (2048, 2),
            (8192, 4),
        ] {
            assert_eq!(class_of(&shape(mem, 0, 1)), 1 + step, "{mem}");
            assert_eq!(class_of(&shape(mem, 1, 1)), 1 + MEM_STEPS + step, "{mem}");
        }
        assert_eq!(class_of(&shape(1 << 30, 7, 1)), CLASSES - 1);
        assert_eq!(classes_of(&leaf(1 << 20, 4, 0, 0.5)), {
            let mut only_present = [false; CLASSES];
            only_present[0] = true;
            only_present
        });
        let members = |d| classes_of(&d).iter().filter(|&&m| m).count();
        assert_eq!(members(leaf(0, 0, 1, 0.5)), 2);
        assert_eq!(members(leaf(4095, 0, 1, 0.5)), 1 + 3);
        assert_eq!(members(leaf(4096, 1, 1, 0.5)), 1 + 2 * 4);
        assert_eq!(members(leaf(1 << 20, 9, 1, 0.5)), CLASSES);
        let mut fitting_with_cuda = 0;
        for wm in (0..20_000).step_by(511) {
            for (wcuda, wc) in [(0, 0), (0, 1), (1, 2), (2, 1), (5, 1)] {
                let d = leaf(wm, wcuda, wc, 0.5);
                for tm in (0..20_000).step_by(487) {
                    for (tcuda, tc) in [(0, 0), (0, 1), (1, 1), (2, 1), (3, 2)] {
                        let s = shape(tm, tcuda, tc);
                        if d.fits(&s) {
                            fitting_with_cuda += u32::from(tcuda > 0);
                            assert!(
                                classes_of(&d)[class_of(&s)],
                                "{wm} {wcuda} {wc} {tm} {tcuda} {tc}"
                            );
                        }
                    }
                }
            }
        }
        assert!(fitting_with_cuda > 100, "{fitting_with_cuda}");
    }
}
