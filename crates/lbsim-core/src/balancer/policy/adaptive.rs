//! `adaptive`: the reference's default, which switches policy with load and,
//! here, with what it observes: scheduling latency and run success.

use super::{
    AffinityBased, Choice, ClusterView, Finished, PerformanceBased, Policy, PriorityBased, Request,
    WeightedRoundRobin,
};
use crate::balancer::model::WorkerId;
use crate::sim::SimRng;

/// Above this mean effective load the system counts as busy.
pub(super) const HIGH_LOAD: f64 = 0.8;
/// Below this it counts as quiet.
pub(super) const LOW_LOAD: f64 = 0.3;
/// Weight of the newest finished test in the moving averages (about the
/// last twenty finishes count).
const SMOOTHING: f64 = 0.05;
/// Recent run success below this means runs are failing: prefer workers
/// with a good record whatever the load.
pub(super) const LOW_SUCCESS: f64 = 0.9;

/// Delegates by *pressure*: the larger of the mean effective load of the
/// active workers (offline ones do not count, unlike the reference's) and
/// the observed scheduling delay, `latency / (latency + expected run time)`
/// over recent finishes (0 when tests start at once, ½ when they wait as
/// long as they run). Busy (> 0.8) → priority 1–2 to `performance_based`,
/// the rest to `weighted_round_robin`; quiet (< 0.3) → `affinity_based`
/// (warm caches are worth it when there is room); otherwise
/// `priority_based`. When recent run success falls below 0.9, every test
/// goes to `performance_based`, whose history steers away from workers
/// that fail or run slow. The reference switched on load alone; latency and
/// success are what its users watch, so they drive it too. Members keep
/// their state across switches. The system load is the balancer's running
/// sum (O(1)), so a decision costs what its member's does.
#[derive(Default)]
pub(crate) struct Adaptive {
    performance: PerformanceBased,
    weighted: WeightedRoundRobin,
    affinity: AffinityBased,
    priority: PriorityBased,
    recent: Recent,
}

/// Exponential moving averages over finished tests.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Recent {
    latency_s: f64,
    expected_s: f64,
    success: f64,
    finishes: u64,
}

impl Recent {
    fn observe(&mut self, done: &Finished) {
        let a = if self.finishes == 0 { 1.0 } else { SMOOTHING };
        let expected = done.spec.expected_duration.as_secs_f64();
        self.latency_s += a * (done.latency_s - self.latency_s);
        self.expected_s += a * (expected - self.expected_s);
        self.success += a * (f64::from(u8::from(done.success)) - self.success);
        self.finishes += 1;
    }

    /// Observed delay pressure, 0–1.
    fn delay(&self) -> f64 {
        let total = self.latency_s + self.expected_s;
        if self.finishes == 0 || total <= 0.0 {
            0.0
        } else {
            (self.latency_s / total).clamp(0.0, 1.0)
        }
    }

    fn is_failing(&self) -> bool {
        self.finishes > 0 && self.success < LOW_SUCCESS
    }
}

/// Which member the adaptive policy delegates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Performance,
    Weighted,
    Affinity,
    Priority,
}

/// The member for a pressure (load or observed delay), whether runs are
/// failing, and a test's priority.
pub(super) fn mode(pressure: f64, failing: bool, priority: u8) -> Mode {
    if failing {
        Mode::Performance
    } else if pressure > HIGH_LOAD {
        if priority <= 2 {
            Mode::Performance
        } else {
            Mode::Weighted
        }
    } else if pressure < LOW_LOAD {
        Mode::Affinity
    } else {
        Mode::Priority
    }
}

impl Policy for Adaptive {
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice> {
        let pressure = cluster.system_load().max(self.recent.delay());
        let member: &mut dyn Policy =
            match mode(pressure, self.recent.is_failing(), req.spec.priority) {
                Mode::Performance => &mut self.performance,
                Mode::Weighted => &mut self.weighted,
                Mode::Affinity => &mut self.affinity,
                Mode::Priority => &mut self.priority,
            };
        member.select(req, cluster, rng)
    }

    fn on_assigned(&mut self, req: &Request, worker: WorkerId) {
        self.affinity.on_assigned(req, worker);
    }

    fn on_finished(&mut self, done: &Finished) {
        self.recent.observe(done);
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
        assert_eq!(mode(0.9, false, 1), Mode::Performance);
        assert_eq!(mode(0.9, false, 3), Mode::Weighted);
        assert_eq!(mode(0.1, false, 5), Mode::Affinity);
        assert_eq!(mode(0.5, false, 1), Mode::Priority);
        assert_eq!(mode(0.1, true, 5), Mode::Performance);
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

    #[test]
    fn observed_delay_and_failures_move_the_mode() {
        let t = test(2, 0); // expected run time 10 s
        let finish = |latency_s: f64, success: bool| Finished {
            test: crate::balancer::model::TestId(0),
            spec: &t,
            worker: WorkerId(0),
            success,
            latency_s,
        };
        let mut r = Recent::default();
        assert_eq!((r.delay(), r.is_failing()), (0.0, false));
        // Tests that wait 40 s to run 10 s: pressure 0.8 and rising.
        for _ in 0..200 {
            r.observe(&finish(45.0, true));
        }
        assert!((r.delay() - 45.0 / 55.0).abs() < 1e-9, "{}", r.delay());
        assert_eq!(mode(r.delay(), r.is_failing(), 4), Mode::Weighted);
        // Then one run in five fails: the history-driven member takes over.
        for i in 0..200 {
            r.observe(&finish(0.0, i % 5 != 0));
        }
        assert!(r.is_failing() && r.delay() < 0.01);
        assert_eq!(mode(r.delay(), r.is_failing(), 4), Mode::Performance);
        for _ in 0..200 {
            r.observe(&finish(0.0, true));
        }
        assert_eq!(mode(r.delay(), r.is_failing(), 4), Mode::Affinity);
    }
}
