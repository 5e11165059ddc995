//! `best_fit`: the tightest memory fit (a bin-packing baseline).

use super::{Choice, ClusterView, Policy, Request};
use crate::sim::SimRng;

/// Chooses the fitting worker with the least free memory, lowest id on ties,
/// keeping big holes open for big tests. O(log W) through the index's walk
/// by free memory (which the balancer keeps because its row asks for `memory_order`). The
/// score is the free memory left after placing, in GB.
#[derive(Clone, Copy, Debug, Default)]
pub struct BestFit;

impl Policy for BestFit {
    fn select(
        &mut self,
        req: &Request,
        cluster: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<Choice> {
        cluster.index().tightest(&req.shape).map(|f| Choice {
            worker: f.worker,
            score: (-f.key - req.shape.memory_mib as f64) / 1024.0,
            candidates: f.examined,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::balancer::model::WorkerId;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn packs_into_the_smallest_hole_that_fits() {
        let mut c = Cluster::new(vec![spec(32, 0), spec(4, 0), spec(8, 0), spec(8, 0)]);
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let pick = |c: &Cluster, gb, rng: &mut SimRng| {
            BestFit
                .select(&request(&test(gb, 0)), &c.view(), rng)
                .unwrap()
        };
        assert_eq!(pick(&c, 2, &mut rng).worker, WorkerId(1));
        let six = pick(&c, 6, &mut rng);
        assert_eq!((six.worker, six.score), (WorkerId(2), 2.0));
        // Free now: 12, 4, 4, 8 GB.
        c.workers[0].used_memory_mib = 20 * 1024;
        c.workers[2].used_memory_mib = 4 * 1024;
        c.reindex();
        assert_eq!(pick(&c, 3, &mut rng).worker, WorkerId(1));
        assert_eq!(pick(&c, 5, &mut rng).worker, WorkerId(3));
        assert_eq!(pick(&c, 10, &mut rng).worker, WorkerId(0));
    }
}
