//! `longest_first`: the longest expected run first, onto the least loaded
//! fitting worker: Graham's LPT rule, which keeps a suite's makespan within
//! 4/3 of the best possible on identical workers. The worker is
//! `least_loaded`'s choice; the order is the pending queue's, which this
//! policy's needs (`longest_first`) set: within a priority, a longer
//! expected run goes first, and equal ones in submission order.

use super::least_loaded::LeastLoaded;
use super::{Choice, ClusterView, Policy, Request};
use crate::balancer::model::{TestId, TestSpec};
use crate::sim::SimRng;

/// LPT placement: `least_loaded`'s choice, the idlest fitting worker (what
/// makes it LPT is the queue's order, not the pick).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LongestFirst;

impl Policy for LongestFirst {
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice> {
        LeastLoaded.select(req, cluster, rng)
    }
}

/// Bits of a queue order that hold the test's number: 2^40 tests, far
/// more than a run may hold.
const ID_BITS: u32 = 40;

/// A test's place in the pending queue within its priority: its number
/// (submission order), or with `longest_first` its expected run, longest
/// first, above its number. The run is kept to 24 bits as the top bits of
/// its `f32` value in microseconds (positive floats order as their bits),
/// which tells runs apart to 1 part in 65,536; closer ones go in
/// submission order.
pub(crate) fn queue_order(id: TestId, spec: &TestSpec, longest_first: bool) -> u64 {
    if !longest_first {
        return id.0;
    }
    let run_key = u64::from((spec.expected_duration.0 as f32).to_bits() >> 7);
    let shorter_first = (1u64 << 24) - 1 - run_key;
    (shorter_first << ID_BITS) | (id.0 & ((1 << ID_BITS) - 1))
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::balancer::model::{WorkerId, WorkerSpec};
    use crate::balancer::policy::SchedulerName;
    use crate::balancer::Balancer;
    use crate::sim::{RngStreams, SimDuration, SimTime, Stream};

    #[test]
    fn places_on_the_idlest_fitting_worker() {
        let mut c = Cluster::new(vec![spec(2, 0), spec(16, 0), spec(16, 0)]);
        c.workers[1].drift.io = 0.5;
        c.reindex();
        let mut rng = RngStreams::new(0).stream(Stream::Policy);
        let t = test(4, 0);
        let pick = LongestFirst.select(&request(&t), &c.view(), &mut rng);
        assert_eq!(pick.map(|c| c.worker), Some(WorkerId(2)));
    }

    #[test]
    fn the_queue_order_is_longest_first_then_submission() {
        let with = |secs: f64, id: u64| {
            let mut t = test(1, 0);
            t.expected_duration = SimDuration::from_secs_f64(secs);
            queue_order(TestId(id), &t, true)
        };
        assert!(with(10.0, 5) < with(9.0, 1));
        assert!(with(10.0, 1) < with(10.0, 2));
        assert!(with(3600.0, 9) < with(0.001, 0));
        assert!(with(0.0, 3) > with(0.000_001, 4));
        let t = test(1, 0);
        assert_eq!(queue_order(TestId(7), &t, false), 7);
    }

    /// Six tests submitted at once onto two one-core workers: LPT starts
    /// the two longest, then gives each freed worker the longest left.
    /// Submission order would put 1 s and 2 s first and end at 11 s; LPT
    /// ends at 9 s (the optimum: 17 s of work over 2 workers).
    #[test]
    fn a_balancer_running_it_takes_the_longest_test_first() {
        let rng = RngStreams::new(1).stream(Stream::Policy);
        let mut b = Balancer::new(SchedulerName::LongestFirst, rng);
        for _ in 0..2 {
            let mut w: WorkerSpec = spec(16, 0);
            w.cpu_cores = 1;
            b.register_worker(w, SimTime::ZERO);
        }
        let runs = [1.0, 2.0, 3.0, 4.0, 7.0, 0.5];
        for (i, secs) in runs.iter().enumerate() {
            let mut t = test(1, 0);
            t.expected_duration = SimDuration::from_secs_f64(*secs);
            b.submit(TestId(i as u64), t, SimTime::ZERO).unwrap();
        }
        let order: Vec<u64> = b.pending_in_order().iter().map(|t| t.0).collect();
        assert_eq!(order, [4, 3, 2, 1, 0, 5]);
        let mut out = Vec::new();
        b.schedule(SimTime::ZERO, &mut out);
        let first: Vec<(u64, u32)> = out.iter().map(|a| (a.test.0, a.worker.0)).collect();
        assert_eq!(first, [(4, 0), (3, 1)]);
    }
}
