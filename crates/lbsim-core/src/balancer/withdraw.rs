//! Withdrawing a test that waits (cancelled by the coordinator's
//! `POST /v1/tests/{id}/cancel`): out of the pending queue or out of its
//! concurrency key's line, with nothing run. A running test ends through
//! `Balancer::finish` instead. The simulator never withdraws.

use super::model::TestId;
use super::{Balancer, Place};

impl Balancer {
    /// Removes a pending or parked test; true if it was one (a running or
    /// unknown test is left alone).
    pub fn withdraw(&mut self, test: TestId) -> bool {
        let Some(t) = self.live.get(test.0) else {
            return false;
        };
        let (place, order, priority, key) =
            (t.place, t.order, t.spec.priority, t.spec.concurrency_key);
        match place {
            Place::Running { .. } => return false,
            Place::Pending { class, .. } => {
                self.pending.remove(class, order, test);
            }
            Place::Parked => {
                if let Some(key) = key {
                    self.keys.unpark(key, test, priority, order);
                }
            }
        }
        self.live.remove(test.0);
        if let Some(next) = key.and_then(|k| self.keys.release(k, test)) {
            self.push_pending(next);
        }
        true
    }
}
