//! The data tables of the policy-comparison charts, built apart from the
//! drawing like the other charts' (`figure`): a heat map of policies ×
//! cells per criterion (how many times worse than the cell's best), and a
//! map of the winning policy over workers × tests.

use super::style::{policy_style, Colour, Marker};
use crate::balancer::policy::SchedulerName;
use serde::Serialize;

/// A policy as its rows and keys show it: name, colour and marker from
/// its `SCHEDULERS` row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct PolicyKey {
    pub(crate) name: String,
    pub(crate) colour: Colour,
    pub(crate) marker: Marker,
}

impl PolicyKey {
    pub(crate) fn of(policy: SchedulerName) -> PolicyKey {
        let (colour, marker) = policy_style(policy);
        PolicyKey {
            name: policy.as_str().to_string(),
            colour,
            marker,
        }
    }
}

/// One column of the heat map: a cell, labelled by its group (workers)
/// and its place in the group (tests); `label` when the grid has neither.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct HeatColumn {
    pub(crate) group: String,
    pub(crate) label: String,
}

/// One criterion's heat map: `ratio[row][column]`, 1 for the best policy
/// of the column, `None` where the policy did not run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct HeatPanel {
    pub(crate) title: String,
    pub(crate) ratio: Vec<Vec<Option<f64>>>,
}

/// Policies (rows) × cells (columns), one panel per criterion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyHeat {
    pub(crate) rows: Vec<PolicyKey>,
    pub(crate) columns: Vec<HeatColumn>,
    /// What the column groups are (`workers`), shown under the groups.
    pub(crate) group_label: String,
    /// What a column is within its group (`tests`).
    pub(crate) column_label: String,
    pub(crate) panels: Vec<HeatPanel>,
}

/// A ratio at or past this is drawn in the darkest colour.
pub(super) const WORST_SHOWN: f64 = 8.0;

/// Where a ratio sits on the colour scale: 0 for the best, 1 for
/// [`WORST_SHOWN`] times worse or more (equal steps for equal factors).
pub(super) fn heat_level(ratio: f64) -> f64 {
    (ratio.max(1.0).log2() / WORST_SHOWN.log2()).clamp(0.0, 1.0)
}

/// One cell on the winners' map: the policy or policies at the best.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct MapPoint {
    pub(crate) workers: f64,
    pub(crate) tests: f64,
    /// Every policy at the best figure (more than one: a tie).
    pub(crate) winners: Vec<String>,
}

/// One criterion's map of winners over workers × tests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct MapPanel {
    pub(crate) title: String,
    pub(crate) points: Vec<MapPoint>,
}

/// The winning policy per cell over workers (x) and tests (y), both on
/// log axes; the key lists the policies that win somewhere.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BestMap {
    pub(crate) keys: Vec<PolicyKey>,
    pub(crate) panels: Vec<MapPanel>,
}

/// The grey of a tie on the winners' map and of an absent heat-map cell.
pub(super) const TIE_COLOUR: Colour = Colour(150, 150, 150);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_rise_by_factor_and_stop_at_the_worst_shown() {
        assert_eq!(heat_level(1.0), 0.0);
        assert_eq!(heat_level(0.5), 0.0);
        assert!((heat_level(2.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(heat_level(8.0), 1.0);
        assert_eq!(heat_level(100.0), 1.0);
    }
}
