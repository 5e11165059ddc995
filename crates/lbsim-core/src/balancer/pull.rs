//! The plain queue (`lbsim serve --disable-load-balancer`): no policy and
//! no pass. A worker that asks for work gets the oldest test of the most
//! urgent priority that fits its free capacity, as the reference's
//! coordinator did without its balancer, so the two can be compared over
//! the same API and store.

use super::model::WorkerId;
use super::policy::Choice;
use super::{Assignment, Balancer};
use crate::sim::SimTime;

impl Balancer {
    /// Hands `worker` the first pending test, in priority then submission
    /// order, that fits what it has free; `None` when nothing fits or it
    /// takes no work (draining, failed). Each class holds tests of one
    /// priority and shape in submission order, so only class heads are
    /// looked at.
    pub fn pull(&mut self, worker: WorkerId, now: SimTime) -> Option<Assignment> {
        let leaf = self.index.leaf(worker)?;
        let (class, test) = self
            .pending
            .classes()
            .iter()
            .enumerate()
            .filter(|(_, c)| leaf.fits(&c.shape))
            .filter_map(|(id, c)| {
                c.fifo
                    .front()
                    .map(|&(order, test)| ((c.priority, order), id, test))
            })
            .min_by_key(|&(key, ..)| key)
            .map(|(_, id, test)| (id, test))?;
        let choice = Choice {
            worker,
            score: 0.0,
            candidates: 1,
        };
        Some(self.assign(class, test, choice, now))
    }
}

#[cfg(test)]
mod tests {
    use crate::balancer::model::TestId;
    use crate::balancer::policy::testkit::{spec, test};
    use crate::balancer::policy::SchedulerName;
    use crate::balancer::Balancer;
    use crate::sim::{RngStreams, SimTime, Stream};

    fn balancer() -> Balancer {
        let rng = RngStreams::new(1).stream(Stream::Policy);
        let mut b = Balancer::new(SchedulerName::DEFAULT, rng);
        b.declare_possible_worker(&spec(16, 0));
        b
    }

    fn urgent(mem_gb: u64, priority: u8) -> crate::balancer::model::TestSpec {
        let mut t = test(mem_gb, 0);
        t.priority = priority;
        t
    }

    #[test]
    fn pull_takes_the_most_urgent_oldest_test_that_fits() {
        let mut b = balancer();
        let small = b.register_worker(spec(2, 0), SimTime(0));
        let t0 = SimTime(0);
        b.submit(TestId(1), urgent(1, 3), t0).unwrap();
        b.submit(TestId(2), urgent(8, 1), t0).unwrap();
        b.submit(TestId(3), urgent(1, 1), t0).unwrap();
        b.submit(TestId(4), urgent(1, 1), t0).unwrap();
        // Test 2 is more urgent but too big; two 1 GB tests fill 2 GB.
        let got: Vec<_> = std::iter::from_fn(|| b.pull(small, t0))
            .map(|a| a.test)
            .collect();
        assert_eq!(got, [TestId(3), TestId(4)]);
        assert_eq!(b.pending_len(), 2);
        // A finished test frees room for the next in order.
        b.finish(TestId(3), SimTime(5), true);
        assert_eq!(b.pull(small, SimTime(5)).map(|a| a.test), Some(TestId(1)));
    }

    #[test]
    fn a_draining_worker_pulls_nothing() {
        let mut b = balancer();
        let w = b.register_worker(spec(16, 0), SimTime(0));
        b.submit(TestId(1), urgent(1, 3), SimTime(0)).unwrap();
        b.drain_worker(w, SimTime(1));
        assert!(b.pull(w, SimTime(1)).is_none());
        assert_eq!(b.pending_len(), 1);
    }
}
