//! The pending queue, split into classes of equal (priority, shape).
//!
//! Tests of one class are interchangeable for capacity, so when the head of a
//! class fits nowhere, the whole class fits nowhere: a scheduling pass skips
//! it in O(1) instead of re-examining each waiting test. A class stays
//! *blocked* until capacity grows somewhere it could use.

use super::model::{Shape, TestId};
use indexmap::IndexMap;
use std::collections::VecDeque;

pub type ClassId = usize;

#[derive(Clone, Debug)]
pub struct PendingClass {
    pub priority: u8,
    pub shape: Shape,
    /// `(submission order, test)`, ascending.
    pub fifo: VecDeque<(u64, TestId)>,
    /// True when the head fitted nowhere at the last look and no capacity it
    /// could use has appeared since.
    pub blocked: bool,
    /// Passes in which this class was considered and could not be placed;
    /// a test's attempts are the difference since it joined the class.
    pub failed_passes: u64,
}

/// All pending tests.
#[derive(Clone, Debug, Default)]
pub struct PendingQueues {
    classes: Vec<PendingClass>,
    by_key: IndexMap<(u8, Shape), ClassId>,
    len: usize,
}

impl PendingQueues {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn classes(&self) -> &[PendingClass] {
        &self.classes
    }

    pub fn class_mut(&mut self, id: ClassId) -> &mut PendingClass {
        &mut self.classes[id]
    }

    /// Adds a test in submission order; returns its class and the class's
    /// attempt marker (see `PendingClass::failed_passes`). A test joining a
    /// blocked class is credited with that class's current failure: it was
    /// considered, by dominance, and fits nowhere.
    pub fn push(&mut self, priority: u8, shape: Shape, order: u64, test: TestId) -> (ClassId, u64) {
        let next = self.classes.len();
        let id = *self.by_key.entry((priority, shape)).or_insert(next);
        if id == next {
            self.classes.push(PendingClass {
                priority,
                shape,
                fifo: VecDeque::new(),
                blocked: false,
                failed_passes: 0,
            });
        }
        let class = &mut self.classes[id];
        // Requeued tests keep their original order, so they may go mid-queue.
        if class.fifo.back().is_none_or(|&(last, _)| last < order) {
            class.fifo.push_back((order, test));
        } else {
            let at = class.fifo.partition_point(|&(o, _)| o < order);
            class.fifo.insert(at, (order, test));
        }
        self.len += 1;
        let marker = class.failed_passes - u64::from(class.blocked);
        (id, marker)
    }

    /// Removes the head of a class (it was assigned).
    pub fn pop_head(&mut self, id: ClassId) -> Option<(u64, TestId)> {
        let class = &mut self.classes[id];
        let head = class.fifo.pop_front();
        if head.is_some() {
            self.len -= 1;
        }
        if class.fifo.is_empty() {
            class.blocked = false;
        }
        head
    }

    /// Removes a specific test (cancelled or moved); O(class length).
    #[allow(dead_code)] // for work stealing and cancellation
    pub fn remove(&mut self, id: ClassId, test: TestId) -> bool {
        let class = &mut self.classes[id];
        if let Some(pos) = class.fifo.iter().position(|&(_, t)| t == test) {
            class.fifo.remove(pos);
            self.len -= 1;
            if class.fifo.is_empty() {
                class.blocked = false;
            }
            true
        } else {
            false
        }
    }

    /// Every pending test, in scheduling order (priority, then submission).
    pub fn in_order(&self) -> Vec<TestId> {
        let mut all: Vec<(u8, u64, TestId)> = self
            .classes
            .iter()
            .flat_map(|c| c.fifo.iter().map(move |&(o, t)| (c.priority, o, t)))
            .collect();
        all.sort_unstable();
        all.into_iter().map(|(_, _, t)| t).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(mem: u64) -> Shape {
        Shape {
            memory_mib: mem,
            ..Shape::default()
        }
    }

    #[test]
    fn order_is_priority_then_submission_even_for_requeues() {
        let mut q = PendingQueues::default();
        q.push(3, shape(1), 5, TestId(5));
        q.push(1, shape(2), 7, TestId(7));
        q.push(3, shape(1), 9, TestId(9));
        q.push(3, shape(1), 2, TestId(2)); // requeued: older order
        assert_eq!(
            q.in_order(),
            vec![TestId(7), TestId(2), TestId(5), TestId(9)]
        );
        assert_eq!(q.len(), 4);
        let (id, _) = q.push(3, shape(1), 10, TestId(10));
        assert_eq!(q.pop_head(id), Some((2, TestId(2))));
        assert!(q.remove(id, TestId(9)));
        assert!(!q.remove(id, TestId(9)));
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn joining_a_blocked_class_counts_as_one_failed_attempt() {
        let mut q = PendingQueues::default();
        let (id, m0) = q.push(3, shape(1), 0, TestId(0));
        assert_eq!(m0, 0);
        q.class_mut(id).blocked = true;
        q.class_mut(id).failed_passes = 4;
        let (_, m1) = q.push(3, shape(1), 1, TestId(1));
        assert_eq!(m1, 3);
    }
}
