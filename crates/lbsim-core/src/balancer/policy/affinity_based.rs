//! `affinity_based`: keep a model family on the worker that ran it last.

use super::{Choice, ClusterView, Policy, Request};
use crate::balancer::leaf::RankKey;
use crate::balancer::model::WorkerId;
use crate::sim::SimRng;

/// If the family's affinity worker fits now, it gets the test (warm caches);
/// otherwise the least loaded fitting worker does and becomes the family's
/// affinity worker. As in the reference, an affinity is written only when
/// it missed, and a busy or departed affinity worker simply misses. O(1) on
/// a hit, O(log W) through the index on a miss.
#[derive(Clone, Debug, Default)]
pub(crate) struct AffinityBased {
    /// Affinity worker per model family (families are small integers).
    by_family: Vec<Option<WorkerId>>,
}

impl AffinityBased {
    /// The family's affinity worker, if it has one.
    pub(crate) fn affinity(&self, family: u32) -> Option<WorkerId> {
        self.by_family.get(family as usize).copied().flatten()
    }
}

impl Policy for AffinityBased {
    fn select(
        &mut self,
        req: &Request,
        cluster: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<Choice> {
        if let Some(w) = self.affinity(req.spec.model_family) {
            if cluster.worker(w).fits_now(&req.shape) {
                return Some(Choice {
                    worker: w,
                    score: 1.0,
                    candidates: 1,
                });
            }
        }
        cluster
            .index()
            .best(RankKey::Idle, &req.shape)
            .map(|f| Choice {
                worker: f.worker,
                score: f.key,
                candidates: f.examined + 1,
            })
    }

    fn on_assigned(&mut self, req: &Request, worker: WorkerId) {
        let family = req.spec.model_family as usize;
        if family >= self.by_family.len() {
            self.by_family.resize(family + 1, None);
        }
        self.by_family[family] = Some(worker);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn sticks_to_the_family_worker_while_it_fits() {
        let mut c = Cluster::new(vec![spec(8, 0), spec(8, 0), spec(8, 0)]);
        c.workers[0].drift.cpu = 0.5;
        c.reindex();
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let mut p = AffinityBased::default();
        let mut t = test(4, 0);
        t.model_family = 3;
        // No affinity yet: the least loaded, lowest id among ties (worker 1).
        let first = p.select(&request(&t), &c.view(), &mut rng).unwrap();
        assert_eq!(first.worker, WorkerId(1));
        p.on_assigned(&request(&t), first.worker);
        assert_eq!(p.affinity(3), Some(WorkerId(1)));
        // Now worker 1 is the most loaded, but the family sticks to it.
        c.workers[1].drift.cpu = 0.9;
        c.reindex();
        let hit = p.select(&request(&t), &c.view(), &mut rng).unwrap();
        assert_eq!((hit.worker, hit.score), (WorkerId(1), 1.0));
        // Another family goes to the idle worker 2.
        let mut other = test(4, 0);
        other.model_family = 0;
        let o = p.select(&request(&other), &c.view(), &mut rng).unwrap();
        assert_eq!(o.worker, WorkerId(2));
        // When worker 1 is full, the family misses and moves.
        c.workers[1].used_memory_mib = c.workers[1].spec.memory_mib;
        c.reindex();
        let miss = p.select(&request(&t), &c.view(), &mut rng).unwrap();
        assert_eq!(miss.worker, WorkerId(2));
    }
}
