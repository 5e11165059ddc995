//! The pending queue, split into classes of equal (priority, shape).
//!
//! Tests of one class are interchangeable for capacity, so when the head of a
//! class fits nowhere, the whole class fits nowhere: a scheduling pass skips
//! it in O(1) instead of re-examining each waiting test. A class stays
//! *blocked* until capacity grows somewhere it could use.
//!
//! Attempts are counted lazily: a capacity change counts one failed attempt
//! for every blocked class, which would cost a visit to every class on every
//! completion. Instead a global count of capacity passes is kept, and a
//! blocked class settles its own count when it is unblocked or read.

use super::model::{Shape, TestId};
use indexmap::IndexMap;
use std::collections::VecDeque;

pub(super) type ClassId = usize;

#[derive(Clone, Debug)]
pub(super) struct PendingClass {
    pub(crate) priority: u8,
    pub(crate) shape: Shape,
    /// `(submission order, test)`, ascending.
    pub(crate) fifo: VecDeque<(u64, TestId)>,
    /// True when the head fitted nowhere at the last look and no capacity it
    /// could use has appeared since.
    pub(crate) blocked: bool,
    /// Passes in which this class was considered and could not be placed,
    /// settled up to `blocked_at` (see `PendingQueues::failed_passes`); a
    /// test's attempts are the difference since it joined the class.
    failed_passes: u64,
    /// The capacity-pass count when the class was blocked or last settled.
    blocked_at: u64,
    /// Listed in `PendingQueues::fresh`.
    fresh: bool,
    /// Its shape's group (index into `PendingQueues::groups`).
    group: usize,
}

/// The classes that share a shape: a capacity check is per shape.
#[derive(Clone, Debug)]
struct ShapeGroup {
    shape: Shape,
    classes: Vec<ClassId>,
    /// How many of `classes` are blocked: a group with none is skipped
    /// without asking whether a grown worker fits its shape.
    blocked: usize,
}

/// All pending tests.
#[derive(Clone, Debug, Default)]
pub(super) struct PendingQueues {
    classes: Vec<PendingClass>,
    /// Fx-hashed: looked up on every push, and the key is a few integers.
    by_key: IndexMap<(u8, Shape), ClassId, rustc_hash::FxBuildHasher>,
    /// The class of the last push: a workload of one or a few shapes
    /// pushes into the same class again and again, and one comparison is
    /// cheaper than hashing the key.
    last: Option<(u8, Shape, ClassId)>,
    len: usize,
    groups: Vec<ShapeGroup>,
    /// Passes in which some capacity grew (each counts an attempt for every
    /// class still blocked after it).
    capacity_passes: u64,
    /// Classes that received a test while open since the last pass. After a
    /// pass every non-empty class is blocked, so these and the revived ones
    /// are all a pass needs to look at.
    fresh: Vec<ClassId>,
}

/// A count the pending queues keep that a recount contradicts (a bug).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CountError {
    #[error("pending count {kept} but {queued} queued")]
    Pending { kept: usize, queued: usize },
    #[error("shape group counts {kept} blocked, has {blocked}")]
    Blocked { kept: usize, blocked: usize },
}

impl PendingQueues {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn classes(&self) -> &[PendingClass] {
        &self.classes
    }

    /// Failed passes of a class, including those of a blocked class not yet
    /// settled.
    pub(super) fn failed_passes(&self, id: ClassId) -> u64 {
        let c = &self.classes[id];
        c.failed_passes
            + if c.blocked {
                self.capacity_passes - c.blocked_at
            } else {
                0
            }
    }

    /// The head of an open class fitted nowhere in this pass.
    pub(super) fn block(&mut self, id: ClassId) {
        let cp = self.capacity_passes;
        let c = &mut self.classes[id];
        debug_assert!(!c.blocked, "blocking a blocked class");
        c.failed_passes += 1;
        c.blocked = true;
        c.blocked_at = cp;
        let g = c.group;
        self.groups[g].blocked += 1;
    }

