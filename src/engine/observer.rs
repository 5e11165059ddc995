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
