//! `random`: a uniformly random fitting worker (a study baseline).

use super::common::uniform_fitting;
use super::{Choice, ClusterView, Policy, Request};
use crate::sim::SimRng;

/// Chooses uniformly among the fitting workers, from the policy stream:
/// a uniform draw among the workers of the test's capacity class (through
/// the index's counts, O(log W); see [`crate::balancer::tally`]) until one
/// fits, so the law is exactly uniform over the
/// fitting ones without listing them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Random;

impl Policy for Random {
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice> {
        uniform_fitting(req, cluster, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::balancer::model::WorkerId;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn draws_only_fitting_workers_and_repeats_with_the_seed() {
        let c = Cluster::new(vec![spec(4, 0), spec(16, 1), spec(16, 0), spec(16, 2)]);
        let t = test(1, 1);
        let picks = |seed| {
            let mut rng = RngStreams::new(seed).stream(Stream::Policy);
            (0..40)
                .map(|_| {
                    Random
                        .select(&request(&t), &c.view(), &mut rng)
                        .unwrap()
                        .worker
                })
                .collect::<Vec<_>>()
        };
        let a = picks(5);
        assert_eq!(a, picks(5));
        assert!(a.iter().all(|w| *w == WorkerId(1) || *w == WorkerId(3)));
        assert!(a.contains(&WorkerId(1)) && a.contains(&WorkerId(3)));
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        assert!(Random
            .select(&request(&test(64, 0)), &c.view(), &mut rng)
            .is_none());
    }
}
