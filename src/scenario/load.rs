//! Background load and thermal events (the reference's worker update loop).

use super::check::{FieldPath, PROBABILITY};
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Background load and thermal events (the reference's worker update loop).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadModel {
    /// Pool cycles happen every `U(min, max)` seconds.
    pub cycle_min_s: f64,
    pub cycle_max_s: f64,
    /// Probability that a worker's drift is redrawn in a cycle.
    pub update_probability: f64,
    /// Probability that an update starts warming (and, again, cooling).
    pub thermal_probability: f64,
    pub warming_s: f64,
    pub cooling_s: f64,
    /// False: no drift and no thermal events (for closed-form checks).
    pub enabled: bool,
    /// True: a run started on a loaded worker is slowed
    /// (`workload::contention::slowdown` of its effective load).
    pub contention: bool,
}

impl Default for LoadModel {
    fn default() -> Self {
        LoadModel {
            cycle_min_s: 0.2,
            cycle_max_s: 1.0,
            update_probability: 0.3,
            thermal_probability: 0.05,
            warming_s: 30.0,
            cooling_s: 60.0,
            enabled: true,
            contention: false,
        }
    }
}

impl LoadModel {
    /// Every rule of the section; `path` names it (`load`).
    pub(crate) fn check(&self, path: &FieldPath) -> Result<()> {
        let (min, max) = (self.cycle_min_s, self.cycle_max_s);
        if !(min.is_finite() && min > 0.0 && max.is_finite() && min <= max) {
            return Err(path
                .field("cycle")
                .error("needs 0 < cycle_min <= cycle_max"));
        }
        let update = path.field("update_probability");
        PROBABILITY.check(&update, self.update_probability)?;
        let thermal = path.field("thermal_probability");
        PROBABILITY.check(&thermal, self.thermal_probability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_is_named_by_its_path() {
        let p = FieldPath::root().field("load");
        LoadModel::default().check(&p).unwrap();
        let bad = LoadModel {
            thermal_probability: -1.0,
            ..Default::default()
        };
        assert_eq!(
            bad.check(&p).unwrap_err().to_string(),
            "invalid load.thermal_probability: -1 must be a probability in [0, 1]"
        );
        let bad = LoadModel {
            cycle_min_s: 2.0,
            ..Default::default()
        };
        assert_eq!(
            bad.check(&p).unwrap_err().to_string(),
            "invalid load.cycle: needs 0 < cycle_min <= cycle_max"
        );
    }
}
