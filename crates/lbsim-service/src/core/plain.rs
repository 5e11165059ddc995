//! The plain queue (`lbsim serve --disable-load-balancer`): the same API,
//! store and leases, but no policy and no pass. A worker asking for work
//! is handed the first pending test that fits it (`Balancer::pull`); a
//! worker that finds nothing waits in a queue and is woken, one per
//! waiting test, when tests are submitted or requeued.

use super::Core;
use crate::api::WorkerStatusView;
use crate::sim::SimTime;

impl Core {
    /// Gives `worker` the first pending test that fits it, or lists it as
    /// idle.
    pub(super) fn pull(&mut self, worker: u64, now: u64) {
        let w = self.worker_mut(worker);
        let Some(bw) = w.balancer else { return };
        if w.status != WorkerStatusView::Active {
            return;
        }
        match self.balancer.pull(bw, SimTime(now)) {
            Some(a) => self.assigned(a.test.0, a.worker, now),
            None if !self.worker_mut(worker).idle => {
                self.worker_mut(worker).idle = true;
                self.idle.push_back(worker);
            }
            None => {}
        }
    }

    /// Wakes idle workers, as many as tests wait, oldest idle first.
    pub(super) fn wake_idle(&mut self) {
        let mut wake = self.balancer.pending_len();
        while wake > 0 {
            let Some(id) = self.idle.pop_front() else {
                break;
            };
            let w = self.worker_mut(id);
            w.idle = false;
            if w.status == WorkerStatusView::Active {
                self.out.wake.push(id);
                wake -= 1;
            }
        }
    }
}
