//! Even arrivals (the reference's steady mode): test k of n at k/n of the
//! window. No parameters.

use super::{Pattern, Schedule, Window};
use crate::sim::SimRng;

/// Evenly spaced over the window.
pub(crate) struct Even;

impl Pattern for Even {
    fn schedule(&self, window: Window, base_length_s: f64) -> Box<dyn Schedule> {
        Box::new(EvenSchedule {
            tests: window.tests,
            length_s: base_length_s,
        })
    }
}

struct EvenSchedule {
    tests: u64,
    length_s: f64,
}

impl Schedule for EvenSchedule {
    fn base_time_s(&mut self, k: u64, _rng: &mut SimRng) -> f64 {
        k as f64 / self.tests as f64 * self.length_s
    }
}
