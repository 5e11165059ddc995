//! A segment tree over worker slots that answers "which worker fits this test
//! and scores best?" without scanning every worker.
//!
//! Each node keeps, for its subtree, upper bounds on free resources (max free
//! memory for each CUDA level, max free cores, the union of backends) and the
//! max of each ranking key. A search descends only into subtrees whose bounds
//! admit the test and whose best key can still beat the best fit found so far
//! (branch and bound). Bounds are per dimension, so a subtree can look
//! feasible and hold no single fitting worker; the leaves decide exactly.
//! Updates cost O(log W); searches are O(log W) when the best-ranked workers
//! fit, and degrade towards O(W) only when the well-ranked ones are all full.
//! The policies that draw at random, or search by more than one key, have
//! the tree keep [`Tally`]s beside the nodes too (`balancer/tally.rs`).

use super::leaf::{LeafData, RankKey, CUDA_LEVELS, RANK_KEYS};
use super::memory_order::{MemoryOrder, Walk};
use super::model::{Shape, WorkerId};
use super::tally::{self, Tally, TallyKind};

/// Free-memory levels of the ranked key's bound: level `j` holds workers
/// with at least `1024 << j` MiB free (and a free core). They are the
/// tallies' memory steps 1 and up (`tally::mem_step`), kept in the node
/// itself for the policy's main key: a separate tally of all 16 classes
/// would cost every node update more than the spike can spare.
const MEM_LEVELS: usize = tally::MEM_STEPS - 1;

/// The highest memory level a test of `memory_mib` is sure to need, or
/// `None` below the first level.
fn mem_level(memory_mib: u64) -> Option<usize> {
    tally::mem_step(memory_mib).checked_sub(1)
}

/// Bounds over a subtree. Memory is bounded jointly with CUDA and with "at
/// least one free core", because a worker whose cores are all busy but whose
/// memory is free (the common full worker) would otherwise make every subtree
/// above it look feasible. Tests that need no core use the looser `*_any`.
#[derive(Clone, Copy, Debug)]
struct Node {
    /// Max free memory among workers with ≥ level free CUDA and ≥ 1 free core.
    mem_by_cuda: [i32; CUDA_LEVELS],
    cores: i32,
    mem_any: i32,
    cuda_any: i32,
    backends: u64,
    keys: [f64; RANK_KEYS],
    /// Max of the ranked key (see [`FitTree::ranked_by`]) among
    /// workers with a free core and each memory level's memory free.
    /// Exact `f64`s: an `f32` rounded up stays a bound but ties the best
    /// key far more often (1 − load is often a multiple of ¼), and a tie
    /// from a lower slot must be searched, which undid the gain.
    ranked_by_mem: [f64; MEM_LEVELS],
}

const EMPTY: Node = Node {
    mem_by_cuda: [-1; CUDA_LEVELS],
    cores: -1,
    mem_any: -1,
    cuda_any: -1,
    backends: 0,
    keys: [f64::NEG_INFINITY; RANK_KEYS],
    ranked_by_mem: [f64::NEG_INFINITY; MEM_LEVELS],
};

impl Node {
    fn leaf(d: &LeafData, ranked: usize) -> Node {
        debug_assert!(d.keys.iter().all(|k| !k.is_nan()), "NaN ranking key");
        // MiB fit in an i32 up to 2 PiB per worker.
        let mem = d.free_memory_mib.min(i32::MAX as u64) as i32;
        let mut mem_by_cuda = [-1i32; CUDA_LEVELS];
        let mut ranked_by_mem = [f64::NEG_INFINITY; MEM_LEVELS];
        if d.free_cores > 0 {
            let levels = (d.free_cuda as usize + 1).min(CUDA_LEVELS);
            for slot in mem_by_cuda.iter_mut().take(levels) {
                *slot = mem;
            }
            let levels = tally::mem_step(d.free_memory_mib);
            for slot in ranked_by_mem.iter_mut().take(levels) {
                *slot = d.keys[ranked];
            }
        }
        Node {
            mem_by_cuda,
            cores: d.free_cores.min(i32::MAX as u32) as i32,
            mem_any: mem,
            cuda_any: d.free_cuda.min(i32::MAX as u32) as i32,
            backends: d.backends,
            keys: d.keys,
            ranked_by_mem,
        }
    }

    fn merge(a: &Node, b: &Node) -> Node {
        // Keys are never NaN, and the tree only compares them (where ±0 are
        // equal), so a plain comparison serves as max: cheaper than
        // `f64::max`, which must handle NaN.
        // `a > b ? a : b` is the hardware max instruction's own rule.
        let max = |a: f64, b: f64| if a > b { a } else { b };
        let key = |i: usize| max(a.keys[i], b.keys[i]);
        Node {
            mem_by_cuda: std::array::from_fn(|i| a.mem_by_cuda[i].max(b.mem_by_cuda[i])),
            cores: a.cores.max(b.cores),
            mem_any: a.mem_any.max(b.mem_any),
            cuda_any: a.cuda_any.max(b.cuda_any),
            backends: a.backends | b.backends,
            keys: std::array::from_fn(key),
            ranked_by_mem: std::array::from_fn(|i| max(a.ranked_by_mem[i], b.ranked_by_mem[i])),
        }
    }

