//! Decision agreement: each live assignment (a test and which of its
//! assignments it is) set beside the replay's, counted when both put the
//! test on the same worker; the first that differs is explained by what
//! the two runs looked like at that moment.

use serde::Serialize;
use std::collections::BTreeMap;

/// One assignment: when, which test (its place in the recording), which
/// worker (its place in join order).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Placed {
    pub(crate) t: f64,
    pub(crate) test: usize,
    pub(crate) worker: usize,
}

/// Who ran what when: every run as (worker, test, start, end).
#[derive(Clone, Debug, Default)]
pub(crate) struct Spans(pub Vec<(usize, usize, f64, f64)>);

impl Spans {
    /// Runs on `worker` that started before `t` and had not ended by it.
    pub(crate) fn running(&self, worker: usize, t: f64) -> usize {
        (self.0.iter())
            .filter(|&&(w, _, s, e)| w == worker && s < t && e > t)
            .count()
    }

    /// The end of `test`'s run on `worker` that started before `t`.
    fn end_of(&self, worker: usize, test: usize, t: f64) -> Option<f64> {
        (self.0.iter())
            .filter(|&&(w, k, s, _)| w == worker && k == test && s < t)
            .map(|&(_, _, _, e)| e)
            .next_back()
    }

    /// A run on `worker` going at `t` on one side and not the other (the
    /// test being placed aside): (test, its end here, its end on the other
    /// side, `None` when it did not run there on the other side).
    fn odd_run(
        &self,
        other: &Spans,
        worker: usize,
        t: f64,
        placing: usize,
    ) -> Option<(usize, f64, Option<f64>)> {
        (self.0.iter())
            .filter(|&&(w, k, s, _)| w == worker && k != placing && s < t)
            .find_map(|&(_, k, _, e)| {
                let o = other.end_of(worker, k, t);
                ((e > t) != o.is_some_and(|o| o > t)).then_some((k, e, o))
            })
    }
}

/// Where one side put the test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Placement {
    pub(crate) t: f64,
    pub(crate) worker: String,
}

/// The first live decision the replay did not repeat, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Divergence {
    /// 1-based, in the live decisions' order.
    pub(crate) index: u64,
    pub(crate) test: String,
    /// Which assignment of the test it is (1: its first).
    pub(crate) assignment: u32,
    pub(crate) live: Placement,
    /// `null` when the replay never assigned it that often.
    pub(crate) replay: Option<Placement>,
    pub(crate) why: String,
}

/// The decisions compared.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Agreement {
    pub(crate) live: u64,
    pub(crate) replayed: u64,
    /// Live decisions the replay also placed on the same worker.
    pub(crate) same_worker: u64,
    /// `same_worker` as a share of the live decisions, percent.
    pub(crate) agreement_pct: f64,
    pub(crate) first_divergence: Option<Divergence>,
}

/// Decisions keyed by (test, n-th assignment of it).
fn keyed(ds: &[Placed]) -> BTreeMap<(usize, u32), Placed> {
    let mut seen: BTreeMap<usize, u32> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for d in ds {
        let n = seen.entry(d.test).or_insert(0);
        *n += 1;
        out.insert((d.test, *n), *d);
    }
    out
}

fn test_name(k: usize) -> String {
    format!("test-{k:06}")
}

fn worker_name(k: usize) -> String {
    format!("worker-{k:04}")
}

/// Compares the decisions; `live_spans` and `replay_spans` explain the
/// first divergence.
pub(crate) fn compare(
    live: &[Placed],
    replay: &[Placed],
    live_spans: &Spans,
    replay_spans: &Spans,
) -> Agreement {
    let kr = keyed(replay);
    let mut nth: BTreeMap<usize, u32> = BTreeMap::new();
    let mut same = 0u64;
    let mut first = None;
    for (i, d) in live.iter().enumerate() {
        let n = nth.entry(d.test).or_insert(0);
        *n += 1;
        let r = kr.get(&(d.test, *n));
        if r.is_some_and(|r| r.worker == d.worker) {
            same += 1;
        } else if first.is_none() {
            first = Some(Divergence {
                index: i as u64 + 1,
                test: test_name(d.test),
                assignment: *n,
                live: Placement {
                    t: round6(d.t),
                    worker: worker_name(d.worker),
                },
                replay: r.map(|r| Placement {
                    t: round6(r.t),
                    worker: worker_name(r.worker),
                }),
                why: why(d, r, live_spans, replay_spans),
            });
        }
    }
    let pct = if live.is_empty() {
        100.0
    } else {
        round6(same as f64 / live.len() as f64 * 100.0)
    };
    Agreement {
        live: live.len() as u64,
        replayed: replay.len() as u64,
        same_worker: same,
        agreement_pct: pct,
        first_divergence: first,
    }
}

