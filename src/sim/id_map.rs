//! A map from dense, mostly increasing integer ids to values, for the live
//! tests of a run.
//!
//! Ids are handed out in submission order and tests mostly end in about that
//! order, so the live ids form a window. A window of slot numbers (4 bytes an
//! id) points into a compact vector of values: a look-up is two array reads
//! instead of a hash and a probe, and memory is the live values plus 4 bytes
//! for each id between the oldest live one and the newest. Iteration is in
//! id order, so it is deterministic by construction.

use std::collections::VecDeque;

const ABSENT: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub struct IdMap<V> {
    /// Id of `slot_of[0]`.
    base: u64,
    slot_of: VecDeque<u32>,
    values: Vec<V>,
    ids: Vec<u64>,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap {
            base: 0,
            slot_of: VecDeque::new(),
            values: Vec::new(),
            ids: Vec::new(),
        }
    }
}

impl<V> IdMap<V> {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn slot(&self, id: u64) -> Option<usize> {
        let offset = id.checked_sub(self.base)?;
        match self.slot_of.get(usize::try_from(offset).ok()?) {
            Some(&s) if s != ABSENT => Some(s as usize),
            _ => None,
        }
    }

    pub fn get(&self, id: u64) -> Option<&V> {
        self.slot(id).map(|s| &self.values[s])
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        self.slot(id).map(|s| &mut self.values[s])
    }

    pub fn contains(&self, id: u64) -> bool {
        self.slot(id).is_some()
    }

    /// Inserts or replaces the value of `id`.
    pub fn insert(&mut self, id: u64, value: V) {
        if let Some(s) = self.slot(id) {
            self.values[s] = value;
            return;
        }
        if self.slot_of.is_empty() {
            self.base = id;
        }
        if id < self.base {
            // An id older than the window: grow it at the front.
            for _ in id..self.base {
                self.slot_of.push_front(ABSENT);
            }
            self.base = id;
        }
        let offset = (id - self.base) as usize;
        if offset >= self.slot_of.len() {
            self.slot_of.resize(offset + 1, ABSENT);
        }
        self.slot_of[offset] = self.values.len() as u32;
        self.values.push(value);
        self.ids.push(id);
    }

    /// Removes `id`, returning its value.
    pub fn remove(&mut self, id: u64) -> Option<V> {
        let s = self.slot(id)?;
        self.slot_of[(id - self.base) as usize] = ABSENT;
        let value = self.values.swap_remove(s);
        self.ids.swap_remove(s);
        if s < self.values.len() {
            let moved = self.ids[s];
            self.slot_of[(moved - self.base) as usize] = s as u32;
        }
        // Drop the dead prefix of the window.
        while self.slot_of.front() == Some(&ABSENT) {
            self.slot_of.pop_front();
            self.base += 1;
        }
        Some(value)
    }

    /// Every entry, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.slot_of
            .iter()
            .enumerate()
            .filter(|(_, &s)| s != ABSENT)
            .map(move |(i, &s)| (self.base + i as u64, &self.values[s as usize]))
    }

    /// Empties the map, returning every entry in id order.
    pub fn drain_in_order(&mut self) -> Vec<(u64, V)> {
        let order: Vec<(u64, u32)> = self
            .slot_of
            .iter()
            .enumerate()
            .filter(|(_, &s)| s != ABSENT)
            .map(|(i, &s)| (self.base + i as u64, s))
            .collect();
        let mut values: Vec<Option<V>> = self.values.drain(..).map(Some).collect();
        self.ids.clear();
        self.slot_of.clear();
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
        assert!(m.slot_of.len() <= 11, "window {}", m.slot_of.len());
    }
}