    /// Could some worker below this node hold `shape`? (Necessary, not sufficient.)
    fn admits(&self, shape: &Shape) -> bool {
        self.admits_demand(&Demand::of(shape))
    }

    fn admits_demand(&self, d: &Demand) -> bool {
        let fits_resources = if d.needs_core {
            self.mem_by_cuda[d.level] >= d.mem && self.cores >= d.cores
        } else {
            self.mem_any >= d.mem && self.cuda_any >= d.cuda
        };
        fits_resources && self.backends & d.backends == d.backends
    }
}

/// A shape in the nodes' terms, worked out once per search rather than at
/// every node. Bounds are clamped to i32 (2 PiB); clamping the demand the
/// same way keeps the test conservative, and the leaf check is exact.
#[derive(Clone, Copy, Debug)]
struct Demand {
    needs_core: bool,
    mem: i32,
    level: usize,
    cores: i32,
    cuda: i32,
    backends: u64,
}

impl Demand {
    fn of(shape: &Shape) -> Demand {
        Demand {
            needs_core: shape.cpu_cores > 0,
            mem: shape.memory_mib.min(i32::MAX as u64) as i32,
            level: (shape.cuda_devices as usize).min(CUDA_LEVELS - 1),
            cores: shape.cpu_cores.min(i32::MAX as u32) as i32,
            cuda: shape.cuda_devices.min(i32::MAX as u32) as i32,
            backends: shape.backend.0,
        }
    }
}

/// The result of a search: the worker, its key, and how many leaves were
/// examined (the decision's real cost, reported in the decision log).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found {
    /// The worker found.
    pub worker: WorkerId,
    /// Its value of the key searched for (higher is better).
    pub key: f64,
    pub(crate) examined: u32,
}

/// The index itself. Slots are worker ids; absent workers are empty leaves.
///
/// Beside the bounds, the tree keeps the [`Tally`]s its policy asked for
/// ([`FitTree::with_tally`]): per-class counts or idleness sums for draws
/// (one path, O(log W), through [`FitTree::sampler`]), or another key's
/// per-class max for searches by that key.
#[derive(Clone, Debug, Default)]
pub struct FitTree {
    leaves: usize,
    nodes: Vec<Node>,
    /// Exact leaf data, for the final fit check at a leaf.
    data: Vec<Option<LeafData>>,
    /// Between `defer` and `flush`: parents whose subtree changed.
    deferring: bool,
    stale: Vec<usize>,
    /// Workers by free memory, kept only once `track_memory_order` asks
    /// (for `best_fit`), so the other policies pay nothing for it.
    memory: Option<MemoryOrder>,
    /// The key whose bound is also kept per memory level.
    ranked: usize,
    /// The tallies kept beside the nodes (most policies keep none).
    tallies: Vec<Tally>,
    /// Nodes the searches popped, for the tests that pin a search's cost.
    #[cfg(test)]
    pops: std::cell::Cell<u64>,
}

/// A draw among one capacity class's workers (see [`FitTree::sampler`]).
pub struct Sampler<'a> {
    tally: &'a Tally,
    leaves: usize,
    class: usize,
    total: f64,
}

impl Sampler<'_> {
    /// The class's workers' weights, summed (for `Count`, how many).
    pub fn total(&self) -> f64 {
        self.total
    }

    /// The worker where the running sum of weights, in id order, passes
    /// `r`: with `r` uniform in `[0, total)` (for `Count`, a whole number
    /// below it), a draw by weight among the class's workers. `None` if
    /// rounding ran off the end onto a worker of no weight (draw again).
    pub fn draw(&self, r: f64) -> Option<WorkerId> {
        self.tally.descend(self.leaves, self.class, r)
    }
}

/// Workers a walk by free memory examines before `tightest` hands the
/// search to the branch and bound (a pool whose roomy workers are short of
/// cores or backends would otherwise make the walk long).
const WALK_BUDGET: u32 = 64;

impl FitTree {
    /// An empty index (no workers yet).
    pub fn new() -> Self {
        FitTree::default()
    }

    fn grow(&mut self, min_leaves: usize) {
        let mut leaves = self.leaves.max(1);
        while leaves < min_leaves {
            leaves *= 2;
        }
        if leaves == self.leaves {
            return;
        }
        self.leaves = leaves;
        // The whole tree is rebuilt below: nothing deferred is left stale.
        self.stale.clear();
        self.nodes = vec![EMPTY; 2 * leaves];
        for tally in &mut self.tallies {
            tally.reset(2 * leaves);
        }
        self.data.resize(leaves, None);
        for i in 0..leaves {
            self.set_leaf(i);
        }
        for i in (1..leaves).rev() {
            self.pull(i);
        }
    }

    /// Writes slot `slot`'s leaf node from its data.
    fn set_leaf(&mut self, slot: usize) {
        let data = self.data[slot].as_ref();
        let i = self.leaves + slot;
        self.nodes[i] = data.map_or(EMPTY, |d| Node::leaf(d, self.ranked));
        for tally in &mut self.tallies {
            tally.set_leaf(i, data);
        }
    }