/// What differed at the divergence: when each side decided, and how busy
/// the two workers were on each side.
fn why(d: &Placed, r: Option<&Placed>, live: &Spans, replay: &Spans) -> String {
    let Some(r) = r else {
        return "the replay never made this assignment (the test ended, or stayed pending)"
            .to_string();
    };
    let mut parts = Vec::new();
    let dt = r.t - d.t;
    if dt.abs() >= 0.0005 {
        let side = if dt < 0.0 { "earlier" } else { "later" };
        parts.push(format!("the replay decided {:.3} s {side}", dt.abs()));
    }
    let busy = |w: usize| (live.running(w, d.t), replay.running(w, d.t));
    let (a, b) = (busy(d.worker), busy(r.worker));
    if a.0 != a.1 || b.0 != b.1 {
        parts.push(format!(
            "at t={:.3} s, runs on {}: {} live, {} in the replay; on {}: {} live, {} in the replay",
            d.t,
            worker_name(d.worker),
            a.0,
            a.1,
            worker_name(r.worker),
            b.0,
            b.1
        ));
        let w = if a.0 != a.1 { d.worker } else { r.worker };
        let end = |e: Option<f64>| {
            e.map_or("did not run there".to_string(), |e| {
                format!("ended at t={e:.3} s")
            })
        };
        let odd = (live.odd_run(replay, w, d.t, d.test))
            .map(|(k, l, rp)| (k, end(Some(l)), end(rp)))
            .or_else(|| {
                (replay.odd_run(live, w, d.t, d.test)).map(|(k, rp, l)| (k, end(l), end(Some(rp))))
            });
        if let Some((k, l, rp)) = odd {
            parts.push(format!(
                "{} on {} {l} live and {rp} in the replay",
                test_name(k),
                worker_name(w)
            ));
        }
    }
    if parts.is_empty() {
        return format!(
            "{} and {} were equally busy on both sides: a tie broken differently, or the \
             policy's memory of earlier placements",
            worker_name(d.worker),
            worker_name(r.worker)
        );
    }
    parts.join("; ")
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: f64, test: usize, worker: usize) -> Placed {
        Placed { t, test, worker }
    }

    #[test]
    fn the_first_moved_decision_is_found_and_explained() {
        let live = [p(0.0, 0, 0), p(1.0, 1, 1), p(2.0, 2, 0)];
        let replay = [p(0.0, 0, 0), p(1.0, 1, 0), p(2.0, 2, 0)];
        let live_spans = Spans(vec![(0, 0, 0.0, 1.5), (1, 1, 1.0, 2.0), (0, 2, 2.0, 3.0)]);
        let replay_spans = Spans(vec![(0, 0, 0.0, 0.5), (0, 1, 1.0, 2.0), (0, 2, 2.0, 3.0)]);
        let a = compare(&live, &replay, &live_spans, &replay_spans);
        assert_eq!((a.same_worker, a.live), (2, 3));
        assert!((a.agreement_pct - 66.666667).abs() < 1e-9);
        let f = a.first_divergence.unwrap();
        assert_eq!((f.index, f.test.as_str()), (2, "test-000001"));
        assert_eq!(f.live.worker, "worker-0001");
        assert_eq!(f.replay.unwrap().worker, "worker-0000");
        // Live, test 0 still ran on worker 0 at t=1; in the replay it had ended.
        assert!(
            f.why.contains("on worker-0000: 1 live, 0 in the replay"),
            "{}",
            f.why
        );
        assert!(
            f.why.contains(
                "test-000000 on worker-0000 ended at t=1.500 s live and ended at t=0.500 s"
            ),
            "{}",
            f.why
        );
    }

    #[test]
    fn identical_decisions_agree_fully() {
        let live = [p(0.0, 0, 0), p(1.0, 0, 1)];
        let a = compare(&live, &live, &Spans::default(), &Spans::default());
        assert_eq!((a.same_worker, a.agreement_pct), (2, 100.0));
        assert_eq!(a.first_divergence, None);
        let a = compare(&live, &live[..1], &Spans::default(), &Spans::default());
        assert_eq!(a.same_worker, 1);
        assert!(a.first_divergence.unwrap().why.contains("never made"));
    }
}
