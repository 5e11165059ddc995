//! Poisson arrivals: exponential gaps at a constant rate until every test
//! arrived (a spike timeline makes the process non-homogeneous).

use super::{Pattern, Schedule, Window};
use crate::error::Result;
use crate::scenario::check::FieldPath;
use crate::sim::SimRng;
use serde::{Deserialize, Serialize};

/// A Poisson process at `rate` tests per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poisson {
    /// Tests per second; `None`: tests / duration, the window's average
    /// (filled in when a config is built, used as is when a sweep sets
    /// `arrivals.type` to `poisson`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

impl Poisson {
    /// The rate a run uses.
    fn rate_in(&self, window: Window) -> f64 {
        self.rate.unwrap_or(window.tests as f64 / window.duration_s)
    }
}

impl Pattern for Poisson {
    fn fill_defaults(&mut self, window: Window) {
        self.rate = Some(self.rate_in(window));
    }

    fn check(&self, path: &FieldPath) -> Result<()> {
        match self.rate {
            Some(r) if !(r.is_finite() && r > 0.0) => Err(path
                .field("rate")
                .error("must be a positive number of tests per second")),
            _ => Ok(()),
        }
    }

    /// A rate below the window's average takes longer than the window.
    fn span_s(&self, window: Window) -> f64 {
        window
            .duration_s
            .max(window.tests as f64 / self.rate_in(window))
    }

    fn schedule(&self, window: Window, _base_length_s: f64) -> Box<dyn Schedule> {
        Box::new(PoissonSchedule {
            mean_gap_s: 1.0 / self.rate_in(window),
            clock_s: 0.0,
        })
    }
}

struct PoissonSchedule {
    mean_gap_s: f64,
    /// The last arrival, base seconds.
    clock_s: f64,
}

impl Schedule for PoissonSchedule {
    fn base_time_s(&mut self, _k: u64, rng: &mut SimRng) -> f64 {
        self.clock_s += rng.exponential(self.mean_gap_s);
        self.clock_s
    }
}
