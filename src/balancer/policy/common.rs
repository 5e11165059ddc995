//! Pieces several policies share: history scores, argmax over a candidate
//! list, and the weighted random pick by idleness.

use super::{Choice, ClusterView};
use crate::balancer::model::WorkerId;
use crate::balancer::worker::History;
use crate::sim::SimRng;

/// Success rate and time score of a history, or `None` with no samples.
/// `time_score = clamp01(1 − (actual/expected − 1)/3)`, as in the reference.
pub fn history_parts(h: &History) -> Option<(f64, f64)> {
    if h.samples == 0 {
        return None;
    }
    let success = h.successes as f64 / h.samples as f64;
    let time = if h.successes == 0 {
        0.0
    } else {
        (1.0 - (h.mean_time_ratio - 1.0) / 3.0).clamp(0.0, 1.0)
    };
    Some((success, time))
}

/// The candidate with the largest score; ties go to the first (lowest id,
/// since candidate lists are in id order).
pub fn argmax(candidates: &[WorkerId], mut score: impl FnMut(WorkerId) -> f64) -> Option<Choice> {
    let mut best: Option<(WorkerId, f64)> = None;
    for &w in candidates {
        let s = score(w);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((w, s));
        }
    }
    best.map(|(worker, score)| Choice {
        worker,
        score,
        candidates: candidates.len() as u32,
    })
}

/// Weighted random choice with weight `1 − effective load` (the reference's
/// "weighted round robin", which is really weighted random). If every weight
/// is zero, the last candidate, as the reference falls back.
pub fn weighted_by_idleness(
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

    #[test]
    fn argmax_breaks_ties_by_order() {
        let ids = [WorkerId(2), WorkerId(5), WorkerId(7)];
        let c = argmax(&ids, |w| if w.0 == 7 { 0.5 } else { 1.0 }).unwrap();
        assert_eq!((c.worker, c.score, c.candidates), (WorkerId(2), 1.0, 3));
    }
}
