//! The future event list: a binary heap keyed by `(time, seq)`.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One scheduled event. Ordered so that the *earliest* `(time, seq)` is the
/// heap's maximum.
struct Entry<E> {
    time: SimTime,
    /// Insertion counter: equal times pop in the order they were scheduled.
    /// A heap alone does not keep insertion order for equal keys, and relying
    /// on its accidental order would make runs depend on heap internals.
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Entry<E> {
    /// `(time, seq)` as one integer: a single wide comparison instead of a
    /// tuple's two branches, on the hottest path of every run.
    fn key(&self) -> u128 {
        (u128::from(self.time.0) << 64) | u128::from(self.seq)
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// A deterministic priority queue of timed events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// An empty queue with room for `capacity` events (a run knows roughly how many it will hold).
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`; returns its sequence number.
    pub fn push(&mut self, time: SimTime, event: E) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
        seq
    }

    /// Removes and returns the earliest event (FIFO among equal times).
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// Time of the earliest event, if any.
    pub(crate) fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no event waits (the run is over).
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Total events ever scheduled.
    pub fn scheduled_count(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{RngStreams, Stream};
    use std::collections::BTreeMap;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..100 {
            q.push(SimTime(7), i);
        }
        q.push(SimTime(3), 1000);
        assert_eq!(q.pop(), Some((SimTime(3), 1000)));
        for i in 0..100 {
            assert_eq!(q.pop(), Some((SimTime(7), i)));
        }
        assert_eq!(q.pop(), None);
    }

    /// Model-based test: the queue must behave exactly like a BTreeMap keyed
    /// by (time, seq) under any interleaving of pushes and pops.
    #[test]
    fn matches_btreemap_shadow_under_random_operations() {
        for seed in 0..20 {
            let mut rng = RngStreams::new(seed).stream(Stream::Custom(99));
            let mut q = EventQueue::new();
            let mut shadow: BTreeMap<(SimTime, u64), u32> = BTreeMap::new();
            let mut now = 0u64;
            for step in 0..5_000u32 {
                if rng.below(3) < 2 {
                    // Small time range forces many ties.
                    let t = SimTime(now + rng.below(20));
                    let seq = q.push(t, step);
                    shadow.insert((t, seq), step);
                } else {
                    let got = q.pop();
                    let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                    assert_eq!(got, want, "seed {seed} step {step}");
                    if let Some((t, _)) = got {
                        assert!(t.0 >= now, "time went backwards");
                        now = t.0;
                    }
                }
                assert_eq!(q.len(), shadow.len());
                assert_eq!(q.peek_time(), shadow.first_key_value().map(|(k, _)| k.0));
            }
        }
    }
}
