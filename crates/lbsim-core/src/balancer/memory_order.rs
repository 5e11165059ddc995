//! Workers ordered by free memory, for `best_fit`'s "least free memory that
//! still fits" without a branch-and-bound over the whole pool.
//!
//! The capacity index ranks best fit by `Tight` (minus free memory), but in
//! an idle pool the tightest workers are the small ones a test does not fit,
//! so its search prunes little and grows with the pool. Here each CUDA level
//! keeps its workers sorted by (free memory, id); a search starts at the
//! test's memory and walks upward, so the first worker that fits exactly is
//! the answer: O(log W) plus the workers skipped for cores or backends.
//!
//! A level holds the workers with at least that many free CUDA devices and
//! at least one free core, the same grouping as the index's `mem_by_cuda`
//! bound; tests that need no core are left to the index.

use super::leaf::{LeafData, RankKey, CUDA_LEVELS};
use super::model::Shape;
use std::collections::BTreeSet;

/// A worker's place in a level: (sort key of its free memory, slot).
type Entry = (u64, u32);

/// Where a worker sits: its memory sort key and how many levels (from
/// level 0 up) hold it; `levels == 0` means in none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Place {
    key: u64,
    levels: usize,
}

/// The sort key of a free-memory amount. `best_fit` compares the `Tight`
/// key, `-(free as f64)`, so two amounts that round to the same f64 tie
/// there and must tie here; the bits of a non-negative f64 sort as the
/// number does.
fn memory_key(mib: u64) -> u64 {
    (mib as f64).to_bits()
}

/// What a walk up one level found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Walk {
    /// The first worker in (free memory, id) order that fits.
    Found { slot: usize, examined: u32 },
    /// No worker fits the test.
    NoFit,
    /// `budget` workers were examined without a fit; the caller should
    /// search another way (the index's branch and bound).
    GaveUp { examined: u32 },
}

/// Per-CUDA-level sets of workers ordered by free memory.
#[derive(Clone, Debug, Default)]
pub(super) struct MemoryOrder {
    levels: [BTreeSet<Entry>; CUDA_LEVELS],
    places: Vec<Place>,
}

impl MemoryOrder {
    /// Where a worker with leaf `data` (or none) belongs.
    fn place_of(data: Option<&LeafData>) -> Place {
        match data {
            Some(d) if d.free_cores > 0 => {
                debug_assert_eq!(
                    d.keys[RankKey::Tight as usize],
                    -(d.free_memory_mib as f64),
                    "the Tight key must be minus free memory"
                );
                Place {
                    key: memory_key(d.free_memory_mib),
                    levels: (d.free_cuda as usize + 1).min(CUDA_LEVELS),
                }
            }
            _ => Place::default(),
        }
    }

    /// Records slot `slot`'s new leaf (or its absence). Touches only the
    /// levels whose membership changed when the memory did not.
    pub(super) fn set(&mut self, slot: usize, data: Option<&LeafData>) {
        if slot >= self.places.len() {
            self.places.resize(slot + 1, Place::default());
        }
        let old = self.places[slot];
        let new = Self::place_of(data);
        if old == new {
            return;
        }
        let id = slot as u32;
        // Levels kept with the same key need no change.
        let kept = if old.key == new.key {
            old.levels.min(new.levels)
        } else {
            0
        };
        for level in &mut self.levels[kept..old.levels] {
            level.remove(&(old.key, id));
        }
        for level in &mut self.levels[kept..new.levels] {
            level.insert((new.key, id));
        }
        self.places[slot] = new;
    }

    /// Walks the test's level from its memory upward and returns the first
    /// worker whose exact leaf (`leaf(slot)`) fits, examining at most
    /// `budget` workers. The test must need at least one core.
    pub(super) fn first_fit<'a>(
        &self,
        shape: &Shape,
        leaf: impl Fn(usize) -> Option<&'a LeafData>,
        budget: u32,
    ) -> Walk {
        debug_assert!(shape.cpu_cores > 0, "zero-core tests go to the index");
        let level = (shape.cuda_devices as usize).min(CUDA_LEVELS - 1);
        let from = (memory_key(shape.memory_mib), 0);
        let mut walk = self.levels[level].range(from..);
        for examined in 1..=budget {
            let Some(&(_, id)) = walk.next() else {
                return Walk::NoFit;
            };
            let slot = id as usize;
            if leaf(slot).is_some_and(|d| d.fits(shape)) {
                return Walk::Found { slot, examined };
            }
        }
        // The budget is spent: a fit may still lie further up, or not.
        match walk.next() {
            None => Walk::NoFit,
            Some(_) => Walk::GaveUp { examined: budget },
        }
    }

    /// Workers held at `level` (for tests).
    #[cfg(test)]
    pub(super) fn len_at(&self, level: usize) -> usize {
        self.levels[level].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::model::Backends;

    fn leaf(mem: u64, cuda: u32, cores: u32) -> LeafData {
        LeafData {
            free_memory_mib: mem,
            free_cuda: cuda,
            free_cores: cores,
            backends: 3,
            keys: [0.0, 0.0, -(mem as f64), 0.0, 0.0],
        }
    }

    fn shape(mem: u64, cuda: u32) -> Shape {
        Shape {
            memory_mib: mem,
            cuda_devices: cuda,
            cpu_cores: 1,
            backend: Backends::default(),
        }
    }

    /// A worker sits in the levels its free CUDA reaches (capped at the
    /// top level), in none without a free core, and moves as it changes.
    #[test]
    fn workers_sit_in_the_levels_they_reach() {
        let mut m = MemoryOrder::default();
        let counts = |m: &MemoryOrder| (0..CUDA_LEVELS).map(|l| m.len_at(l)).collect::<Vec<_>>();
        m.set(3, Some(&leaf(100, 2, 1)));
        assert_eq!(counts(&m), [1, 1, 1, 0, 0]);
        m.set(5, Some(&leaf(100, 9, 1)));
        assert_eq!(counts(&m), [2, 2, 2, 1, 1]);
        m.set(5, Some(&leaf(100, 0, 1)));
        assert_eq!(counts(&m), [2, 1, 1, 0, 0]);
        m.set(3, Some(&leaf(100, 2, 0)));
        assert_eq!(counts(&m), [1, 0, 0, 0, 0]);
        m.set(5, None);
        assert_eq!(counts(&m), [0; CUDA_LEVELS]);
    }

    /// The walk starts at the test's memory and breaks ties by id.
    #[test]
    fn the_walk_starts_at_the_tests_memory() {
        let mut m = MemoryOrder::default();
        let leaves = [
            leaf(50, 1, 1),
            leaf(300, 1, 1),
            leaf(200, 1, 1),
            leaf(200, 0, 1),
        ];
        for (slot, d) in leaves.iter().enumerate() {
            m.set(slot, Some(d));
        }
        let get = |slot: usize| leaves.get(slot);
        let walk = |mem, cuda| m.first_fit(&shape(mem, cuda), get, 8);
        assert_eq!(
            walk(100, 0),
            Walk::Found {
                slot: 2,
                examined: 1
            }
        );
        assert_eq!(
            walk(200, 1),
            Walk::Found {
                slot: 2,
                examined: 1
            }
        );
        assert_eq!(
            walk(250, 0),
            Walk::Found {
                slot: 1,
                examined: 1
            }
        );
        assert_eq!(walk(400, 0), Walk::NoFit);
        assert_eq!(walk(10, 2), Walk::NoFit);
        assert_eq!(
            m.first_fit(&shape(0, 0), get, 0),
            Walk::GaveUp { examined: 0 }
        );
    }
}
