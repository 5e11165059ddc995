//! The scheduling pass: pending tests in priority, then submission order,
//! each placed on the worker the policy picks. A class whose head fits
//! nowhere is skipped whole, and looked at again only when capacity it
//! could use appears.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::model::{Shape, TestId};
use super::pending::ClassId;
use super::policy::{self, ClusterView, Request};
use super::{Assignment, Balancer};
use crate::sim::SimTime;

/// A class head's place in a pass, `(priority, submission order, class)`
/// packed into one integer so the pass's heap compares in one step. Orders
/// are test numbers (below 2^64) and classes are few (below 2^32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct HeadKey(u128);

impl HeadKey {
    fn new(priority: u8, order: u64, class: ClassId) -> Self {
        debug_assert!(class < 1 << 32);
        HeadKey((u128::from(priority) << 96) | (u128::from(order) << 32) | class as u128)
    }

    fn class(self) -> ClassId {
        (self.0 & 0xffff_ffff) as ClassId
    }
}

/// The heads of the classes a pass revived, taken smallest first. A grown
/// worker revives every blocked class it could hold, and usually only the
/// first one or two are taken before it is full again, so a few are found by
/// a scan rather than sorted up front.
#[derive(Default)]
struct RevivedHeads {
    keys: Vec<HeadKey>,
    /// Sorted descending (taken from the end), once there are many.
    sorted: bool,
}

impl RevivedHeads {
    const SCAN_AT_MOST: usize = 16;

    fn prepare(&mut self) {
        if self.keys.len() > Self::SCAN_AT_MOST {
            self.keys.sort_unstable_by(|a, b| b.cmp(a));
            self.sorted = true;
        }
    }

    fn take_min(&mut self) -> Option<HeadKey> {
        if self.sorted {
            return self.keys.pop();
        }
        let (at, _) = self.keys.iter().enumerate().min_by_key(|&(_, k)| *k)?;
        Some(self.keys.swap_remove(at))
    }

    fn clear(&mut self) {
        self.keys.clear();
        self.sorted = false;
    }
}

/// What a pass works with, kept in the balancer between passes so a pass
/// allocates nothing once the run has warmed up.
#[derive(Default)]
pub(super) struct PassBuffers {
    /// Heads of the classes that may be placed, smallest first.
    heads: BinaryHeap<Reverse<HeadKey>>,
    /// The classes looked at: revived ones first, then fresh ones.
    candidates: Vec<ClassId>,
    /// Per class: revived in this pass.
    revived: Vec<bool>,
    revived_heads: RevivedHeads,
    /// Shapes that fit nowhere in this pass: a class needing as much or
    /// more is skipped without asking the policy. (Kept here so a pass
    /// whose test fits nowhere does not allocate.)
    unplaceable: Vec<Shape>,
}

/// One pass's state beside its buffers (which stay in the balancer: moving
/// them in and out of a pass cost more than the pass itself in a small
/// pool).
struct Pass {
    /// Component-wise smallest shape among the revived classes: a grown
    /// worker that cannot hold it holds none of them.
    revived_floor: Option<Shape>,
    /// The smallest revived head not yet taken.
    next_revived: Option<HeadKey>,
}

impl Balancer {
    /// One scheduling pass: places pending tests in priority, then
    /// submission order, each on the worker the policy picks, and appends
    /// the decisions to `out`.
    ///
    /// After a pass every waiting class is blocked; the classes worth a
    /// look are those capacity growth revives and those given a test since
    /// (fresh). Revived classes stay blocked until one is actually tried:
    /// most fail the grown-worker check at once, and a class left blocked
    /// through this pass counts the same failed attempt as one unblocked
    /// and blocked again, without the bookkeeping.
    pub fn schedule(&mut self, now: SimTime, out: &mut Vec<Assignment>) {
        self.schedule_at_most(now, out, usize::MAX);
    }

