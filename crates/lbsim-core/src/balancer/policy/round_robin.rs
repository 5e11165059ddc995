//! `round_robin`: take turns through the pool.

use super::{Choice, ClusterView, Policy, Request};
use crate::balancer::model::WorkerId;
use crate::sim::SimRng;

/// Chooses the next fitting worker after the last one chosen, in worker-id
/// order, wrapping around. Unlike the original (whose modulus used each
/// test's own compatible-list length), the cursor is a position in the whole
/// pool, so the rotation is fair whatever each test needs. O(log W) through
/// the capacity index.
#[derive(Clone, Copy, Debug, Default)]
pub struct RoundRobin {
    last: Option<WorkerId>,
}

impl Policy for RoundRobin {
    fn select(
        &mut self,
        req: &Request,
        cluster: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<Choice> {
        let from = self.last.map_or(0, |w| w.0 as usize + 1);
        cluster
            .index()
            .first_fit_from(from, &req.shape)
            .map(Choice::from)
    }

    fn on_assigned(&mut self, _req: &Request, worker: WorkerId) {
        self.last = Some(worker);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn rotates_over_fitting_workers() {
        let c = Cluster::new(vec![spec(16, 0), spec(4, 0), spec(16, 0), spec(16, 1)]);
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let mut rr = RoundRobin::default();
        let big = test(8, 0);
        let mut picks = Vec::new();
        for _ in 0..4 {
            let w = rr
                .select(&request(&big), &c.view(), &mut rng)
                .unwrap()
                .worker;
            rr.on_assigned(&request(&big), w);
            picks.push(w.0);
        }
        // Worker 1 is too small for 8 GB and is skipped.
        assert_eq!(picks, vec![0, 2, 3, 0]);
        let small = test(1, 0);
        let w = rr
            .select(&request(&small), &c.view(), &mut rng)
            .unwrap()
            .worker;
        assert_eq!(w, WorkerId(1));
    }
}
