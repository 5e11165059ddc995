//! `power_of_two`: two random fitting workers, take the less loaded.

use super::{Choice, ClusterView, Policy, Request};
use crate::balancer::model::WorkerId;
use crate::balancer::tally::TallyKind;
use crate::sim::SimRng;

/// Random probes before falling back to listing the fitting workers.
const PROBES: usize = 16;

/// The power of two choices (Mitzenmacher): draw two distinct fitting workers
/// uniformly and keep the one with the lower effective load (lower id on
/// ties). Sampling is by rejection through the index's counts, among the
/// smallest capacity class holding every fitting worker: O(log W) a draw,
/// O(1) draws expected while a fair share of that class fits; after
/// `PROBES` misses it lists the fitting workers (O(W)), so the draw stays
/// uniform over them either way.
#[derive(Clone, Copy, Debug, Default)]
pub struct PowerOfTwo;

fn two_fitting(req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> (Vec<WorkerId>, u32) {
    let index = cluster.index();
    let mut picked: Vec<WorkerId> = Vec::with_capacity(2);
    if let Some(class) = index.sampler(TallyKind::Count, &req.shape) {
        let n = class.total() as u64;
        for probe in 0..PROBES {
            let Some(w) = class.draw(rng.below(n) as f64) else {
                continue;
            };
            if !picked.contains(&w) && index.leaf(w).is_some_and(|d| d.fits(&req.shape)) {
                picked.push(w);
                if picked.len() == 2 {
                    return (picked, probe as u32 + 1);
                }
            }
        }
    }
    let fitting = cluster.fitting(&req.shape);
    let n = fitting.len() as u32;
    if fitting.len() <= 2 {
        return (fitting, PROBES as u32 + n);
    }
    // Keep a probe hit if there was one; draw the other among the rest.
    let first = picked
        .first()
        .copied()
        .unwrap_or_else(|| *rng.choose(&fitting));
    let rest: Vec<WorkerId> = fitting.into_iter().filter(|&w| w != first).collect();
    (vec![first, *rng.choose(&rest)], PROBES as u32 + n)
}

impl Policy for PowerOfTwo {
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice> {
        // A request nothing fits costs an O(log W) index look-up, not sixteen
        // draws and a scan of the pool; and it leaves the random stream where
        // it was, so whether the balancer asks a doomed question or not never
        // changes later choices.
        cluster.index().first_fit_from(0, &req.shape)?;
        let (pair, examined) = two_fitting(req, cluster, rng);
        let load = |w: WorkerId| cluster.worker(w).effective_load();
        let best = pair
            .iter()
            .copied()
            .min_by(|&a, &b| load(a).total_cmp(&load(b)).then(a.cmp(&b)))?;
        Some(Choice {
            worker: best,
            score: 1.0 - load(best),
            candidates: examined,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{request, spec, test, Cluster};
    use super::*;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn of_two_fitting_workers_takes_the_less_loaded() {
        // Only workers 1 and 3 fit a CUDA test; worker 3 is busier.
        let mut c = Cluster::new(vec![spec(8, 0), spec(8, 1), spec(8, 0), spec(8, 1)]);
        c.workers[3].drift.cpu = 0.5;
        c.reindex();
        let mut rng = RngStreams::new(1).stream(Stream::Policy);
        let t = test(1, 1);
        for _ in 0..30 {
            let ch = PowerOfTwo
                .select(&request(&t), &c.view(), &mut rng)
                .unwrap();
            assert_eq!(ch.worker, WorkerId(1));
        }
        // Of all four, the busy one can only win if drawn with itself: never.
        let any = test(1, 0);
        for _ in 0..100 {
            let ch = PowerOfTwo
                .select(&request(&any), &c.view(), &mut rng)
                .unwrap();
            assert_ne!(ch.worker, WorkerId(3));
        }
        // A single fitting worker is chosen; none gives None.
        c.workers[1].used_cuda = 1;
        c.reindex();
        let one = PowerOfTwo
            .select(&request(&t), &c.view(), &mut rng)
            .unwrap();
        assert_eq!(one.worker, WorkerId(3));
        c.workers[3].used_cuda = 1;
        c.reindex();
        assert!(PowerOfTwo
            .select(&request(&t), &c.view(), &mut rng)
            .is_none());
    }
}
