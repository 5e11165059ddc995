//! `adaptive`: the reference's default, which switches policy with load.

use super::{
    AffinityBased, Choice, ClusterView, Finished, PerformanceBased, Policy, PriorityBased, Request,
    WeightedRoundRobin,
};
use crate::balancer::model::WorkerId;
use crate::sim::SimRng;

/// Above this mean effective load the system counts as busy.
pub const HIGH_LOAD: f64 = 0.8;
/// Below this it counts as quiet.
pub const LOW_LOAD: f64 = 0.3;

/// Looks at the mean effective load of the active workers (offline ones do
/// not count, unlike the reference's) and delegates: busy → priority 1–2 to
/// `performance_based`, the rest to `weighted_round_robin`; quiet →
/// `affinity_based` (warm caches are worth it when there is room); otherwise
/// `priority_based`. Its members keep their state across switches, and all
/// of them learn from every assignment. The learning is real: worker history
/// (success and run-time ratio) is recorded on every finish and feeds the
/// performance and priority scores. O(W) for the system load.
#[derive(Default)]
pub struct Adaptive {
    performance: PerformanceBased,
    weighted: WeightedRoundRobin,
    affinity: AffinityBased,
    priority: PriorityBased,
}

/// Which member the adaptive policy delegates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Performance,
    Weighted,
    Affinity,
    Priority,
}

/// The member for a system load and a test priority.
pub fn mode(system_load: f64, priority: u8) -> Mode {
    if system_load > HIGH_LOAD {
        if priority <= 2 {
            Mode::Performance
        } else {
            Mode::Weighted
        }
    } else if system_load < LOW_LOAD {
        Mode::Affinity
    } else {
        Mode::Priority
    }
}

impl Policy for Adaptive {
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice> {
        let member: &mut dyn Policy = match mode(cluster.system_load(), req.spec.priority) {
            Mode::Performance => &mut self.performance,
            Mode::Weighted => &mut self.weighted,
            Mode::Affinity => &mut self.affinity,
            Mode::Priority => &mut self.priority,
        };
        member.select(req, cluster, rng).map(|c| Choice {
            candidates: c.candidates + cluster.workers().len() as u32,
            ..c
        })
    }

    fn on_assigned(&mut self, req: &Request, worker: WorkerId) {
        self.affinity.on_assigned(req, worker);
    }

    fn on_finished(&mut self, done: &Finished) {
        self.affinity.on_finished(done);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::balancer::model::WorkerStatus;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn switches_with_load_and_ignores_offline_workers() {
        assert_eq!(mode(0.9, 1), Mode::Performance);
        assert_eq!(mode(0.9, 3), Mode::Weighted);
        assert_eq!(mode(0.1, 5), Mode::Affinity);
        assert_eq!(mode(0.5, 1), Mode::Priority);
        let mut c = Cluster::new(vec![spec(8, 0), spec(8, 0), spec(8, 0)]);
        // Worker 0 is offline and would push the mean above the low mark.
        c.workers[0].status = WorkerStatus::Offline;
        c.workers[0].drift.cpu = 1.0;
        c.workers[0].drift.memory = 1.0;
        c.workers[0].drift.gpu = 1.0;
        c.workers[1].drift.cpu = 0.5;
        c.reindex();
        assert!((c.view().system_load() - 0.075).abs() < 1e-12);
        // Quiet: affinity, whose first pick is the idlest fitting worker (2),
        // which it then keeps for the family even once worker 2 is busier.
        let mut p = Adaptive::default();
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let t = test(2, 0);
        let first = p.select(&request(&t), &c.view(), &mut rng).unwrap();
        assert_eq!(first.worker, WorkerId(2));
        p.on_assigned(&request(&t), first.worker);
        c.workers[2].drift.cpu = 0.6;
        c.reindex();
        assert_eq!(
            p.select(&request(&t), &c.view(), &mut rng).unwrap().worker,
            WorkerId(2)
        );
    }
}
