//! The observer a live run hands its facts to: each decision, final record
//! and pool change goes straight into the dashboard's model, as the
//! engine reports it.

use std::cell::RefCell;

use super::state::DashboardState;
use crate::balancer::model::{TestId, WorkerId, WorkerSpec};
use crate::balancer::{Assignment, TestRecord};
use crate::engine::Observer;
use crate::error::Result;
use crate::sim::SimTime;
use crate::workload::ArrivalSource;

/// Each test's submission time, by id, read ahead from the run's own
/// arrival source: a decision says when a test was placed, not when it
/// came, and its scheduling latency is known at once this way (the engine
/// may drop a finished test before the screen is drawn).
#[derive(Clone, Debug, Default)]
pub struct SubmitTimes {
    /// Index: the test id (ids are handed out in arrival order).
    times: Vec<Option<SimTime>>,
}

impl SubmitTimes {
    pub fn read(mut arrivals: Box<dyn ArrivalSource + '_>) -> SubmitTimes {
        let mut times = Vec::new();
        while let Some(a) = arrivals.next_arrival() {
            let Ok(i) = usize::try_from(a.id.0) else {
                continue;
            };
            if i >= times.len() {
                times.resize(i + 1, None);
            }
            times[i] = Some(a.time);
        }
        SubmitTimes { times }
    }

    pub(crate) fn get(&self, test: TestId) -> Option<SimTime> {
        let i = usize::try_from(test.0).ok()?;
        self.times.get(i).copied().flatten()
    }
}

/// Feeds a run's facts to the model. The model sits in a `RefCell` the
/// driver reads between steps (the run is single-threaded: the engine
/// calls this only inside a step, never while the driver draws).
pub struct Feeder<'a> {
    pub state: &'a RefCell<DashboardState>,
    pub submitted: &'a SubmitTimes,
}

impl Observer for Feeder<'_> {
    fn on_decision(&mut self, a: &Assignment) -> Result<()> {
        let submitted = self.submitted.get(a.test);
        self.state.borrow_mut().on_assignment(a, submitted);
        Ok(())
    }

    fn on_final(&mut self, r: &TestRecord) -> Result<()> {
        self.state.borrow_mut().on_final(r);
        Ok(())
    }

    fn on_join(&mut self, w: WorkerId, _: &WorkerSpec, now: SimTime) -> Result<()> {
        self.state.borrow_mut().on_worker_joined(w, now);
        Ok(())
    }

    fn on_drain(&mut self, w: WorkerId, now: SimTime) -> Result<()> {
        self.state.borrow_mut().on_worker_draining(w, now);
        Ok(())
    }

    fn on_fail(&mut self, w: WorkerId, requeued: &[TestId], now: SimTime) -> Result<()> {
        self.state
            .borrow_mut()
            .on_worker_failed(w, requeued.len(), now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::StressOptions;
    use crate::sim::RngStreams;
    use crate::workload::SyntheticArrivals;

    #[test]
    fn submission_times_are_read_ahead_by_test_id() {
        let scenario = StressOptions {
            workers: 2,
            tests: 30,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        let streams = RngStreams::new(scenario.seed);
        let times = SubmitTimes::read(Box::new(SyntheticArrivals::new(&scenario, &streams)));
        let mut again = SyntheticArrivals::new(&scenario, &streams);
        let mut n = 0;
        while let Some(a) = again.next_arrival() {
            assert_eq!(times.get(a.id), Some(a.time));
            n += 1;
        }
        assert_eq!(n, 30);
        assert_eq!(times.get(TestId(30)), None);
        assert_eq!(times.get(TestId(u64::MAX)), None);
    }
}
