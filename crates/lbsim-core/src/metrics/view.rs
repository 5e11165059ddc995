//! What the metrics read of the pool: the balancer during a simulation, or
//! a pool rebuilt from a live coordinator's records (`loadgen::results`),
//! so both are summarised by the same code.

use crate::balancer::{Balancer, PoolTotals, WorkerState};

/// A read-only view of the worker pool at the current moment.
pub trait PoolView {
    /// Every worker that ever joined, by index.
    fn workers(&self) -> &[WorkerState];
    /// Memory and CUDA offered and in use over the workers not offline.
    fn pool_totals(&self) -> PoolTotals;
    /// Tests waiting.
    fn pending_len(&self) -> usize;
    /// Workers taking work.
    fn active_workers(&self) -> usize;
    /// Runs put back in the queue so far (worker failures, retries).
    fn requeued(&self) -> u64;
}

impl PoolView for Balancer {
    fn workers(&self) -> &[WorkerState] {
        Balancer::workers(self)
    }
    fn pool_totals(&self) -> PoolTotals {
        Balancer::pool_totals(self)
    }
    fn pending_len(&self) -> usize {
        Balancer::pending_len(self)
    }
    fn active_workers(&self) -> usize {
        Balancer::active_workers(self)
    }
    fn requeued(&self) -> u64 {
        self.counters().requeued
    }
}