    /// A pass that stops after `max_placed` assignments, for a caller that
    /// holds a lock while it runs (the coordinator): returns true when it
    /// stopped with heads left. What it did not look at is kept for the
    /// next pass (open classes listed as fresh again, grown workers kept
    /// dirty while revived classes wait), so a run of bounded passes
    /// places what one whole pass would, in the same order.
    pub fn schedule_at_most(
        &mut self,
        now: SimTime,
        out: &mut Vec<Assignment>,
        max_placed: usize,
    ) -> bool {
        if self.pending.is_empty() {
            self.clear_dirty();
            return false;
        }
        self.counters.passes += 1;
        if self.dirty.is_empty() && !self.pending.has_fresh() {
            // No capacity grew and no open class got a test: every waiting
            // class is blocked, and this pass would look at none of them.
            return false;
        }
        let mut pass = Pass {
            revived_floor: None,
            next_revived: None,
        };
        let classes = self.pending.classes().len();
        self.pass_buffers.revived.resize(classes, false);
        if !self.dirty.is_empty() {
            self.revive_for_grown_workers(&mut pass);
        }
        self.push_fresh_heads();
        pass.next_revived = self.pass_buffers.revived_heads.take_min();
        let limit = out.len().saturating_add(max_placed);
        let mut stopped = false;
        while let Some(head) = self.next_head(&mut pass) {
            self.place_head(head, now, out);
            if out.len() >= limit {
                stopped = true;
                break;
            }
        }
        let revived_left = stopped && self.keep_for_next_pass(&pass);
        let b = &mut self.pass_buffers;
        for &c in &b.candidates {
            b.revived[c] = false;
        }
        b.candidates.clear();
        b.revived_heads.clear();
        b.unplaceable.clear();
        if !revived_left {
            self.clear_dirty();
        }
        stopped
    }

    /// After a pass stopped early: the classes with heads still on the heap
    /// are open, and become fresh again; revived classes not yet tried are
    /// still blocked, and stay revivable by keeping the grown workers dirty
    /// (returns whether there are such).
    fn keep_for_next_pass(&mut self, pass: &Pass) -> bool {
        for Reverse(head) in self.pass_buffers.heads.drain() {
            self.pending.keep_fresh(head.class());
        }
        pass.next_revived.is_some()
    }

    /// Marks the blocked classes a grown worker could now hold as revived,
    /// and gathers their heads and their floor.
    fn revive_for_grown_workers(&mut self, pass: &mut Pass) {
        let b = &mut self.pass_buffers;
        let (index, dirty) = (&self.index, &self.dirty);
        self.pending.reconsider(
            |shape| {
                dirty
                    .iter()
                    .any(|w| index.leaf(*w).is_some_and(|l| l.fits(shape)))
            },
            &mut b.candidates,
        );
        for &id in &b.candidates {
            b.revived[id] = true;
            let c = &self.pending.classes()[id];
            if let Some(&(order, _)) = c.fifo.front() {
                b.revived_heads
                    .keys
                    .push(HeadKey::new(c.priority, order, id));
                pass.revived_floor =
                    Some(pass.revived_floor.map_or(c.shape, |f| f.floor(&c.shape)));
            }
        }
        b.revived_heads.prepare();
    }

    /// Puts the heads of the classes given a test since the last pass on
    /// the heap (a blocked one waits for capacity instead).
    fn push_fresh_heads(&mut self) {
        let b = &mut self.pass_buffers;
        let fresh_from = b.candidates.len();
        self.pending.take_fresh(&mut b.candidates);
        for &id in &b.candidates[fresh_from..] {
            let c = &self.pending.classes()[id];
            if let (false, Some(&(order, _))) = (c.blocked, c.fifo.front()) {
                b.heads.push(Reverse(HeadKey::new(c.priority, order, id)));
            }
        }
    }

    /// The smallest head left, from the heap or the revived ones. Revived
    /// classes leave the pass in the same order as if they had been pushed
    /// on the heap: merged from their own, smaller stream.
    fn next_head(&mut self, pass: &mut Pass) -> Option<HeadKey> {
        if pass.next_revived.is_some()
            && pass
                .revived_floor
                .is_some_and(|f| !self.fits_a_grown_worker(&f))
        {
            // The grown workers are full again: every revived class left
            // would fail the grown-worker check, and staying blocked is
            // what that failure amounts to.
            pass.next_revived = None;
        }
        let b = &mut self.pass_buffers;
        match (b.heads.peek(), pass.next_revived) {
            (Some(Reverse(h)), Some(r)) if *h < r => b.heads.pop().map(|Reverse(h)| h),
            (_, Some(r)) => {
                pass.next_revived = b.revived_heads.take_min();
                Some(r)
            }
            (_, None) => b.heads.pop().map(|Reverse(h)| h),
        }
    }

