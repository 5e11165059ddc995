//! The pool's system load (mean effective load of the active workers) kept
//! as a running sum, updated when a worker's load changes, so `adaptive`
//! reads it in O(1) instead of scanning the pool on every decision.
//!
//! Loads are summed in fixed point (2^-60 units, an `i128` total): integer
//! sums are exact, so the total depends only on the current loads, never
//! on the order of updates, and it never drifts however long the run.

use super::model::WorkerId;

/// One unit of load in fixed point.
const ONE: f64 = (1u64 << 60) as f64;

/// Running sum of the active workers' effective loads.
#[derive(Clone, Debug, Default)]
pub(super) struct LoadSum {
    /// Per worker slot: its load in fixed point, or `None` if not active.
    loads: Vec<Option<i64>>,
    total: i128,
    active: u32,
}

/// The totals at one instant (what a policy reads).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct SystemLoad {
    total: i128,
    active: u32,
}

impl LoadSum {
    /// Sets a worker's effective load (`None`: not active, not counted).
    pub(super) fn set(&mut self, worker: WorkerId, load: Option<f64>) {
        let slot = worker.0 as usize;
        if slot >= self.loads.len() {
            self.loads.resize(slot + 1, None);
        }
        let new = load.map(to_fixed);
        let old = std::mem::replace(&mut self.loads[slot], new);
        if let Some(old) = old {
            self.total -= i128::from(old);
            self.active -= 1;
        }
        if let Some(new) = new {
            self.total += i128::from(new);
            self.active += 1;
        }
    }

    pub(super) fn now(&self) -> SystemLoad {
        SystemLoad {
            total: self.total,
            active: self.active,
        }
    }
}

impl SystemLoad {
    /// The totals of a list of loads (for hand-built views).
    #[cfg(test)]
    pub(crate) fn of(loads: impl IntoIterator<Item = f64>) -> SystemLoad {
        let mut s = LoadSum::default();
        for (i, load) in loads.into_iter().enumerate() {
            s.set(WorkerId(i as u32), Some(load));
        }
        s.now()
    }

    /// Mean effective load of the active workers, 0 with none.
    pub(crate) fn mean(&self) -> f64 {
        if self.active == 0 {
            0.0
        } else {
            self.total as f64 / ONE / f64::from(self.active)
        }
    }
}

/// Effective loads lie in [0, 1]; out-of-range values are clamped so the
/// sum cannot overflow.
fn to_fixed(load: f64) -> i64 {
    (load.clamp(0.0, 1.0) * ONE).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, Stream};

    /// The running sum agrees with a fresh sum of the current loads after
    /// any sequence of updates, and with the plain float mean to 1e-12.
    #[test]
    fn running_sum_matches_a_fresh_scan() {
        let mut rng = RngStreams::new(4).stream(Stream::Custom(3));
        let mut sum = LoadSum::default();
        let mut shadow: Vec<Option<f64>> = vec![None; 200];
        for step in 0..5000 {
            let w = rng.below(200) as usize;
            let load = (!rng.chance(0.2)).then(|| rng.below(1000) as f64 / 999.0);
            sum.set(WorkerId(w as u32), load);
            shadow[w] = load;
            if step % 50 == 0 {
                let loads: Vec<f64> = shadow.iter().flatten().copied().collect();
                let fresh = SystemLoad::of(loads.iter().copied());
                assert_eq!(sum.now(), fresh, "step {step}");
                let float = if loads.is_empty() {
                    0.0
                } else {
                    loads.iter().sum::<f64>() / loads.len() as f64
                };
                assert!((sum.now().mean() - float).abs() < 1e-12, "step {step}");
            }
        }
        assert_eq!(LoadSum::default().now().mean(), 0.0);
    }
}