    /// Recomputes inner node `i` from its children. The hottest function
    /// of a run: one split and one two-child slice, so it pays two bounds
    /// checks rather than one per index.
    fn pull(&mut self, i: usize) {
        let (parents, children) = self.nodes.split_at_mut(2 * i);
        let (Some(parent), Some([l, r])) = (parents.get_mut(i), children.first_chunk::<2>()) else {
            unreachable!("pull({i}) outside a tree of {} nodes", parents.len());
        };
        *parent = Node::merge(l, r);
        for tally in &mut self.tallies {
            tally.pull(i);
        }
    }

    /// Sets (or clears, with `None`) the worker's leaf.
    pub fn set(&mut self, worker: WorkerId, data: Option<LeafData>) {
        let slot = worker.0 as usize;
        if slot >= self.leaves {
            self.grow(slot + 1);
        }
        self.data[slot] = data;
        if self.memory.is_some() {
            self.update_memory_order(slot);
        }
        self.set_leaf(slot);
        let mut i = self.leaves + slot;
        if self.deferring {
            self.stale.push(i / 2);
            return;
        }
        while i > 1 {
            i /= 2;
            self.pull(i);
        }
    }

    /// Moves slot `slot` in the memory order. Kept out of line so that
    /// `set`, on the hot path of every policy, pays one test for it.
    #[inline(never)]
    fn update_memory_order(&mut self, slot: usize) {
        if let Some(memory) = &mut self.memory {
            memory.set(slot, self.data[slot].as_ref());
        }
    }

    /// Until `flush`, `set` only writes leaves. A pool cycle touches a third
    /// of the workers at once; their paths to the root share most nodes, so
    /// recomputing each shared node once is several times cheaper. Searches
    /// must wait for the flush.
    pub(crate) fn defer(&mut self) {
        self.deferring = true;
    }

    /// Recomputes every node above the leaves set since `defer`, each once,
    /// level by level.
    pub fn flush(&mut self) {
        self.deferring = false;
        let mut level = std::mem::take(&mut self.stale);
        while !level.is_empty() {
            level.sort_unstable();
            level.dedup();
            for &i in &level {
                if i >= 1 {
                    self.pull(i);
                }
            }
            level.retain(|&i| i > 1);
            for i in &mut level {
                *i /= 2;
            }
        }
        self.stale = level;
    }

    fn leaf_fits(d: &LeafData, shape: &Shape) -> bool {
        d.fits(shape)
    }

    /// The fitting worker with the largest `key`; ties go to the lowest id.
    pub fn best(&self, key: RankKey, shape: &Shape) -> Option<Found> {
        let demand = Demand::of(shape);
        if self.leaves == 0 || !self.nodes[1].admits_demand(&demand) {
            return None;
        }
        let k = key as usize;
        // The tightest bound that applies: the ranked key's per memory
        // level (a test that needs a core and memory enough for a level),
        // a tally of the key's max per capacity class, or the key's max.
        if k == self.ranked && demand.needs_core {
            if let Some(j) = mem_level(shape.memory_mib) {
                return self.search(k, shape, &demand, |_, n| n.ranked_by_mem[j]);
            }
        }
        if let Some(t) = self.tally(TallyKind::MaxKey(key)) {
            let class = tally::class_of(shape);
            return self.search(k, shape, &demand, |i, _| t.at(i, class));
        }
        self.search(k, shape, &demand, |_, n| n.keys[k])
    }

    /// The branch and bound behind [`FitTree::best`]: `bound(i, node)` is
    /// an upper bound on key `k` over the fitting workers below node `i`.
    fn search(
        &self,
        k: usize,
        shape: &Shape,
        demand: &Demand,
        bound: impl Fn(usize, &Node) -> f64,
    ) -> Option<Found> {
        let depth_of_leaves = self.leaves.trailing_zeros();
        // The best fit so far, as (key, slot); a subtree is worth a visit
        // only if its max key beats it, or ties it from a lower slot.
        let mut best: Option<(f64, usize)> = None;
        // `start` is asked for only on a tie: working out a node's first
        // slot costs more than the rest of the test, and ties are rare.
        let beaten = |best: Option<(f64, usize)>, node_key: f64, start: &dyn Fn() -> usize| {
            best.is_some_and(|(bk, bi)| node_key < bk || (node_key == bk && start() > bi))
        };
        let start_of = |node: usize| {
            let depth = usize::BITS - 1 - node.leading_zeros();
            (node << (depth_of_leaves - depth)) - self.leaves
        };
        let mut examined = 0u32;
        // A fixed stack of node numbers (a node's range follows from its
        // number): no allocation per decision. Depth-first, the child with
        // the higher key on top, so a good bound is found early. Two entries
        // per level suffice, and slots are u32, so there are at most 33
        // levels (a small stack: it is zeroed on every decision).
        let mut stack = [0u32; 2 * 33];
        let mut top = 1;
        stack[0] = 1;
        while top > 0 {
            top -= 1;
            let node = stack[top] as usize;
            let n = &self.nodes[node];
            #[cfg(test)]
            self.pops.set(self.pops.get() + 1);
            // The bound may have improved since the node was pushed.
            if beaten(best, bound(node, n), &|| start_of(node)) {
                continue;
            }
            if node >= self.leaves {
                examined += 1;
                let slot = node - self.leaves;
                if let Some(d) = &self.data[slot] {
                    if !beaten(best, d.keys[k], &|| slot) && d.fits(shape) {
                        best = Some((d.keys[k], slot));
                    }
                }
                continue;
            }
            let (l, r) = (2 * node, 2 * node + 1);
            let (ln, rn) = (&self.nodes[l], &self.nodes[r]);
            let (first, second) = if bound(l, ln) >= bound(r, rn) {
                ((l, ln), (r, rn))
            } else {
                ((r, rn), (l, ln))
            };
            // Push the second choice first so the first is popped next; a
            // child that cannot hold the test is never pushed.
            for (child, n) in [second, first] {
                if n.admits_demand(demand) {
                    stack[top] = child as u32;
                    top += 1;
                }
            }
        }
        best.map(|(key, slot)| Found {
            worker: WorkerId(slot as u32),
            key,
            examined,
        })
    }

