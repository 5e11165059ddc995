//! Scripted worker churn: joins, drains and failures at given times, such as
//! a rolling drain (one worker after another, each replaced) or a rack
//! failure (a block of workers crashing at once).

use super::check::{FieldPath, AT_LEAST_ONE};
use crate::error::Result;
use serde::Serialize;

/// What happens to the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnAction {
    /// A new worker from the profile joins.
    Join,
    /// The oldest active worker leaves gracefully (finishes its tests).
    Drain,
    /// The oldest active worker crashes; its tests go back to pending.
    Fail,
}

/// `count` actions, the first at `at_s` and then one every `every_s`
/// (0 = all at once).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ChurnEvent {
    /// When the first action happens, seconds.
    pub at_s: f64,
    /// What happens to a worker.
    pub action: ChurnAction,
    /// How many actions, one worker each.
    pub count: u32,
    /// Seconds between actions (0 = all at once).
    pub every_s: f64,
    /// A drained or failed worker is replaced by a new one at once.
    pub replace: bool,
}

impl ChurnEvent {
    /// The event's rules; `path` names it (`churn.events[2]`).
    pub(crate) fn check(&self, path: &FieldPath) -> Result<()> {
        if !(self.at_s.is_finite() && self.at_s >= 0.0) {
            return Err(path.field("at").error("must be >= 0"));
        }
        AT_LEAST_ONE.check(&path.field("count"), self.count)?;
        if !(self.every_s.is_finite() && self.every_s >= 0.0) {
            return Err(path.field("every").error("must be >= 0"));
        }
        Ok(())
    }

    /// Single actions `(time s, action, replace)` in time order.
    pub fn expand(events: &[ChurnEvent]) -> Vec<(f64, ChurnAction, bool)> {
        let mut out: Vec<(f64, ChurnAction, bool)> = events
            .iter()
            .flat_map(|e| {
                (0..e.count).map(move |i| (e.at_s + f64::from(i) * e.every_s, e.action, e.replace))
            })
            .collect();
        // Stable: equal times keep the order they were written in.
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// Workers that join over the whole timeline (for the worker limit).
    pub fn joins(events: &[ChurnEvent]) -> u64 {
        events
            .iter()
            .filter(|e| e.action == ChurnAction::Join || e.replace)
            .map(|e| u64::from(e.count))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rolling_drain_expands_in_time_order() {
        let events = [
            ChurnEvent {
                at_s: 10.0,
                action: ChurnAction::Drain,
                count: 3,
                every_s: 5.0,
                replace: true,
            },
            ChurnEvent {
                at_s: 12.0,
                action: ChurnAction::Fail,
                count: 2,
                every_s: 0.0,
                replace: false,
            },
        ];
        let times: Vec<f64> = ChurnEvent::expand(&events).iter().map(|e| e.0).collect();
        assert_eq!(times, [10.0, 12.0, 12.0, 15.0, 20.0]);
        assert_eq!(ChurnEvent::joins(&events), 3);
        let bad = ChurnEvent {
            count: 0,
            ..events[0].clone()
        };
        let path = FieldPath::root().field("churn").field("events").index(0);
        assert_eq!(
            bad.check(&path).unwrap_err().to_string(),
            "invalid churn.events[0].count: 0 must be a whole number >= 1"
        );
    }
}
