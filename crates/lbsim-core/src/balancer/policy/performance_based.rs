//! `performance_based`: the reference's default policy.

use super::{Choice, ClusterView, Policy, Request};
use crate::balancer::leaf::RankKey;
use crate::sim::SimRng;

/// Chooses the fitting worker with the highest
/// `0.7 × history score + 0.3 × (1 − effective load)`, lowest id on ties.
///
/// The score depends only on the worker (history is normalised by expected
/// duration), so the capacity index can keep it and the choice is a
/// branch-and-bound search, O(log W) while well-scored workers have room.
#[derive(Clone, Copy, Debug, Default)]
pub struct PerformanceBased;

impl Policy for PerformanceBased {
    fn select(
        &mut self,
        req: &Request,
        cluster: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<Choice> {
        cluster
            .index()
            .best(RankKey::Performance, &req.shape)
            .map(Choice::from)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::balancer::model::WorkerId;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn prefers_history_then_low_load_among_fitting_workers() {
        let mut c = Cluster::new(vec![spec(4, 0), spec(16, 0), spec(16, 0), spec(32, 2)]);
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let t = test(8, 0);
        // No history anywhere, all idle: ties go to the lowest fitting id.
        assert_eq!(
            PerformanceBased
                .select(&request(&t), &c.view(), &mut rng)
                .unwrap()
                .worker,
            WorkerId(1)
        );
        // Worker 2 has a perfect record: 0.7·0.7 + 0.3 beats 0.7·0.5 + 0.3.
        for _ in 0..10 {
            c.workers[2].history.record(true, 1.0);
        }
        c.reindex();
        let choice = PerformanceBased
            .select(&request(&t), &c.view(), &mut rng)
            .unwrap();
        assert_eq!(choice.worker, WorkerId(2));
        assert!((choice.score - (0.7 * 0.7 + 0.3)).abs() < 1e-12);
        // Load it so it scores below the idle newcomer: 0.49 + 0.3·(1−0.9) < 0.35 + 0.3.
        c.workers[2].drift.cpu = 1.0;
        c.workers[2].drift.memory = 1.0;
        c.workers[2].drift.gpu = 1.0;
        c.reindex();
        assert_eq!(
            PerformanceBased
                .select(&request(&t), &c.view(), &mut rng)
                .unwrap()
                .worker,
            WorkerId(1)
        );
        // A CUDA test fits only worker 3.
        assert_eq!(
            PerformanceBased
                .select(&request(&test(1, 2)), &c.view(), &mut rng)
                .unwrap()
                .worker,
            WorkerId(3)
        );
        assert!(PerformanceBased
            .select(&request(&test(64, 0)), &c.view(), &mut rng)
            .is_none());
    }
}