    /// An empty index that keeps `key`'s bound per memory level too (the
    /// key the policy ranks by), so a search for a test that needs much
    /// memory is not led through well-ranked workers too small for it.
    /// [`FitTree::new`] ranks `Performance`.
    pub(crate) fn ranked_by(key: RankKey) -> Self {
        FitTree {
            ranked: key as usize,
            ..FitTree::default()
        }
    }

    /// Keeps a tally of `kind` too (once, however often asked), from the
    /// workers already set on.
    pub fn with_tally(mut self, kind: TallyKind) -> Self {
        if self.tally(kind).is_none() {
            let mut tally = Tally::new(kind);
            tally.reset(self.nodes.len());
            for slot in 0..self.leaves {
                tally.set_leaf(self.leaves + slot, self.data[slot].as_ref());
            }
            for i in (1..self.leaves).rev() {
                tally.pull(i);
            }
            self.tallies.push(tally);
        }
        self
    }

    /// From now on, keep the workers ordered by free memory as well, so
    /// [`FitTree::tightest`] can walk up from a test's memory.
    pub(crate) fn track_memory_order(&mut self) {
        let mut memory = MemoryOrder::default();
        for (slot, data) in self.data.iter().enumerate() {
            memory.set(slot, data.as_ref());
        }
        self.memory = Some(memory);
    }

    /// The fitting worker with the least free memory, lowest id on ties:
    /// exactly `best(RankKey::Tight, shape)`. With the memory order kept and
    /// a test that needs a core, a walk up from the test's memory; otherwise
    /// (or when the walk gives up) the branch and bound. `examined` counts
    /// the workers checked either way.
    pub(crate) fn tightest(&self, shape: &Shape) -> Option<Found> {
        let walk = match &self.memory {
            Some(memory) if shape.cpu_cores > 0 => {
                let leaf = |slot: usize| self.data[slot].as_ref();
                memory.first_fit(shape, leaf, WALK_BUDGET)
            }
            _ => Walk::GaveUp { examined: 0 },
        };
        match walk {
            Walk::Found { slot, examined } => Some(Found {
                worker: WorkerId(slot as u32),
                key: self.data[slot].as_ref()?.keys[RankKey::Tight as usize],
                examined,
            }),
            Walk::NoFit => None,
            Walk::GaveUp { examined } => self.best(RankKey::Tight, shape).map(|f| Found {
                examined: examined + f.examined,
                ..f
            }),
        }
    }

    /// The first fitting worker at or after `from`, wrapping around.
    pub(crate) fn first_fit_from(&self, from: usize, shape: &Shape) -> Option<Found> {
        if self.leaves == 0 || !self.nodes[1].admits(shape) {
            return None;
        }
        let from = from.min(self.leaves);
        let mut examined = 0;
        let found = self
            .first_in(1, 0, self.leaves, from..self.leaves, shape, &mut examined)
            .or_else(|| self.first_in(1, 0, self.leaves, 0..from, shape, &mut examined));
        found.map(|slot| Found {
            worker: WorkerId(slot as u32),
            key: 0.0,
            examined,
        })
    }

    /// The first fitting slot within `range`, below `node` (which covers
    /// `start..start + width`).
    fn first_in(
        &self,
        node: usize,
        start: usize,
        width: usize,
        range: std::ops::Range<usize>,
        shape: &Shape,
        examined: &mut u32,
    ) -> Option<usize> {
        if start >= range.end || start + width <= range.start || !self.nodes[node].admits(shape) {
            return None;
        }
        if width == 1 {
            *examined += 1;
            return self.data[start]
                .as_ref()
                .filter(|d| Self::leaf_fits(d, shape))
                .map(|_| start);
        }
        let half = width / 2;
        self.first_in(2 * node, start, half, range.clone(), shape, examined)
            .or_else(|| self.first_in(2 * node + 1, start + half, half, range, shape, examined))
    }

