//! `priority_based`: urgent tests go for speed, routine ones are spread.

use super::common::weighted_fitting;
use super::{Choice, ClusterView, Policy, Request};
use crate::balancer::leaf::RankKey;
use crate::sim::SimRng;

/// Priority 1–2: the highest `0.8 × speed + 0.2 × (1 − load)`, speed =
/// `0.2·success + 0.6·time` from history (0.5 without). Priority 3: the
/// highest `0.6 × balanced + 0.4 × (1 − load)`, balanced = `0.3·success +
/// 0.3·time` (0.5 without). Priority 4–5: weighted random by idleness.
/// The reference's formulas; load is the effective load. Both scores are
/// index keys, so the best fitting worker is an index search, and the
/// weighted draw goes through the index's sums of idleness (the index
/// keeps `Balanced`'s bound and the sums as tallies for this policy).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PriorityBased;

impl Policy for PriorityBased {
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice> {
        let index = cluster.index();
        match req.spec.priority {
            0..=2 => index.best(RankKey::Speed, &req.shape).map(Choice::from),
            3 => index.best(RankKey::Balanced, &req.shape).map(Choice::from),
            _ => weighted_fitting(req, cluster, rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::balancer::model::WorkerId;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn urgent_tests_take_the_fast_worker_routine_ones_the_idle_one() {
        let mut c = Cluster::new(vec![spec(16, 0), spec(16, 0), spec(2, 0)]);
        // Worker 0: perfect, fast history but some load; worker 1: idle, new.
        for _ in 0..10 {
            c.workers[0].history.record(true, 1.0);
        }
        c.workers[0].drift.cpu = 1.0;
        c.workers[0].drift.memory = 0.5;
        c.reindex();
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let mut t = test(4, 0);
        t.priority = 1;
        // w0: 0.8·0.8 + 0.2·(1−0.45) = 0.75; w1: 0.8·0.5 + 0.2 = 0.6.
        let c1 = PriorityBased
            .select(&request(&t), &c.view(), &mut rng)
            .unwrap();
        assert_eq!(c1.worker, WorkerId(0));
        assert!((c1.score - 0.75).abs() < 1e-12);
        // Priority 3, w0: 0.6·0.6 + 0.4·0.55 = 0.58; w1: 0.3 + 0.4 = 0.7.
        t.priority = 3;
        let c3 = PriorityBased
            .select(&request(&t), &c.view(), &mut rng)
            .unwrap();
        assert_eq!(c3.worker, WorkerId(1));
        assert!((c3.score - 0.7).abs() < 1e-12);
        // Priority 5 is random but never the 2 GB worker.
        t.priority = 5;
        for _ in 0..50 {
            let w = PriorityBased
                .select(&request(&t), &c.view(), &mut rng)
                .unwrap();
            assert_ne!(w.worker, WorkerId(2));
        }
    }
}
