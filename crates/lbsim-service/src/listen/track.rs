//! The open connections and each one's phase: the cap, who has been idle
//! longest (evicted first at the cap), and which read deadline applies
//! now (header, idle, or none while a request is served).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The open connections: how many, and the evictable ones (not inside a
/// request) by when they became so, oldest first.
pub(super) struct Registry {
    slots: Mutex<Slots>,
    emptied: Notify,
    max: usize,
}

#[derive(Default)]
struct Slots {
    open: usize,
    next_key: u64,
    idle: BTreeMap<u64, Arc<Track>>,
}

impl Registry {
    pub(super) fn new(max: usize) -> Registry {
        Registry {
            slots: Mutex::new(Slots::default()),
            emptied: Notify::new(),
            max: max.max(1),
        }
    }

    pub(super) fn max(&self) -> usize {
        self.max
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a new connection: at the cap, the connection idle
    /// longest is told to close; `None` when every one is in a request.
    pub(super) fn enter(self: &Arc<Self>, header: Duration) -> Option<Arc<Track>> {
        let mut slots = self.slots();
        if slots.open >= self.max {
            let (_, victim) = slots.idle.pop_first()?;
            victim.key.store(0, Ordering::Relaxed);
            victim.evicted.store(true, Ordering::Relaxed);
            victim.evict.notify_one();
        }
        slots.open += 1;
        let track = Arc::new(Track {
            registry: self.clone(),
            evict: Notify::new(),
            evicted: AtomicBool::new(false),
            key: AtomicU64::new(0),
            phase: Mutex::new(Phase::Waiting {
                deadline: Instant::now() + header,
                head_begun: true,
            }),
            parked: Mutex::new(None),
        });
        insert_idle(&mut slots, &track);
        Some(track)
    }

    /// Resolves once every connection has closed.
    pub(super) async fn wait_empty(&self) {
        loop {
            let emptied = self.emptied.notified();
            tokio::pin!(emptied);
            emptied.as_mut().enable();
            if self.slots().open == 0 {
                return;
            }
            emptied.await;
        }
    }
}

fn insert_idle(slots: &mut Slots, track: &Arc<Track>) {
    slots.next_key += 1;
    let key = slots.next_key;
    track.key.store(key, Ordering::Relaxed);
    slots.idle.insert(key, track.clone());
}

/// Where a connection is between requests.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for a request head, due by `deadline`: the idle timeout
    /// until its first byte, then the header timeout.
    Waiting { deadline: Instant, head_begun: bool },
    /// A request is being served; its body has its own deadline.
    Busy,
}

/// One connection's state, shared by its socket, its service and the
/// registry.
pub(super) struct Track {
    registry: Arc<Registry>,
    evict: Notify,
    evicted: AtomicBool,
    /// Its key in `Slots::idle` (0: not there); changed under that lock.
    key: AtomicU64,
    phase: Mutex<Phase>,
    /// The socket's reader, parked without a deadline while a request was
    /// served: woken when the response is out so the idle timer starts
    /// (hyper does not read again until the socket wakes it).
    parked: Mutex<Option<Waker>>,
}

impl Track {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves when the registry chose this connection to close.
    pub(super) async fn evicted(&self) {
        self.evict.notified().await
    }

    /// The first bytes of a head start the header timeout.
    pub(super) fn bytes_arrived(&self, header: Duration) {
        let mut phase = self.phase();
        if let Phase::Waiting {
            head_begun: false, ..
        } = *phase
        {
            *phase = Phase::Waiting {
                deadline: Instant::now() + header,
                head_begun: true,
            };
        }
    }

    /// The read deadline now; with none, `waker` is kept to be woken when
    /// one begins.
    pub(super) fn read_deadline(&self, waker: &Waker) -> Option<Instant> {
        let phase = self.phase();
        match *phase {
            Phase::Waiting { deadline, .. } => Some(deadline),
            Phase::Busy => {
                let mut parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
                *parked = Some(waker.clone());
                None
            }
        }
    }

    /// A request is in: no longer evictable, no read deadline.
    pub(super) fn begin_request(&self) {
        *self.phase() = Phase::Busy;
        let mut slots = self.registry.slots();
        let key = self.key.swap(0, Ordering::Relaxed);
        if key != 0 {
            slots.idle.remove(&key);
        }
    }

    /// Its response is out: idle (and evictable) until the next head.
    pub(super) fn end_request(self: &Arc<Self>, idle: Duration) {
        *self.phase() = Phase::Waiting {
            deadline: Instant::now() + idle,
            head_begun: false,
        };
        let parked = self.parked.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(waker) = parked {
            waker.wake();
        }
        let mut slots = self.registry.slots();
        if !self.evicted.load(Ordering::Relaxed) && self.key.load(Ordering::Relaxed) == 0 {
            insert_idle(&mut slots, self);
        }
    }

    fn leave(&self) {
        let mut slots = self.registry.slots();
        let key = self.key.swap(0, Ordering::Relaxed);
        if key != 0 {
            slots.idle.remove(&key);
        }
        slots.open -= 1;
        if slots.open == 0 {
            self.registry.emptied.notify_waiters();
        }
    }
}

/// Frees the connection's place however its task ends.
pub(super) struct Slot(pub(super) Arc<Track>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: Duration = Duration::from_secs(1);

    #[test]
    fn at_the_cap_the_idle_longest_goes_and_busy_ones_stay() {
        let registry = Arc::new(Registry::new(2));
        let a = registry.enter(HEAD).expect("room");
        let b = registry.enter(HEAD).expect("room");
        a.begin_request();
        let c = registry.enter(HEAD).expect("b is idle: it makes room");
        assert!(b.evicted.load(Ordering::Relaxed));
        assert!(!a.evicted.load(Ordering::Relaxed));
        drop(Slot(b));
        c.begin_request();
        assert!(registry.enter(HEAD).is_none(), "every place busy");
        a.end_request(HEAD);
        c.end_request(HEAD);
        let _d = registry.enter(HEAD).expect("a is idle longest");
        assert!(a.evicted.load(Ordering::Relaxed));
        assert!(!c.evicted.load(Ordering::Relaxed));
        assert!(c.read_deadline(Waker::noop()).is_some(), "idle: a deadline");
    }
}