    /// Every fitting worker, in id order (for the O(W) policies).
    pub fn fitting(&self, shape: &Shape) -> Vec<WorkerId> {
        let mut out = Vec::new();
        if self.leaves > 0 {
            self.collect(1, 0, self.leaves, shape, &mut out);
        }
        out
    }

    fn collect(
        &self,
        node: usize,
        start: usize,
        width: usize,
        shape: &Shape,
        out: &mut Vec<WorkerId>,
    ) {
        if !self.nodes[node].admits(shape) {
            return;
        }
        if width == 1 {
            if self.data[start]
                .as_ref()
                .is_some_and(|d| Self::leaf_fits(d, shape))
            {
                out.push(WorkerId(start as u32));
            }
            return;
        }
        let half = width / 2;
        self.collect(2 * node, start, half, shape, out);
        self.collect(2 * node + 1, start + half, half, shape, out);
    }

    /// The tally of `kind`, if the index keeps one.
    fn tally(&self, kind: TallyKind) -> Option<&Tally> {
        self.tallies.iter().find(|t| t.kind() == kind)
    }

    /// Draws among the workers of the smallest capacity class that holds
    /// every worker fitting `shape`, weighted by the tally of `kind`
    /// (`Count`: uniformly; `Idleness`: by idleness). `None` if the index
    /// keeps no such tally.
    pub fn sampler(&self, kind: TallyKind, shape: &Shape) -> Option<Sampler<'_>> {
        let tally = self.tally(kind)?;
        let class = tally::class_of(shape);
        let total = if self.leaves == 0 {
            0.0
        } else {
            tally.at(1, class)
        };
        Some(Sampler {
            tally,
            leaves: self.leaves,
            class,
            total,
        })
    }

    /// The exact leaf data of a worker, if it is in the index.
    pub fn leaf(&self, worker: WorkerId) -> Option<&LeafData> {
        self.data.get(worker.0 as usize).and_then(|d| d.as_ref())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::balancer::model::Backends;
    use crate::sim::{RngStreams, Stream};

    /// A worker's leaf; CUDA workers offer the CUDA backend too.
    pub(in crate::balancer) fn leaf(mem: u64, cuda: u32, cores: u32, score: f64) -> LeafData {
        LeafData {
            free_memory_mib: mem,
            free_cuda: cuda,
            free_cores: cores,
            backends: if cuda > 0 { 3 } else { 1 },
            keys: [score, -score, -(mem as f64), score / 2.0, -score],
        }
    }

    /// A test's shape; one that needs CUDA needs the CUDA backend.
    pub(in crate::balancer) fn shape(mem: u64, cuda: u32, cores: u32) -> Shape {
        Shape {
            memory_mib: mem,
            cuda_devices: cuda,
            cpu_cores: cores,
            backend: if cuda > 0 {
                Backends::CUDA
            } else {
                Backends::default()
            },
        }
    }

    #[test]
    fn best_skips_high_scorers_that_do_not_fit() {
        let mut t = FitTree::new();
        t.set(WorkerId(0), Some(leaf(1000, 0, 4, 0.9)));
        t.set(WorkerId(1), Some(leaf(8000, 2, 4, 0.5)));
        t.set(WorkerId(2), Some(leaf(8000, 0, 4, 0.7)));
        assert_eq!(
            t.best(RankKey::Performance, &shape(2000, 0, 1))
                .unwrap()
                .worker,
            WorkerId(2)
        );
        assert_eq!(
            t.best(RankKey::Performance, &shape(2000, 1, 1))
                .unwrap()
                .worker,
            WorkerId(1)
        );
        assert_eq!(
            t.best(RankKey::Performance, &shape(500, 0, 1))
                .unwrap()
                .worker,
            WorkerId(0)
        );
        assert_eq!(t.best(RankKey::Performance, &shape(500, 0, 5)), None);
        t.set(WorkerId(0), None);
        assert_eq!(
            t.best(RankKey::Performance, &shape(500, 0, 1))
                .unwrap()
                .worker,
            WorkerId(2)
        );
    }

    #[test]
    fn first_fit_wraps_around() {
        let mut t = FitTree::new();
        for i in 0..5 {
            t.set(
                WorkerId(i),
                Some(leaf(if i == 1 { 100 } else { 4000 }, 0, 4, 0.0)),
            );
        }
        assert_eq!(
            t.first_fit_from(1, &shape(1000, 0, 1)).unwrap().worker,
            WorkerId(2)
        );
        assert_eq!(
            t.first_fit_from(5, &shape(1000, 0, 1)).unwrap().worker,
            WorkerId(0)
        );
        assert_eq!(t.first_fit_from(1, &shape(5000, 0, 1)), None);
    }

    #[test]
    fn deferred_updates_flush_to_the_same_tree() {
        let mut rng = RngStreams::new(9).stream(Stream::Custom(2));
        let mut eager = FitTree::new();
        let mut lazy = FitTree::new();
        for round in 0..50 {
            lazy.defer();
            for _ in 0..40 {
                let w = WorkerId(rng.below(300) as u32);
                let d = Some(leaf(
                    rng.below(9) * 1000,
                    rng.below(3) as u32,
                    rng.below(5) as u32,
                    rng.unit(),
                ));
                eager.set(w, d);
                lazy.set(w, d);
            }
            lazy.flush();
            for _ in 0..20 {
                let s = shape(
                    rng.below(9) * 1000,
                    rng.below(3) as u32,
                    rng.below(3) as u32,
                );
                assert_eq!(
                    eager.best(RankKey::Performance, &s),
                    lazy.best(RankKey::Performance, &s),
                    "round {round}"
                );
                assert_eq!(
                    eager.best(RankKey::Tight, &s),
                    lazy.best(RankKey::Tight, &s),
                    "round {round}"
                );
            }
        }
    }

    /// The index must agree with a brute-force scan on random pools.
    /// The case the memory levels are for: the best-ranked workers are the
    /// small ones, spread through the pool. A search for a test only the
    /// big ones hold pops about two nodes a level with the bound, and
    /// nearly every subtree without it (ranking another key).
    #[test]
    fn a_big_test_is_not_led_through_small_well_ranked_workers() {
        let pops_for = |key: RankKey| {
            let mut t = FitTree::ranked_by(key);
            for i in 0..1024u32 {
                let small = i % 4 != 3;
                let mut d = leaf(if small { 3_600 } else { 30_000 }, 0, 2, 0.0);
                d.keys = [if small { 0.9 } else { 0.5 } - f64::from(i) * 1e-6; RANK_KEYS];
                t.set(WorkerId(i), Some(d));
            }
            let found = t.best(RankKey::Performance, &shape(8_192, 0, 1));
            assert_eq!(
                found.map(|f| f.worker),
                Some(WorkerId(3)),
                "the first big worker"
            );
            t.pops.get()
        };
        let (with, without) = (pops_for(RankKey::Performance), pops_for(RankKey::Idle));
        assert!(with <= 2 * 11 + 1, "{with} pops with the memory levels");
        assert!(without > 500, "{without} pops without them");
    }

    #[test]
    fn memory_levels() {
        assert_eq!(mem_level(0), None);
        assert_eq!(mem_level(1023), None);
        assert_eq!(mem_level(1024), Some(0));
        assert_eq!(mem_level(2047), Some(0));
        assert_eq!(mem_level(2048), Some(1));
        assert_eq!(mem_level(8192), Some(3));
        assert_eq!(mem_level(u64::MAX), Some(MEM_LEVELS - 1));
    }

    /// The ranked key's per-memory-level bound and a tally's per-class
    /// bound prune, never mislead: on pools whose best-ranked workers are
    /// the small ones (the case they are for), searches by the ranked key,
    /// by a tallied key and by another agree with a scan, ties to the
    /// lowest id, whatever key is ranked, with the tally kept from the
    /// start or added once the workers are in.
    #[test]
    fn the_memory_level_bound_agrees_with_a_scan() {
        let mut rng = RngStreams::new(8).stream(Stream::Custom(3));
        for round in 0..150 {
            let ranked = [RankKey::Idle, RankKey::Performance, RankKey::Speed][round % 3];
            let tallied = TallyKind::MaxKey(RankKey::Balanced);
            let mut t = FitTree::ranked_by(ranked);
            if round % 2 == 0 {
                t = t.with_tally(tallied);
            }
            let n = 1 + rng.below(90) as u32;
            let mut all = Vec::new();
            for i in 0..n {
                let mem = [0, 500, 1024, 3600, 4096, 8192, 20_000, 40_000][rng.below(8) as usize];
                let d = (!rng.chance(0.1)).then(|| {
                    let mut d = leaf(mem, rng.below(3) as u32, rng.below(3) as u32, 0.0);
                    // Small workers rank best; a few keys repeat exactly.
                    for k in &mut d.keys {
                        *k = (rng.below(3) as f64 / 3.0) - mem as f64 / 50_000.0;
                    }
                    d
                });
                t.set(WorkerId(i), d);
                all.push(d);
            }
            if round % 2 == 1 {
                t = t.with_tally(tallied);
            }
            for _ in 0..20 {
                let mem = [0, 900, 1024, 4096, 5000, 8192, 30_000][rng.below(7) as usize];
                let s = shape(mem, rng.below(3) as u32, rng.below(3) as u32);
                for key in [ranked, RankKey::Balanced, RankKey::Tight] {
                    let k = key as usize;
                    let want = all
                        .iter()
                        .enumerate()
                        .filter_map(|(i, d)| d.filter(|d| d.fits(&s)).map(|d| (i, d.keys[k])))
                        .fold(None, |acc: Option<(usize, f64)>, (i, v)| match acc {
                            Some((_, bv)) if bv >= v => acc,
                            _ => Some((i, v)),
                        });
                    let got = t.best(key, &s).map(|f| (f.worker.0 as usize, f.key));
                    assert_eq!(got, want, "round {round}, key {key:?}");
                }
            }
        }
    }

    #[test]
    fn agrees_with_linear_scan() {
        let mut rng = RngStreams::new(3).stream(Stream::Custom(1));
        for round in 0..200 {
            let n = 1 + rng.below(70) as u32;
            let mut t = FitTree::new();
            let mut all = Vec::new();
            for i in 0..n {
                let d = if rng.chance(0.1) {
                    None
                } else {
                    // Coarse scores force ties.
                    Some(leaf(
                        rng.below(9) * 1000,
                        rng.below(10) as u32,
                        rng.below(5) as u32,
                        rng.below(4) as f64 / 4.0,
                    ))
                };
                t.set(WorkerId(i), d);
                all.push(d);
            }
            for _ in 0..20 {
                let s = shape(
                    rng.below(9) * 1000,
                    rng.below(10) as u32,
                    rng.below(4) as u32,
                );
                let fits = |d: &LeafData| FitTree::leaf_fits(d, &s);
                let want = all
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| d.filter(fits).map(|d| (i, d.keys[0])))
                    .fold(None, |acc: Option<(usize, f64)>, (i, k)| match acc {
                        Some((_, bk)) if bk >= k => acc,
                        _ => Some((i, k)),
                    });
                let got = t
                    .best(RankKey::Performance, &s)
                    .map(|f| (f.worker.0 as usize, f.key));
                assert_eq!(got, want, "round {round}");
                let listed: Vec<usize> = t.fitting(&s).iter().map(|w| w.0 as usize).collect();
                let want_list: Vec<usize> = all
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.is_some_and(|d| fits(&d)))
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(listed, want_list);
                let from = rng.below(u64::from(n) + 1) as usize;
                let want_first = want_list
                    .iter()
                    .find(|&&i| i >= from)
                    .or(want_list.first())
                    .copied();
                assert_eq!(
                    t.first_fit_from(from, &s).map(|f| f.worker.0 as usize),
                    want_first
                );
            }
        }
    }

    /// Uniform and weighted draws through the tallies agree with a linear
    /// scan, in id order, of the leaves in the test's capacity class, on
    /// random pools, after eager and deferred updates alike; and the class
    /// holds every worker that fits.
    #[test]
    fn draws_agree_with_a_linear_scan() {
        let mut rng = RngStreams::new(5).stream(Stream::Custom(4));
        for round in 0..100 {
            let n = 1 + rng.below(90) as u32;
            let mut t = FitTree::new()
                .with_tally(TallyKind::Count)
                .with_tally(TallyKind::Idleness);
            let mut all = vec![None; n as usize];
            if round % 2 == 1 {
                t.defer();
            }
            for _ in 0..3 * n {
                let w = rng.below(u64::from(n)) as usize;
                let d = (!rng.chance(0.3)).then(|| {
                    let mut d = random_leaf(&mut rng);
                    d.keys[RankKey::Idle as usize] = 0.1 + rng.below(10) as f64 / 10.0;
                    d
                });
                t.set(WorkerId(w as u32), d);
                all[w] = d;
            }
            t.flush();
            for _ in 0..10 {
                let s = random_shape(&mut rng);
                let class = tally::class_of(&s);
                let members: Vec<usize> = (0..all.len())
                    .filter(|&i| all[i].is_some_and(|d| tally::classes_of(&d)[class]))
                    .collect();
                assert!(
                    (0..all.len())
                        .all(|i| !all[i].is_some_and(|d| d.fits(&s)) || members.contains(&i)),
                    "round {round}: a fitting worker outside the class"
                );
                let uniform = t.sampler(TallyKind::Count, &s).unwrap();
                assert_eq!(uniform.total(), members.len() as f64, "round {round}");
                for (k, &slot) in members.iter().enumerate() {
                    assert_eq!(uniform.draw(k as f64), Some(WorkerId(slot as u32)));
                }
                let weights: Vec<f64> = all
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        d.filter(|_| members.contains(&i))
                            .map_or(0.0, |d| d.idleness())
                    })
                    .collect();
                let weighted = t.sampler(TallyKind::Idleness, &s).unwrap();
                let total: f64 = weights.iter().sum();
                assert!((weighted.total() - total).abs() < 1e-9, "round {round}");
                for _ in 0..20 {
                    let r = rng.unit() * weighted.total();
                    let Some(got) = weighted.draw(r) else {
                        continue;
                    };
                    let slot = got.0 as usize;
                    let before: f64 = weights[..slot].iter().sum();
                    assert!(weights[slot] > 0.0, "round {round}: drew outside the class");
                    assert!(
                        before - 1e-9 <= r && r < before + weights[slot] + 1e-9,
                        "round {round}: r {r} outside slot {slot}'s [{before}, +{})",
                        weights[slot]
                    );
                }
            }
            assert!(t
                .sampler(TallyKind::MaxKey(RankKey::Idle), &shape(0, 0, 1))
                .is_none());
        }
    }

    /// A worker of any shape the memory order must tell apart: CUDA past
    /// the top tracked level, backends a test may lack, no free core, and
    /// memory in coarse steps so ties are common.
    fn random_leaf(rng: &mut crate::sim::SimRng) -> LeafData {
        let mem = rng.below(12) * 512;
        let mut d = leaf(mem, rng.below(8) as u32, rng.below(4) as u32, rng.unit());
        d.backends = *rng.choose(&[1, 2, 3, 4, 5, 7]);
        d
    }

    fn random_shape(rng: &mut crate::sim::SimRng) -> Shape {
        let mut s = shape(
            rng.below(12) * 512,
            rng.below(8) as u32,
            rng.below(4) as u32,
        );
        s.backend = Backends(*rng.choose(&[0, 1, 2, 4, 3]));
        s
    }

    /// The least free memory among fitting workers, lowest id on ties, by
    /// a scan of every worker.
    fn tightest_by_scan(all: &[Option<LeafData>], s: &Shape) -> Option<(usize, f64)> {
        all.iter()
            .enumerate()
            .filter_map(|(i, d)| d.filter(|d| d.fits(s)).map(|d| (i, d)))
            .min_by_key(|(i, d)| (d.free_memory_mib, *i))
            .map(|(i, d)| (i, d.keys[RankKey::Tight as usize]))
    }

    /// `tightest` with the memory order agrees with a scan and with the
    /// branch and bound (worker and key), through random joins, updates
    /// and leaves, eager and deferred, with the order tracked from the
    /// start or switched on mid-run.
    #[test]
    fn tightest_agrees_with_a_scan_and_the_branch_and_bound() {
        let mut rng = RngStreams::new(14).stream(Stream::Custom(5));
        for round in 0..120 {
            let n = 1 + rng.below(150) as usize;
            let mut t = FitTree::new();
            let late = round % 3 == 2;
            if !late {
                t.track_memory_order();
            }
            let mut all = vec![None; n];
            for step in 0..6 {
                if late && step == 3 {
                    t.track_memory_order();
                }
                let deferred = rng.chance(0.5);
                if deferred {
                    t.defer();
                }
                for _ in 0..n {
                    let w = rng.below(n as u64) as usize;
                    let d = (!rng.chance(0.2)).then(|| random_leaf(&mut rng));
                    t.set(WorkerId(w as u32), d);
                    all[w] = d;
                }
                if deferred {
                    t.flush();
                }
                for _ in 0..30 {
                    let s = random_shape(&mut rng);
                    let want = tightest_by_scan(&all, &s);
                    let got = t.tightest(&s).map(|f| (f.worker.0 as usize, f.key));
                    assert_eq!(got, want, "round {round} step {step} {s:?}");
                    let tree = t.best(RankKey::Tight, &s);
                    assert_eq!(tree.map(|f| (f.worker.0 as usize, f.key)), want);
                }
            }
        }
    }

    /// An idle pool of mixed sizes: the walk goes straight to the one
    /// tight worker. (The branch and bound agrees, after opening every
    /// subtree that holds both a small worker, a better key, and a roomy
    /// one; it counts only the leaves it reaches, so its cost is not
    /// compared here.)
    #[test]
    fn the_walk_skips_workers_too_small() {
        let mut t = FitTree::new();
        t.track_memory_order();
        for i in 0..1024 {
            let mem = [8_000, 64_000, 32_000, 8_000][i % 4];
            let mem = if i == 700 { 16_000 } else { mem };
            t.set(WorkerId(i as u32), Some(leaf(mem, 0, 4, 0.5)));
        }
        let s = shape(12_000, 0, 1);
        let walk = t.tightest(&s).unwrap();
        let tree = t.best(RankKey::Tight, &s).unwrap();
        assert_eq!((walk.worker, walk.key), (WorkerId(700), -16_000.0));
        assert_eq!((tree.worker, tree.key), (walk.worker, walk.key));
        assert_eq!(walk.examined, 1);
    }

    /// Roomy workers short of cores or of the backend are skipped one by
    /// one; past the budget the branch and bound finishes the search and
    /// both counts are reported.
    #[test]
    fn a_long_walk_hands_over_to_the_branch_and_bound() {
        let mut t = FitTree::new();
        t.track_memory_order();
        for i in 0..200 {
            // One free core each: a two-core test fits none of these.
            t.set(WorkerId(i), Some(leaf(10_000 + u64::from(i), 0, 1, 0.5)));
        }
        t.set(WorkerId(200), Some(leaf(50_000, 0, 2, 0.5)));
        let s = shape(1_000, 0, 2);
        let found = t.tightest(&s).unwrap();
        assert_eq!(found.worker, WorkerId(200));
        assert!(found.examined > WALK_BUDGET, "{found:?}");
        // A CUDA test on CPU-only workers: none of them is in its level.
        assert_eq!(t.tightest(&shape(1_000, 1, 1)), None);
        // A test needing no core goes to the branch and bound, which finds
        // the full worker the walk's levels leave out.
        t.set(WorkerId(201), Some(leaf(2_000, 0, 0, 0.5)));
        let zero = t.tightest(&shape(1_000, 0, 0)).unwrap();
        assert_eq!(zero.worker, WorkerId(201));
        assert_eq!(Some(zero), t.best(RankKey::Tight, &shape(1_000, 0, 0)));
    }
}
