//! A map from dense, mostly increasing integer ids to values, for the live
//! tests of a run.
//!
//! Ids are handed out in submission order and tests mostly end in about that
//! order, so the live ids form a window. A window of slot numbers (4 bytes an
//! id) points into a compact vector of values: a look-up is two array reads
//! instead of a hash and a probe, and memory is the live values plus 4 bytes
//! for each id between the oldest live one and the newest. Iteration is in
//! id order, so it is deterministic by construction.

const ABSENT: u32 = u32::MAX;

/// Dead window entries tolerated before the window is shifted down (an
/// amortised O(1) memmove instead of a ring buffer's index arithmetic on
/// every look-up).
const COMPACT_AFTER: usize = 4096;

#[derive(Clone, Debug)]
/// A map from increasing ids to values that keeps only a window of live ones: look-ups are an index, and ids that died long ago cost nothing.
pub struct IdMap<V> {
    /// Id of `window[head]`.
    base: u64,
    /// Slot numbers by id; the entries before `head` are dead (all `ABSENT`).
    window: Vec<u32>,
    head: usize,
    values: Vec<V>,
    ids: Vec<u64>,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap {
            base: 0,
            window: Vec::new(),
            head: 0,
            values: Vec::new(),
            ids: Vec::new(),
        }
    }
}

impl<V> IdMap<V> {
    /// Live entries.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no entry is live.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Ids from the oldest live one to the newest (the memory cost).
    fn window_len(&self) -> usize {
        self.window.len() - self.head
    }

    fn position(&self, id: u64) -> Option<usize> {
        let offset = usize::try_from(id.checked_sub(self.base)?).ok()?;
        self.head.checked_add(offset)
    }

    fn slot(&self, id: u64) -> Option<usize> {
        match self.window.get(self.position(id)?) {
            Some(&s) if s != ABSENT => Some(s as usize),
            _ => None,
        }
    }

    #[inline]
    /// The value of `id`, if it is live.
    pub fn get(&self, id: u64) -> Option<&V> {
        self.slot(id).map(|s| &self.values[s])
    }

    #[inline]
    /// The value of `id`, if it is live, to change.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        self.slot(id).map(|s| &mut self.values[s])
    }

    /// Whether `id` is live.
    pub fn contains(&self, id: u64) -> bool {
        self.slot(id).is_some()
    }

    /// Inserts or replaces the value of `id`.
    pub fn insert(&mut self, id: u64, value: V) {
        if let Some(s) = self.slot(id) {
            self.values[s] = value;
            return;
        }
        if self.window_len() == 0 {
            self.window.clear();
            self.head = 0;
            self.base = id;
        }
        if id < self.base {
            // An id older than the window: reuse dead entries, or grow the
            // window at the front.
            let missing = usize::try_from(self.base - id).expect("window fits in memory");
            if missing > self.head {
                let grow = missing - self.head;
                self.window.splice(0..0, std::iter::repeat_n(ABSENT, grow));
                self.head += grow;
            }
            self.head -= missing;
            self.base = id;
        }
        let at = self.position(id).expect("id is at or after the window");
        if at >= self.window.len() {
            self.window.resize(at + 1, ABSENT);
        }
        self.window[at] = self.values.len() as u32;
        self.values.push(value);
        self.ids.push(id);
    }

    /// Removes `id`, returning its value.
    pub fn remove(&mut self, id: u64) -> Option<V> {
        let s = self.slot(id)?;
        let at = self.head + (id - self.base) as usize;
        self.window[at] = ABSENT;
        let value = self.values.swap_remove(s);
        self.ids.swap_remove(s);
        if s < self.values.len() {
            let moved = self.ids[s];
            self.window[self.head + (moved - self.base) as usize] = s as u32;
        }
        // Drop the dead prefix of the window.
        while self.head < self.window.len() && self.window[self.head] == ABSENT {
            self.head += 1;
            self.base += 1;
        }
        if self.head >= COMPACT_AFTER && self.head * 2 >= self.window.len() {
            self.window.drain(..self.head);
            self.head = 0;
        }
        Some(value)
    }

    /// Every entry, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.window[self.head..]
            .iter()
            .enumerate()
            .filter(|(_, &s)| s != ABSENT)
            .map(move |(i, &s)| (self.base + i as u64, &self.values[s as usize]))
    }

    /// Empties the map, returning every entry in id order.
    pub(crate) fn drain_in_order(&mut self) -> Vec<(u64, V)> {
        let order: Vec<(u64, u32)> = self.window[self.head..]
            .iter()
            .enumerate()
            .filter(|(_, &s)| s != ABSENT)
            .map(|(i, &s)| (self.base + i as u64, s))
            .collect();
        let mut values: Vec<Option<V>> = self.values.drain(..).map(Some).collect();
        self.ids.clear();
        self.window.clear();
        self.head = 0;
        order
            .into_iter()
            .filter_map(|(id, s)| values[s as usize].take().map(|v| (id, v)))
            .collect()
    }
}

impl<V> std::ops::Index<u64> for IdMap<V> {
    type Output = V;

    /// The value of a present id; an absent one is a bug in the caller.
    fn index(&self, id: u64) -> &V {
        self.get(id)
            .unwrap_or_else(|| panic!("id {id} is not in the map"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, Stream};
    use std::collections::BTreeMap;

    /// Model-based: the map must behave like a BTreeMap under random use,
    /// including ids that arrive out of order.
    #[test]
    fn behaves_like_a_btreemap() {
        let mut rng = RngStreams::new(5).stream(Stream::Custom(7));
        let mut m = IdMap::default();
        let mut shadow = BTreeMap::new();
        let mut next = 1_000u64;
        for step in 0..20_000u64 {
            match rng.below(10) {
                0..=4 => {
                    let id = if rng.chance(0.1) {
                        next.saturating_sub(rng.below(50) + 1)
                    } else {
                        next
                    };
                    next += 1;
                    m.insert(id, step);
                    shadow.insert(id, step);
                }
                5..=8 => {
                    let id = next.saturating_sub(rng.below(400) + 1);
                    assert_eq!(m.remove(id), shadow.remove(&id), "step {step}");
                }
                _ => {
                    let id = next.saturating_sub(rng.below(400) + 1);
                    assert_eq!(m.get(id), shadow.get(&id));
                }
            }
            assert_eq!(m.len(), shadow.len());
        }
        let listed: Vec<(u64, u64)> = m.iter().map(|(k, v)| (k, *v)).collect();
        let want: Vec<(u64, u64)> = shadow.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(listed, want);
        assert_eq!(m.drain_in_order(), want);
        assert!(m.is_empty());
    }

    #[test]
    fn memory_follows_the_live_window() {
        let mut m = IdMap::default();
        for id in 0..10_000u64 {
            m.insert(id, id);
            if id >= 10 {
                m.remove(id - 10);
            }
        }
        assert_eq!(m.len(), 10);
        assert!(m.window_len() <= 11, "window {}", m.window_len());
        // Dead entries are dropped in bulk, so the allocation stays bounded too.
        for id in 10_000..100_000u64 {
            m.insert(id, id);
            m.remove(id - 10);
        }
        assert!(
            m.window.len() <= 2 * COMPACT_AFTER + 11,
            "{}",
            m.window.len()
        );
    }
}
