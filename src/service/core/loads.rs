//! The `load` fact: what a heartbeat changed in the load the balancer sees,
//! so a replay of the recording (`lbsim fidelity`) ranks workers on the
//! same loads the live balancer did.

use super::Core;
use crate::balancer::model::{LoadDrift, WorkerId};
use crate::workload::trace::recording::Fact;

impl Core {
    /// Records a worker's new drift (called only when it changed, so a
    /// fleet whose measured load is what its runs book writes none).
    pub(super) fn record_load(&mut self, bw: WorkerId, drift: &LoadDrift, now: u64) {
        let Some(&worker) = self.by_balancer.get(bw.0 as usize) else {
            return;
        };
        let round = |x: f64| (x * 1e6).round() / 1e6;
        let fact = Fact::Load {
            worker,
            cpu: round(drift.cpu),
            memory: round(drift.memory),
            gpu: round(drift.gpu),
        };
        self.fact(now, fact);
    }
}
