//! Burst arrivals (the reference's burst mode): bursts of `min(tests/10,
//! 50)` tests (at least 1), burst k at `(tests before it / tests) × window`.
//! No parameters.

use super::{Pattern, Schedule, Window};
use crate::sim::SimRng;

/// Tests in bursts, the bursts evenly spaced.
pub(crate) struct Bursts;

impl Pattern for Bursts {
    fn schedule(&self, window: Window, base_length_s: f64) -> Box<dyn Schedule> {
        Box::new(BurstSchedule {
            tests: window.tests,
            size: (window.tests / 10).clamp(1, 50),
            length_s: base_length_s,
        })
    }
}

struct BurstSchedule {
    tests: u64,
    /// Tests per burst.
    size: u64,
    length_s: f64,
}

impl Schedule for BurstSchedule {
    fn base_time_s(&mut self, k: u64, _rng: &mut SimRng) -> f64 {
        (k / self.size * self.size) as f64 / self.tests as f64 * self.length_s
    }
}
