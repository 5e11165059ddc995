//! Pieces several policies share: argmax over a candidate list, and the
//! random picks (uniform, and weighted by idleness) through the index.

use super::{Choice, ClusterView, Request};
use crate::balancer::index::FitTree;
use crate::balancer::model::WorkerId;
use crate::balancer::tally::TallyKind;
use crate::sim::SimRng;

/// Draws through the index before falling back to listing the fitting
/// workers.
pub(super) const PROBES: u32 = 16;

/// Rejection sampling through the index: `propose` draws a worker among
/// the smallest capacity class holding every worker that fits (uniformly,
/// or weighted by idleness; see [`crate::balancer::tally`]), and the first
/// that fits the test wins. Accepted draws follow the proposal's law
/// restricted to the fitting workers, which is exactly the law the policy
/// wants; O(log W) a draw and O(1) draws expected while a fair share of
/// the class's workers fits. Returns the worker and the draws made, or
/// `Err` after `PROBES` misses (or with no tally to draw through).
fn draw_fitting(
    req: &Request,
    index: &FitTree,
    mut propose: impl FnMut() -> Option<WorkerId>,
) -> Result<(WorkerId, u32), ()> {
    for probe in 1..=PROBES {
        if let Some(w) = propose() {
            if index.leaf(w).is_some_and(|d| d.fits(&req.shape)) {
                return Ok((w, probe));
            }
        }
    }
    Err(())
}

/// A uniformly random fitting worker: drawn through the index, or after
/// `PROBES` misses from the list of fitting workers (O(W)), so the law is
/// uniform over them either way. Nothing fitting: `None`, with no draw.
pub(super) fn uniform_fitting(
    req: &Request,
    cluster: &ClusterView,
    rng: &mut SimRng,
) -> Option<Choice> {
    let index = cluster.index();
    index.first_fit_from(0, &req.shape)?;
    let drawn = index
        .sampler(TallyKind::Count, &req.shape)
        .ok_or(())
        .and_then(|class| {
            let n = class.total() as u64;
            draw_fitting(req, index, || class.draw(rng.below(n) as f64))
        });
    let (worker, candidates) = match drawn {
        Ok(found) => found,
        Err(()) => {
            let fitting = cluster.fitting(&req.shape);
            (*rng.choose(&fitting), PROBES + fitting.len() as u32)
        }
    };
    Some(Choice {
        worker,
        score: 0.0,
        candidates,
    })
}

/// A fitting worker drawn with weight `1 − effective load` through the
/// index, or after `PROBES` misses by [`weighted_by_idleness`] over the
/// list of fitting workers (O(W)): the same law either way. Nothing
/// fitting: `None`, with no draw.
pub(super) fn weighted_fitting(
    req: &Request,
    cluster: &ClusterView,
    rng: &mut SimRng,
) -> Option<Choice> {
    let index = cluster.index();
    index.first_fit_from(0, &req.shape)?;
    let drawn = index
        .sampler(TallyKind::Idleness, &req.shape)
        .ok_or(())
        .and_then(|class| {
            let total = class.total();
            draw_fitting(req, index, || class.draw(rng.unit() * total))
        });
    match drawn {
        Ok((worker, candidates)) => Some(Choice {
            worker,
            score: index.leaf(worker).map_or(0.0, |d| d.idleness()),
            candidates,
        }),
        Err(()) => {
            weighted_by_idleness(&cluster.fitting(&req.shape), cluster, rng).map(|c| Choice {
                candidates: c.candidates + PROBES,
                ..c
            })
        }
    }
}

