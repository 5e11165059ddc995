//! Workers joining and leaving during a run: none, at random each pool
//! cycle (the reference's `--dynamic`), or on a scripted timeline.

use super::check::{FieldPath, FRACTION, PROBABILITY};
use super::{ChurnEvent, RecordedLeave, RecordedWorker, MAX_WORKERS};
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Workers joining and leaving during the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Churn {
    /// The initial pool stays as it is.
    None,
    /// Each pool cycle: a join with `join_probability` while fewer than
    /// `max_factor × initial`; a leave with `leave_probability` while more
    /// than `min_factor × initial`, a crash with `fail_fraction` of leaves.
    Random {
        /// Chance (0–1) of a join in one pool cycle.
        join_probability: f64,
        /// Chance (0–1) of a leave in one pool cycle.
        leave_probability: f64,
        /// Share (0–1) of leaves that are crashes rather than drains.
        fail_fraction: f64,
        /// The pool grows to at most this many times its initial size.
        max_factor: f64,
        /// The pool shrinks to at least this many times its initial size.
        min_factor: f64,
    },
    /// Scripted joins, drains and failures (a rolling drain, a rack failure).
    Timeline {
        /// The scripted actions (sorted by time when run; ties keep this order).
        events: Vec<ChurnEvent>,
    },
    /// A coordinator's recorded pool, replayed exactly (never from a
    /// config: `lbsim replay` builds it from a recording). The first
    /// `Scenario::workers` are there at time zero.
    Recorded {
        /// Every worker that registered, in join order.
        workers: Vec<RecordedWorker>,
        /// Every drain and failure, in order.
        leaves: Vec<RecordedLeave>,
    },
}

impl Churn {
    /// The reference's `--dynamic` rates; a third of leaves are crashes.
    pub fn reference() -> Churn {
        Churn::Random {
            join_probability: 0.1,
            leave_probability: 0.05,
            fail_fraction: 1.0 / 3.0,
            max_factor: 1.5,
            min_factor: 0.5,
        }
    }

    /// Every rule of the section; `path` names it (`churn`).
    pub(crate) fn check(&self, path: &FieldPath) -> Result<()> {
        match *self {
            Churn::None => Ok(()),
            Churn::Random {
                join_probability,
                leave_probability,
                fail_fraction,
                max_factor,
                min_factor,
            } => {
                PROBABILITY.check(&path.field("join_probability"), join_probability)?;
                PROBABILITY.check(&path.field("leave_probability"), leave_probability)?;
                FRACTION.check(&path.field("fail_fraction"), fail_fraction)?;
                let finite = min_factor.is_finite() && max_factor.is_finite();
                if !(finite && 0.0 <= min_factor && min_factor <= max_factor) {
                    return Err(path.error("needs 0 <= min_factor <= max_factor"));
                }
                Ok(())
            }
            Churn::Timeline { ref events } => {
                let mut each = events.iter().enumerate();
                each.try_for_each(|(i, e)| e.check(&path.field("events").index(i)))?;
                // Each action is laid out before the run: a count is
                // memory, so the sum is bounded like the pool.
                let actions: u64 = events.iter().map(|e| u64::from(e.count)).sum();
                if actions > u64::from(MAX_WORKERS) {
                    return Err(path
                        .field("events")
                        .error(format!("{actions} actions in all, more than {MAX_WORKERS}")));
                }
                Ok(())
            }
            Churn::Recorded {
                ref workers,
                ref leaves,
            } => super::recorded::check(workers, leaves, path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_rate_is_named_by_its_path() {
        let Churn::Random {
            max_factor,
            min_factor,
            ..
        } = Churn::reference()
        else {
            unreachable!("the reference churn is random")
        };
        let churn = Churn::Random {
            join_probability: 2.0,
            leave_probability: 0.1,
            fail_fraction: 0.5,
            max_factor,
            min_factor,
        };
        let e = churn.check(&FieldPath::root().field("churn")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid churn.join_probability: 2 must be a probability in [0, 1]"
        );
        Churn::reference().check(&FieldPath::root()).unwrap();
    }

    /// Regression: a timeline joining 1,000,000,000 workers ran out of
    /// memory laying out its actions.
    #[test]
    fn a_timeline_of_more_actions_than_a_pool_may_hold_is_refused() {
        let event = |count| ChurnEvent {
            at_s: 1.0,
            action: crate::scenario::ChurnAction::Join,
            count,
            every_s: 0.0,
            replace: false,
        };
        let churn = Churn::Timeline {
            events: vec![event(600_000), event(1_000_000_000)],
        };
        let e = churn.check(&FieldPath::root().field("churn")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid churn.events: 1000600000 actions in all, more than 1000000"
        );
        let fine = Churn::Timeline {
            events: vec![event(600_000), event(400_000)],
        };
        fine.check(&FieldPath::root()).unwrap();
    }
}
