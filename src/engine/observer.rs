//! Streaming hooks: where per-test rows and decisions go as they happen, so
//! a million-test run never holds them all in memory.

use crate::balancer::{Assignment, TestRecord};
use crate::error::Result;

/// Receives facts as the run produces them, in simulation order.
pub trait Observer {
    /// A test was assigned to a worker.
    fn on_decision(&mut self, _decision: &Assignment) -> Result<()> {
        Ok(())
    }

    /// A test reached its final state (or was still live at the horizon).
    fn on_final(&mut self, _record: &TestRecord) -> Result<()> {
        Ok(())
    }
}

/// Keeps nothing.
pub struct NoObserver;

impl Observer for NoObserver {}

/// Sends every fact to each observer in turn.
#[derive(Default)]
pub struct Fanout<'a> {
    observers: Vec<&'a mut dyn Observer>,
}

impl<'a> Fanout<'a> {
    pub fn push(&mut self, observer: &'a mut dyn Observer) {
        self.observers.push(observer);
    }
}

impl Observer for Fanout<'_> {
    fn on_decision(&mut self, decision: &Assignment) -> Result<()> {
        self.observers
            .iter_mut()
            .try_for_each(|o| o.on_decision(decision))
    }

    fn on_final(&mut self, record: &TestRecord) -> Result<()> {
        self.observers
            .iter_mut()
            .try_for_each(|o| o.on_final(record))
    }
}
