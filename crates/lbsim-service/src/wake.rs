//! The long-polling lease calls' wake-ups. The core only names the workers
//! to wake (`core::Changes::wake`); this keeps one `Notify` per worker and
//! is the one place they are notified, so the core holds no runtime type.

use indexmap::IndexMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// One `Notify` per worker that ever waited or was woken.
#[derive(Default)]
pub(crate) struct Wakers(Mutex<IndexMap<u64, Arc<Notify>>>);

impl Wakers {
    /// What wakes worker `id`'s lease call (a wake-up sent before the call
    /// waits is kept, so none is lost between a look and the wait).
    pub(crate) fn of(&self, id: u64) -> Arc<Notify> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id).or_default().clone()
    }

    /// Wakes the lease calls of `workers`.
    pub(crate) fn wake(&self, workers: &[u64]) {
        for &id in workers {
            self.of(id).notify_one();
        }
    }
}
