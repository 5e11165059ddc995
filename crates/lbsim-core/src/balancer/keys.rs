//! Concurrency keys: tests that share a key never run at the same time.
//!
//! Each key has one holder, the test that may be pending or running; the
//! others wait parked in (priority, submission) order and do not enter the
//! pending queue at all, so they block nobody (the original re-queued them
//! in a loop that never ended). When the holder finishes, the next parked
//! test becomes the holder and joins the pending queue.

use super::model::TestId;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
struct KeyState {
    holder: TestId,
    /// `(priority, submission order, test)`, ascending.
    waiting: BTreeSet<(u8, u64, TestId)>,
}

/// The holders and waiters of every key in use.
#[derive(Clone, Debug, Default)]
pub(super) struct KeyLocks {
    keys: BTreeMap<u32, KeyState>,
    parked: usize,
}

impl KeyLocks {
    /// Claims `key` for `test`. True if it may be scheduled now (it holds the
    /// key), false if it was parked behind the holder.
    pub(super) fn admit(&mut self, key: u32, test: TestId, priority: u8, order: u64) -> bool {
        match self.keys.get_mut(&key) {
            None => {
                self.keys.insert(
                    key,
                    KeyState {
                        holder: test,
                        waiting: BTreeSet::new(),
                    },
                );
                true
            }
            Some(k) if k.holder == test => true,
            Some(k) => {
                if k.waiting.insert((priority, order, test)) {
                    self.parked += 1;
                }
                false
            }
        }
    }

    /// `test` is final: if it held `key`, the next waiter (if any) becomes
    /// the holder and is returned, to be scheduled.
    pub(super) fn release(&mut self, key: u32, test: TestId) -> Option<TestId> {
        let k = self.keys.get_mut(&key)?;
        if k.holder != test {
            return None;
        }
        match k.waiting.pop_first() {
            Some((_, _, next)) => {
                k.holder = next;
                self.parked -= 1;
                Some(next)
            }
            None => {
                self.keys.remove(&key);
                None
            }
        }
    }

    /// A parked test leaves its key's line (it was withdrawn).
    pub(super) fn unpark(&mut self, key: u32, test: TestId, priority: u8, order: u64) {
        if let Some(k) = self.keys.get_mut(&key) {
            if k.waiting.remove(&(priority, order, test)) {
                self.parked -= 1;
            }
        }
    }

    /// Tests waiting for a key.
    pub(super) fn parked(&self) -> usize {
        self.parked
    }

    /// The current holder of `key`.
    #[cfg(test)]
    pub(super) fn holder(&self, key: u32) -> Option<TestId> {
        self.keys.get(&key).map(|k| k.holder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_per_key_and_waiters_in_priority_order() {
        let mut k = KeyLocks::default();
        assert!(k.admit(7, TestId(0), 3, 0));
        assert!(k.admit(7, TestId(0), 3, 0), "the holder is re-admitted");
        assert!(!k.admit(7, TestId(1), 4, 1));
        assert!(!k.admit(7, TestId(2), 1, 2));
        assert!(k.admit(8, TestId(3), 3, 3), "another key is free");
        assert_eq!(k.parked(), 2);
        assert_eq!(k.release(7, TestId(1)), None, "a waiter does not release");
        assert_eq!(k.release(7, TestId(0)), Some(TestId(2)), "urgent first");
        assert_eq!(k.holder(7), Some(TestId(2)));
        assert_eq!(k.release(7, TestId(2)), Some(TestId(1)));
        assert_eq!(k.release(7, TestId(1)), None);
        assert_eq!(k.holder(7), None);
        assert_eq!(k.parked(), 0);
    }
}
