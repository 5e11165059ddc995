//! `weighted_round_robin`: the reference's weighted random choice.

use super::common::weighted_fitting;
use super::{Choice, ClusterView, Policy, Request};
use crate::sim::SimRng;

/// Picks a fitting worker at random with weight `1 − effective load`, so idle
/// workers get more tests without starving busy ones. The reference called
/// this weighted round robin; it was (unseeded) weighted random. Here the
/// draw comes from the policy stream, through the index's sums of
/// idleness over the test's capacity class (O(log W) a draw; see
/// [`crate::balancer::tally`]) until a drawn worker fits.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WeightedRoundRobin;

impl Policy for WeightedRoundRobin {
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice> {
        weighted_fitting(req, cluster, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::balancer::model::WorkerId;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn never_picks_a_worker_that_does_not_fit_and_favours_idle_ones() {
        let mut c = Cluster::new(vec![spec(4, 0), spec(16, 0), spec(16, 0)]);
        c.workers[1].drift.cpu = 1.0;
        c.workers[1].drift.memory = 1.0;
        c.workers[1].drift.gpu = 1.0;
        c.reindex();
        let mut rng = RngStreams::new(9).stream(Stream::Policy);
        let t = test(8, 0);
        let mut hits = [0u32; 3];
        for _ in 0..1200 {
            let w = WeightedRoundRobin
                .select(&request(&t), &c.view(), &mut rng)
                .unwrap();
            hits[w.worker.0 as usize] += 1;
        }
        assert_eq!(hits[0], 0, "worker 0 is too small");
        // Weights 0.2 vs 1.0.
        assert!(hits[2] > 4 * hits[1], "{hits:?}");
        // With one fitting worker, it is the exact choice.
        let only = test(1, 0);
        c.workers[2].used_memory_mib = c.workers[2].spec.memory_mib;
        c.workers[1].used_memory_mib = c.workers[1].spec.memory_mib;
        c.reindex();
        let w = WeightedRoundRobin
            .select(&request(&only), &c.view(), &mut rng)
            .unwrap();
        assert_eq!(w.worker, WorkerId(0));
    }
}