    /// Tries a class's head: places it and queues the class's next head, or
    /// blocks the class when it fits nowhere.
    fn place_head(&mut self, head: HeadKey, now: SimTime, out: &mut Vec<Assignment>) {
        let class = head.class();
        let shape = self.pending.classes()[class].shape;
        let Some(&(_, test)) = self.pending.classes()[class].fifo.front() else {
            return;
        };
        if self
            .pass_buffers
            .unplaceable
            .iter()
            .any(|u| u.fits_within(&shape))
            || (self.pass_buffers.revived[class] && !self.fits_a_grown_worker(&shape))
        {
            if !self.pending.classes()[class].blocked {
                self.pending.block(class);
            }
            return;
        }
        if self.pending.classes()[class].blocked {
            self.pending.revive(class);
        }
        let Some(choice) = self.decide(test, shape, now) else {
            self.pass_buffers.unplaceable.push(shape);
            self.pending.block(class);
            return;
        };
        out.push(self.assign(class, test, choice, now));
        let c = &self.pending.classes()[class];
        if let Some(&(order, _)) = c.fifo.front() {
            let next = HeadKey::new(c.priority, order, class);
            self.pass_buffers.heads.push(Reverse(next));
        }
    }

    /// A class that was blocked before this pass fits no worker but those
    /// whose capacity grew since (the others only lost capacity). So once
    /// none of those fits it any more, the policy need not be asked: it
    /// would search the whole index to find nothing. Exact, not a heuristic;
    /// skipped when many workers grew (a pool cycle), where the policy's own
    /// search is cheaper.
    fn fits_a_grown_worker(&self, shape: &Shape) -> bool {
        const MAX_GROWN: usize = 32;
        self.dirty.len() > MAX_GROWN
            || self
                .dirty
                .iter()
                .any(|w| self.index.leaf(*w).is_some_and(|l| l.fits(shape)))
    }

    /// Asks the policy, and checks its answer: a policy that names a worker
    /// the test does not fit is a bug, and the test is not placed.
    fn decide(&mut self, test: TestId, shape: Shape, now: SimTime) -> Option<policy::Choice> {
        self.counters.decisions += 1;
        let spec = &self.live[test.0].spec;
        let req = Request { test, spec, shape };
        let view = ClusterView {
            now,
            workers: &self.workers,
            index: &self.index,
            load: self.loads.now(),
        };
        let choice = self.policy.select(&req, &view, &mut self.rng)?;
        // The index leaf is the worker's current, exact capacity.
        let fits = self
            .index
            .leaf(choice.worker)
            .is_some_and(|l| l.fits(&shape));
        debug_assert!(
            fits,
            "policy {} chose {} which does not fit {test}",
            self.scheduler, choice.worker
        );
        fits.then_some(choice)
    }

    fn clear_dirty(&mut self) {
        for w in self.dirty.drain(..) {
            self.is_dirty[w.0 as usize] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn revived_heads_come_out_smallest_first_scanned_or_sorted() {
        for n in [
            0usize,
            1,
            5,
            RevivedHeads::SCAN_AT_MOST,
            RevivedHeads::SCAN_AT_MOST + 9,
        ] {
            let mut rng = RngStreams::new(n as u64).stream(Stream::Custom(4));
            let keys: Vec<HeadKey> = (0..n)
                .map(|i| HeadKey::new(rng.below(5) as u8, rng.below(1000), i))
                .collect();
            let mut heads = RevivedHeads {
                keys: keys.clone(),
                sorted: false,
            };
            heads.prepare();
            let taken: Vec<HeadKey> = std::iter::from_fn(|| heads.take_min()).collect();
            let mut want = keys;
            want.sort_unstable();
            assert_eq!(taken, want, "{n} heads");
            assert!(taken
                .iter()
                .enumerate()
                .all(|(i, k)| k.class() < n && (i == 0 || taken[i - 1] < *k)));
        }
    }
}
