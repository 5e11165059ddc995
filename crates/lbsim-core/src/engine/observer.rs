//! Streaming hooks: where per-test rows and decisions go as they happen, so
//! a million-test run never holds them all in memory, and what a live view
//! watches (the clock, workers coming and going).

use crate::balancer::model::{TestId, WorkerId, WorkerSpec};
use crate::balancer::{Assignment, TestRecord};
use crate::error::Result;
use crate::sim::SimTime;

/// Receives facts as the run produces them, in simulation order. Every
/// method does nothing by default, so an observer implements only what it
/// watches; an error from any of them stops the run.
pub trait Observer {
    /// The clock moved to `now`, an event's time, before the event is
    /// handled. Returns when to be told again: the first event at or after
    /// that time calls it (`now` for every event, `SimTime::MAX` for none;
    /// a live view pacing a run asks for its next frame). The engine checks
    /// one time per event, so an observer that watches nothing costs no
    /// call; the first event always calls.
    fn on_time(&mut self, _now: SimTime) -> Result<SimTime> {
        Ok(SimTime::MAX)
    }

    /// A test was assigned to a worker.
    fn on_decision(&mut self, _decision: &Assignment) -> Result<()> {
        Ok(())
    }

    /// A test reached its final state (or was still live at the horizon).
    fn on_final(&mut self, _record: &TestRecord) -> Result<()> {
        Ok(())
    }

    /// A worker joined the pool during the run (the initial workers are
    /// not reported).
    fn on_join(&mut self, _worker: WorkerId, _spec: &WorkerSpec, _now: SimTime) -> Result<()> {
        Ok(())
    }

    /// A worker started to leave gracefully: it takes nothing new.
    fn on_drain(&mut self, _worker: WorkerId, _now: SimTime) -> Result<()> {
        Ok(())
    }

    /// A worker crashed; `requeued` are the tests it ran, pending again.
    fn on_fail(&mut self, _worker: WorkerId, _requeued: &[TestId], _now: SimTime) -> Result<()> {
        Ok(())
    }
}

/// Keeps nothing.
pub struct NoObserver;

impl Observer for NoObserver {}

/// Sends every fact to each observer in turn.
#[derive(Default)]
pub(crate) struct Fanout<'a> {
    observers: Vec<&'a mut dyn Observer>,
}

impl<'a> Fanout<'a> {
    /// Adds an observer; each fact reaches them in the order they were added.
    pub(crate) fn push(&mut self, observer: &'a mut dyn Observer) {
        self.observers.push(observer);
    }
}

impl Observer for Fanout<'_> {
    /// Tells every observer, and asks to be told again at the earliest
    /// time any of them asked for.
    fn on_time(&mut self, now: SimTime) -> Result<SimTime> {
        let mut next = SimTime::MAX;
        for o in &mut self.observers {
            next = next.min(o.on_time(now)?);
        }
        Ok(next)
    }

    fn on_decision(&mut self, decision: &Assignment) -> Result<()> {
        for o in &mut self.observers {
            o.on_decision(decision)?;
        }
        Ok(())
    }

    fn on_final(&mut self, record: &TestRecord) -> Result<()> {
        for o in &mut self.observers {
            o.on_final(record)?;
        }
        Ok(())
    }

    fn on_join(&mut self, worker: WorkerId, spec: &WorkerSpec, now: SimTime) -> Result<()> {
        for o in &mut self.observers {
            o.on_join(worker, spec, now)?;
        }
        Ok(())
    }

    fn on_drain(&mut self, worker: WorkerId, now: SimTime) -> Result<()> {
        for o in &mut self.observers {
            o.on_drain(worker, now)?;
        }
        Ok(())
    }

    fn on_fail(&mut self, worker: WorkerId, requeued: &[TestId], now: SimTime) -> Result<()> {
        for o in &mut self.observers {
            o.on_fail(worker, requeued, now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the calls it gets.
    #[derive(Default)]
    struct Count(u64);

    impl Observer for Count {
        fn on_time(&mut self, now: SimTime) -> Result<SimTime> {
            self.0 += 1;
            Ok(now)
        }
        fn on_join(&mut self, _: WorkerId, _: &WorkerSpec, _: SimTime) -> Result<()> {
            self.0 += 10;
            Ok(())
        }
        fn on_drain(&mut self, _: WorkerId, _: SimTime) -> Result<()> {
            self.0 += 100;
            Ok(())
        }
        fn on_fail(&mut self, _: WorkerId, requeued: &[TestId], _: SimTime) -> Result<()> {
            self.0 += 1000 * requeued.len() as u64;
            Ok(())
        }
    }

    #[test]
    fn fanout_forwards_the_clock_and_pool_changes_to_every_observer() {
        let (mut a, mut b) = (Count::default(), Count::default());
        let mut fan = Fanout::default();
        fan.push(&mut a);
        fan.push(&mut b);
        let spec = crate::balancer::policy::testkit::spec(8, 0);
        let now = SimTime(5);
        assert_eq!(fan.on_time(now).unwrap(), now);
        fan.on_join(WorkerId(3), &spec, now).unwrap();
        fan.on_drain(WorkerId(3), now).unwrap();
        fan.on_fail(WorkerId(4), &[TestId(1), TestId(2)], now)
            .unwrap();
        assert_eq!((a.0, b.0), (2111, 2111));
    }
}