    fn unblock(&mut self, id: ClassId) {
        self.open_settled(id, self.failed_passes(id));
    }

    fn open_settled(&mut self, id: ClassId, failed_passes: u64) {
        let c = &mut self.classes[id];
        c.failed_passes = failed_passes;
        c.blocked = false;
        let g = c.group;
        self.groups[g].blocked -= 1;
    }

    /// A pass after capacity grew: lists (into `revivable`) every blocked
    /// class whose shape `fits` says some grown worker holds, and counts the
    /// pass. The classes stay blocked: one that the pass goes on to try is
    /// `revive`d first; one it does not try has failed this pass, which is
    /// exactly what staying blocked through it counts.
    pub(super) fn reconsider(
        &mut self,
        fits: impl Fn(&Shape) -> bool,
        revivable: &mut Vec<ClassId>,
    ) {
        for g in &self.groups {
            if g.blocked == 0 || !fits(&g.shape) {
                continue;
            }
            let before = revivable.len();
            revivable.extend(g.classes.iter().filter(|&&id| self.classes[id].blocked));
            debug_assert_eq!(revivable.len() - before, g.blocked);
        }
        self.capacity_passes += 1;
    }

    /// Unblocks a class listed by the last `reconsider`, because the pass
    /// tries it: that pass is not one of its failures.
    pub(super) fn revive(&mut self, id: ClassId) {
        debug_assert!(self.classes[id].blocked, "reviving an open class");
        self.open_settled(id, self.failed_passes(id) - 1);
    }

    /// True if some open class received a test since the last pass.
    pub(super) fn has_fresh(&self) -> bool {
        !self.fresh.is_empty()
    }

    /// Lists an open class for the next pass again: a pass that stopped
    /// early leaves it with its head untried.
    pub(super) fn keep_fresh(&mut self, id: ClassId) {
        let class = &mut self.classes[id];
        if !class.blocked && !class.fresh && !class.fifo.is_empty() {
            class.fresh = true;
            self.fresh.push(id);
        }
    }

    /// Moves the fresh classes into `out`.
    pub(super) fn take_fresh(&mut self, out: &mut Vec<ClassId>) {
        for &id in &self.fresh {
            self.classes[id].fresh = false;
        }
        out.append(&mut self.fresh);
    }

    /// Adds a test in submission order; returns its class and the class's
    /// attempt marker (see `PendingClass::failed_passes`). A test joining a
    /// blocked class is credited with that class's current failure: it was
    /// considered, by dominance, and fits nowhere.
    pub(super) fn push(
        &mut self,
        priority: u8,
        shape: Shape,
        order: u64,
        test: TestId,
    ) -> (ClassId, u64) {
        let id = match self.last {
            Some((p, s, id)) if p == priority && s == shape => id,
            _ => self.class_of(priority, shape),
        };
        self.last = Some((priority, shape, id));
        let marker = self.failed_passes(id) - u64::from(self.classes[id].blocked);
        let class = &mut self.classes[id];
        // Requeued tests keep their original order, so they may go mid-queue.
        if class.fifo.back().is_none_or(|&(last, _)| last < order) {
            class.fifo.push_back((order, test));
        } else {
            let at = class.fifo.partition_point(|&(o, _)| o < order);
            class.fifo.insert(at, (order, test));
        }
        self.len += 1;
        if !class.blocked && !class.fresh {
            class.fresh = true;
            self.fresh.push(id);
        }
        (id, marker)
    }

    /// The class of `(priority, shape)`, made (in its shape's group) if new.
    fn class_of(&mut self, priority: u8, shape: Shape) -> ClassId {
        let next = self.classes.len();
        let id = *self.by_key.entry((priority, shape)).or_insert(next);
        if id == next {
            let group = match self.groups.iter().position(|g| g.shape == shape) {
                Some(g) => {
                    self.groups[g].classes.push(id);
                    g
                }
                None => {
                    self.groups.push(ShapeGroup {
                        shape,
                        classes: vec![id],
                        blocked: 0,
                    });
                    self.groups.len() - 1
                }
            };
            self.classes.push(PendingClass {
                priority,
                shape,
                fifo: VecDeque::new(),
                blocked: false,
                failed_passes: 0,
                blocked_at: 0,
                fresh: false,
                group,
            });
        }
        id
    }