/// Weighted random choice with weight `1 − effective load` (the reference's
/// "weighted round robin", which is really weighted random). If every weight
/// is zero, the last candidate, as the reference falls back.
pub(super) fn weighted_by_idleness(
    candidates: &[WorkerId],
    cluster: &ClusterView,
    rng: &mut SimRng,
) -> Option<Choice> {
    let weights: Vec<f64> = candidates
        .iter()
        .map(|&w| (1.0 - cluster.worker(w).effective_load()).max(0.0))
        .collect();
    let total: f64 = weights.iter().sum();
    let n = candidates.len() as u32;
    let last = *candidates.last()?;
    if total <= 0.0 {
        return Some(Choice {
            worker: last,
            score: 0.0,
            candidates: n,
        });
    }
    let r = rng.unit() * total;
    let mut cumulative = 0.0;
    for (&w, &weight) in candidates.iter().zip(&weights) {
        cumulative += weight;
        if r < cumulative {
            return Some(Choice {
                worker: w,
                score: weight,
                candidates: n,
            });
        }
    }
    // Rounding left r at the very top: the last worker with a weight.
    let (w, weight) = candidates
        .iter()
        .zip(&weights)
        .rev()
        .find(|(_, &x)| x > 0.0)
        .map(|(&w, &x)| (w, x))
        .unwrap_or((last, 0.0));
    Some(Choice {
        worker: w,
        score: weight,
        candidates: n,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{spec, Cluster};
    use super::*;
    use crate::sim::{RngStreams, Stream};

    #[test]
    fn weighted_pick_follows_idleness() {
        let mut c = Cluster::new(vec![spec(8, 0), spec(8, 0)]);
        // Worker 0 fully busy on every resource but I/O and network: load 0.8.
        c.workers[0].drift.cpu = 1.0;
        c.workers[0].drift.memory = 1.0;
        c.workers[0].drift.gpu = 1.0;
        c.reindex();
        let ids = [WorkerId(0), WorkerId(1)];
        let mut rng = RngStreams::new(3).stream(Stream::Policy);
        let mut hits = [0u32; 2];
        for _ in 0..6000 {
            let w = weighted_by_idleness(&ids, &c.view(), &mut rng).unwrap();
            hits[w.worker.0 as usize] += 1;
        }
        // Weights 0.2 and 1.0: worker 0 gets about 1/6 of the picks.
        assert!((800..1200).contains(&hits[0]), "{hits:?}");
        assert!(weighted_by_idleness(&[], &c.view(), &mut rng).is_none());
    }

    /// The draws through the index follow the law of the old list-based
    /// picks: uniform, or proportional to idleness, over the fitting
    /// workers only (chi-square-free check: each frequency within 15 % of
    /// its expectation over 20,000 draws), and a request nothing fits
    /// draws nothing.
    #[test]
    fn index_draws_follow_the_laws_over_fitting_workers_only() {
        use super::super::testkit::{request, test};
        // Workers 0-3 hold 16 GB, 4-7 hold 4 GB; loads 0, 0.2, 0.4, 0.6.
        let specs = (0..8)
            .map(|i| spec(if i < 4 { 16 } else { 4 }, 0))
            .collect();
        let mut c = Cluster::new(specs);
        for (i, w) in c.workers.iter_mut().enumerate() {
            w.drift.cpu = (i % 4) as f64 / 3.0;
            w.drift.memory = (i % 4) as f64 / 3.0;
        }
        c.reindex();
        let idle: Vec<f64> = c.workers.iter().map(|w| 1.0 - w.effective_load()).collect();
        // 6 GB: the 4 GB workers are in the test's capacity class (4 GiB
        // free and a core) but do not fit, so draws are rejected within it.
        let t = test(6, 0);
        let req = request(&t);
        let mut rng = RngStreams::new(11).stream(Stream::Policy);
        let draws = 20_000;
        let (mut uniform, mut weighted, mut redrawn) = ([0u32; 8], [0u32; 8], 0);
        for _ in 0..draws {
            let u = uniform_fitting(&req, &c.view(), &mut rng).unwrap();
            uniform[u.worker.0 as usize] += 1;
            let w = weighted_fitting(&req, &c.view(), &mut rng).unwrap();
            assert_eq!(w.score, idle[w.worker.0 as usize]);
            weighted[w.worker.0 as usize] += 1;
            redrawn += u32::from(u.candidates > 1) + u32::from(w.candidates > 1);
        }
        assert!(
            redrawn > draws / 4,
            "rejection was not exercised: {redrawn}"
        );
        let fitting_idle: f64 = idle[..4].iter().sum();
        for i in 0..8 {
            let (want_u, want_w) = if i < 4 {
                (draws as f64 / 4.0, draws as f64 * idle[i] / fitting_idle)
            } else {
                (0.0, 0.0)
            };
            for (got, want) in [(uniform[i], want_u), (weighted[i], want_w)] {
                assert!(
                    (f64::from(got) - want).abs() <= 0.15 * want,
                    "{i}: {uniform:?} {weighted:?}"
                );
            }
        }
        let big = test(64, 0);
        let before = rng.clone().next_u64();
        assert!(uniform_fitting(&request(&big), &c.view(), &mut rng).is_none());
        assert!(weighted_fitting(&request(&big), &c.view(), &mut rng).is_none());
        assert_eq!(rng.next_u64(), before, "a doomed request draws nothing");
    }
}
