//! Background load and thermal events (the reference's worker update loop).

use super::check::{FieldPath, POSITIVE, POSITIVE_SECONDS, PROBABILITY};
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Background load and thermal events (the reference's worker update loop).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadModel {
    /// Pool cycles happen every `U(min, max)` seconds.
    pub(crate) cycle_min_s: f64,
    pub(crate) cycle_max_s: f64,
    /// Probability that a worker's drift is redrawn in a cycle.
    pub update_probability: f64,
    /// Probability that an update starts warming (and, again, cooling).
    pub(crate) thermal_probability: f64,
    pub(crate) warming_s: f64,
    pub(crate) cooling_s: f64,
    /// False: no drift and no thermal events (for closed-form checks).
    pub enabled: bool,
    /// True: a run started on a loaded worker is slowed
    /// (`workload::contention::slowdown` of its effective load).
    pub contention: bool,
    /// What the balancer sees of the load; left out of results when live,
    /// so results from before the field existed keep their bytes.
    #[serde(default, skip_serializing_if = "LoadView::is_live")]
    pub view: LoadView,
    /// How often workers report, with the reported view (`None` when live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<ReportPace>,
}

/// Heartbeats with the reported view, paced as `lbsim serve` paces its
/// workers': each worker every `min_interval_s`, stretched so that the
/// fleet sends at most `per_second` (the service's 500 beats a second).
/// Unlike the service, no timeout caps the stretch: a simulated worker
/// never times out, and the cap would bring back a cost of workers × time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportPace {
    pub per_second: f64,
    pub min_interval_s: f64,
}

impl Default for ReportPace {
    fn default() -> Self {
        ReportPace {
            per_second: 500.0,
            min_interval_s: 5.0,
        }
    }
}

impl ReportPace {
    /// Reports the fleet sends a second with `active` workers.
    pub(crate) fn fleet_rate(&self, active: usize) -> f64 {
        (active as f64 / self.min_interval_s).min(self.per_second)
    }
}

/// When the balancer learns a worker's background load and thermal phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadView {
    /// At every redraw, in every pool cycle (the reference): exact, but
    /// costs workers × cycles.
    #[default]
    Live,
    /// When the worker reports on its heartbeat (paced by `reports`): the
    /// same drift law, drawn only then (`workload::reported_load`), so the
    /// cost no longer grows with workers × cycles.
    Reported,
}

impl LoadView {
    /// True when the balancer sees drift at every redraw (the reference's way).
    pub fn is_live(&self) -> bool {
        *self == LoadView::Live
    }
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
            view: LoadView::Live,
            reports: None,
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
        PROBABILITY.check(&thermal, self.thermal_probability)?;
        if let Some(pace) = &self.reports {
            POSITIVE.check(&path.field("report_rate"), pace.per_second)?;
            POSITIVE_SECONDS.check(&path.field("report_interval"), pace.min_interval_s)?;
        }
        Ok(())
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