    /// Removes the head of a class (it was assigned).
    pub(super) fn pop_head(&mut self, id: ClassId) -> Option<(u64, TestId)> {
        let class = &mut self.classes[id];
        let head = class.fifo.pop_front();
        if head.is_some() {
            self.len -= 1;
        }
        if class.fifo.is_empty() && class.blocked {
            self.unblock(id);
        }
        head
    }

    /// Removes a test from the middle of its class (it was withdrawn).
    pub(super) fn remove(&mut self, id: ClassId, order: u64, test: TestId) -> bool {
        let class = &mut self.classes[id];
        let at = class.fifo.partition_point(|&(o, _)| o < order);
        if class.fifo.get(at) != Some(&(order, test)) {
            return false;
        }
        class.fifo.remove(at);
        self.len -= 1;
        if class.fifo.is_empty() && class.blocked {
            self.unblock(id);
        }
        true
    }

    /// The kept counts (tests, blocked classes per shape) match a recount.
    pub(super) fn check_counts(&self) -> Result<(), CountError> {
        let queued: usize = self.classes.iter().map(|c| c.fifo.len()).sum();
        if queued != self.len {
            return Err(CountError::Pending {
                kept: self.len,
                queued,
            });
        }
        for g in &self.groups {
            let blocked = g
                .classes
                .iter()
                .filter(|&&c| self.classes[c].blocked)
                .count();
            if blocked != g.blocked {
                return Err(CountError::Blocked {
                    kept: g.blocked,
                    blocked,
                });
            }
        }
        Ok(())
    }

    /// Every pending test, in scheduling order (priority, then submission).
    pub(super) fn in_order(&self) -> Vec<TestId> {
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
        assert_eq!(q.len(), 4);
        assert_eq!(
            q.in_order(),
            vec![TestId(7), TestId(5), TestId(9), TestId(10)]
        );
    }

    #[test]
    fn joining_a_blocked_class_counts_as_one_failed_attempt() {
        let mut q = PendingQueues::default();
        let (id, m0) = q.push(3, shape(1), 0, TestId(0));
        assert_eq!(m0, 0);
        q.block(id);
        // Three passes after capacity grew elsewhere, none of it usable.
        for _ in 0..3 {
            let mut revived = Vec::new();
            q.reconsider(|_| false, &mut revived);
            assert!(revived.is_empty());
        }
        assert_eq!(q.failed_passes(id), 4);
        let (_, m1) = q.push(3, shape(1), 1, TestId(1));
        assert_eq!(m1, 3);
        let mut revived = Vec::new();
        q.reconsider(|s| s.memory_mib == 1, &mut revived);
        assert_eq!(revived, vec![id]);
        // Not tried after all, the pass is a failure; tried, it is not.
        assert_eq!(q.failed_passes(id), 5);
        q.revive(id);
        assert!(!q.classes()[id].blocked);
        assert_eq!(q.failed_passes(id), 4);
    }

    /// Pushes that switch between classes find each one again (the last
    /// class is a shortcut, not the only class).
    #[test]
    fn pushes_alternating_between_classes_land_in_their_own() {
        let mut q = PendingQueues::default();
        let ids: Vec<ClassId> = [(3, 1), (3, 2), (3, 1), (1, 1), (3, 2), (1, 1)]
            .iter()
            .enumerate()
            .map(|(i, &(p, m))| q.push(p, shape(m), i as u64, TestId(i as u64)).0)
            .collect();
        assert_eq!(ids, vec![0, 1, 0, 2, 1, 2]);
        assert_eq!(q.len(), 6);
        assert_eq!(q.classes()[0].fifo.len(), 2);
    }
}
