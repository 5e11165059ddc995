//! `composite`: a weighted vote of other policies.

use super::{Choice, ClusterView, Finished, Policy, Request, SchedulerName, UnknownScheduler};
use crate::balancer::model::WorkerId;
use crate::sim::SimRng;
use indexmap::IndexMap;
use serde::Serialize;

/// Each member policy's vote weight, in the order they vote.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CompositeWeights(pub IndexMap<SchedulerName, f64>);

impl Default for CompositeWeights {
    /// History first, then load, then cache warmth.
    fn default() -> Self {
        CompositeWeights(IndexMap::from([
            (SchedulerName::PerformanceBased, 0.5),
            (SchedulerName::LeastLoaded, 0.3),
            (SchedulerName::AffinityBased, 0.2),
        ]))
    }
}

impl CompositeWeights {
    /// Parses `name:weight,name:weight`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<CompositeWeights, WeightsError> {
        let mut weights = IndexMap::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, weight) = item
                .split_once(':')
                .ok_or_else(|| WeightsError::NotAPair(item.to_string()))?;
            let name = SchedulerName::parse(name.trim())?;
            let weight: f64 = weight
                .trim()
                .parse()
                .map_err(|_| WeightsError::NotANumber(weight.trim().to_string()))?;
            if weights.insert(name, weight).is_some() {
                return Err(WeightsError::Twice(name));
            }
        }
        let w = CompositeWeights(weights);
        w.validate()?;
        Ok(w)
    }

    /// Members must be plain policies with positive, finite weights.
    pub fn validate(&self) -> Result<(), WeightsError> {
        if self.0.is_empty() {
            return Err(WeightsError::Empty);
        }
        for (&name, &weight) in &self.0 {
            if !name.info().is_plain {
                return Err(WeightsError::NotAMember(name));
            }
            if !(weight.is_finite() && weight > 0.0) {
                return Err(WeightsError::NotPositive(name));
            }
        }
        Ok(())
    }
}

/// Why composite weights (`--composite-weights`, `composite_weights`) are
/// refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WeightsError {
    /// An item has no colon.
    #[error("'{0}' is not NAME:WEIGHT")]
    NotAPair(String),
    /// A member is not a scheduler.
    #[error(transparent)]
    Unknown(#[from] UnknownScheduler),
    /// A weight does not parse as a number.
    #[error("'{0}' is not a number")]
    NotANumber(String),
    /// A member appears twice.
    #[error("{0} is listed twice")]
    Twice(SchedulerName),
    /// No member at all.
    #[error("needs at least one NAME:WEIGHT")]
    Empty,
    /// A policy that is not plain (`composite`, `adaptive`) named as a
    /// member.
    #[error("{0} cannot be a member of composite")]
    NotAMember(SchedulerName),
    /// A weight that is zero, negative, infinite or NaN.
    #[error("weight of {0} must be a positive number")]
    NotPositive(SchedulerName),
}

/// Every member picks a worker; each pick earns the member's weight; the
/// worker with the most votes wins (lowest id on ties). Unlike the
/// reference, it votes only among the members' picks (all of which fit), so
/// with no vote it returns `None` instead of an incompatible first worker,
/// and stateful members learn only from real assignments. Its cost is the
/// sum of its members'.
pub(crate) struct Composite {
    members: Vec<(Box<dyn Policy>, f64)>,
}

impl Composite {
    pub(crate) fn new(weights: &CompositeWeights) -> Composite {
        Composite {
            members: weights
                .0
                .iter()
                .map(|(&name, &w)| (name.build(), w))
                .collect(),
        }
    }
}

impl Policy for Composite {
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice> {
        let mut votes: Vec<(WorkerId, f64)> = Vec::new();
        let mut examined = 0u32;
        for (member, weight) in &mut self.members {
            if let Some(c) = member.select(req, cluster, rng) {
                examined += c.candidates;
                match votes.iter_mut().find(|(w, _)| *w == c.worker) {
                    Some((_, v)) => *v += *weight,
                    None => votes.push((c.worker, *weight)),
                }
            }
        }
        votes
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(worker, score)| Choice {
                worker,
                score,
                candidates: examined,
            })
    }

    fn on_assigned(&mut self, req: &Request, worker: WorkerId) {
        for (m, _) in &mut self.members {
            m.on_assigned(req, worker);
        }
    }

    fn on_finished(&mut self, done: &Finished) {
        for (m, _) in &mut self.members {
            m.on_finished(done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn the_heaviest_vote_wins() {
        // fifo picks worker 0 (first), least_loaded worker 1 (idle), best_fit
        // worker 2 (tightest).
        let mut c = Cluster::new(vec![spec(16, 0), spec(16, 0), spec(8, 0)]);
        c.workers[0].drift.cpu = 0.5;
        c.workers[2].drift.cpu = 0.5;
        c.reindex();
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let t = test(4, 0);
        let vote = |text: &str, rng: &mut SimRng| {
            let mut p = Composite::new(&CompositeWeights::parse(text).unwrap());
            p.select(&request(&t), &c.view(), rng).unwrap()
        };
        let a = vote("fifo:1,least_loaded:2,best_fit:1.5", &mut rng);
        assert_eq!((a.worker, a.score), (WorkerId(1), 2.0));
        let b = vote("fifo:1,least_loaded:1,best_fit:1.5", &mut rng);
        assert_eq!(b.worker, WorkerId(2));
        // A tie between fifo and least_loaded goes to the lower id.
        let t2 = vote("fifo:1,least_loaded:1", &mut rng);
        assert_eq!(t2.worker, WorkerId(0));
        // Agreement adds up.
        let d = vote("least_loaded:1,performance_based:1", &mut rng);
        assert_eq!((d.worker, d.score), (WorkerId(1), 2.0));
    }

    #[test]
    fn bad_weights_are_refused_with_a_reason() {
        let refused = |text: &str| CompositeWeights::parse(text).unwrap_err().to_string();
        assert_eq!(refused("fifo"), "'fifo' is not NAME:WEIGHT");
        assert_eq!(
            refused("fifo:-1"),
            "weight of fifo must be a positive number"
        );
        assert_eq!(refused("fifo: x"), "'x' is not a number");
        assert!(refused("nope:1").starts_with("unknown scheduler 'nope' (known: "));
        assert_eq!(
            refused("adaptive:1"),
            "adaptive cannot be a member of composite"
        );
        assert_eq!(refused("fifo:1,fifo:2"), "fifo is listed twice");
        assert_eq!(refused(""), "needs at least one NAME:WEIGHT");
        assert_eq!(
            CompositeWeights::parse("performance_based:0.5, least_loaded:0.3,affinity_based:0.2"),
            Ok(CompositeWeights::default())
        );
    }
}
