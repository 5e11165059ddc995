//! `least_loaded`: the fitting worker with the lowest effective load.

use super::{Choice, ClusterView, Policy, Request};
use crate::balancer::leaf::RankKey;
use crate::sim::SimRng;

/// Maximises idleness (`1 − effective load`, so thermal phases count), lowest
/// id on ties. O(log W) through the index's `Idle` key.
#[derive(Clone, Copy, Debug, Default)]
pub struct LeastLoaded;

impl Policy for LeastLoaded {
    fn select(
        &mut self,
        req: &Request,
        cluster: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<Choice> {
        cluster
            .index()
            .best(RankKey::Idle, &req.shape)
            .map(Choice::from)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::balancer::model::{Thermal, WorkerId};
    use crate::sim::{RngStreams, SimTime, Stream};

    #[test]
    fn takes_the_idlest_fitting_worker_and_sees_thermal_state() {
        let mut c = Cluster::new(vec![spec(2, 0), spec(16, 0), spec(16, 0)]);
        c.workers[1].drift.io = 0.5; // load 0.05
        c.reindex();
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let t = test(4, 0);
        let pick = |c: &Cluster, rng: &mut SimRng| {
            LeastLoaded.select(&request(&t), &c.view(), rng).unwrap()
        };
        let first = pick(&c, &mut rng);
        assert_eq!(first.worker, WorkerId(2));
        assert!((first.score - 1.0).abs() < 1e-12);
        // Warming worker 2 adds 0.2 to its effective load: worker 1 wins.
        c.workers[2].thermal = Thermal::Warming { until: SimTime(9) };
        c.reindex();
        assert_eq!(pick(&c, &mut rng).worker, WorkerId(1));
    }
}
