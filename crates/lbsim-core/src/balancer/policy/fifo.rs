//! `fifo`: no balancing at all, the first fitting worker.

use super::{Choice, ClusterView, Policy, Request};
use crate::sim::SimRng;

/// Always the lowest-id worker that fits: the reference's
/// `--disable-load-balancer` comparison. O(log W) through the index.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fifo;

impl Policy for Fifo {
    fn select(
        &mut self,
        req: &Request,
        cluster: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<Choice> {
        cluster
            .index()
            .first_fit_from(0, &req.shape)
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
    fn fills_the_first_worker_first() {
        let mut c = Cluster::new(vec![spec(4, 0), spec(16, 0), spec(16, 1)]);
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let pick = |c: &Cluster, t, rng: &mut SimRng| {
            Fifo.select(&request(&t), &c.view(), rng).map(|c| c.worker)
        };
        assert_eq!(pick(&c, test(2, 0), &mut rng), Some(WorkerId(0)));
        assert_eq!(pick(&c, test(8, 0), &mut rng), Some(WorkerId(1)));
        assert_eq!(pick(&c, test(1, 1), &mut rng), Some(WorkerId(2)));
        c.workers[0].used_memory_mib = 3 * 1024;
        c.reindex();
        assert_eq!(pick(&c, test(2, 0), &mut rng), Some(WorkerId(1)));
    }
}
