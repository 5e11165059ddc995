//! The search for the smallest pool that meets the targets: doubling from
//! `--min` until a pool meets them (or `--max` does not), then bisection
//! between the last pool that missed and the first that met.
//!
//! The search assumes that meeting is monotone in the pool (a pool that
//! meets, any larger one meets too); it never relies on that silently:
//! [`first_reversal`] reports where the evaluated points say otherwise.

use super::targets::Direction;
use serde::Serialize;

/// Where one policy's search stands.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Search {
    min: u32,
    max: u32,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Doubling: `probe` is next; `missed` the last pool that missed.
    Bracket { probe: u32, missed: Option<u32> },
    /// `lo` missed, `hi` met; the answer lies in (lo, hi].
    Bisect { lo: u32, hi: u32 },
    /// The answer, or `None`: not even `max` meets.
    Done(Option<u32>),
}

impl Search {
    /// A search over `min..=max` (`1 <= min <= max`).
    pub(crate) fn new(min: u32, max: u32) -> Search {
        Search {
            min,
            max,
            state: State::Bracket {
                probe: min,
                missed: None,
            },
        }
    }

    /// The pool to evaluate next; `None` once the answer is known.
    pub(crate) fn next(&self) -> Option<u32> {
        match self.state {
            State::Bracket { probe, .. } => Some(probe),
            State::Bisect { lo, hi } => Some(lo + (hi - lo) / 2),
            State::Done(_) => None,
        }
    }

    /// Takes whether the pool [`Search::next`] gave met every target.
    pub(crate) fn record(&mut self, met: bool) {
        let Some(pool) = self.next() else { return };
        self.state = match (self.state, met) {
            (State::Bracket { missed: None, .. }, true) => State::Done(Some(pool)),
            (
                State::Bracket {
                    missed: Some(lo), ..
                },
                true,
            ) => bisect(lo, pool),
            (State::Bracket { .. }, false) if pool >= self.max => State::Done(None),
            (State::Bracket { .. }, false) => State::Bracket {
                probe: pool.saturating_mul(2).min(self.max),
                missed: Some(pool),
            },
            (State::Bisect { lo, .. }, true) => bisect(lo, pool),
            (State::Bisect { hi, .. }, false) => bisect(pool, hi),
            (done @ State::Done(_), _) => done,
        };
    }

    /// The smallest pool that met every target (once done), `None` while
    /// searching or when even `--max` missed.
    pub(crate) fn answer(&self) -> Option<u32> {
        match self.state {
            State::Done(a) => a,
            _ => None,
        }
    }
}

fn bisect(lo: u32, hi: u32) -> State {
    if hi - lo <= 1 {
        State::Done(Some(hi))
    } else {
        State::Bisect { lo, hi }
    }
}

/// Two evaluated pools where a larger pool did worse.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Reversal {
    pub(crate) from: u32,
    pub(crate) from_value: f64,
    pub(crate) to: u32,
    pub(crate) to_value: f64,
}

/// The first neighbouring pair of `points` (pool, mean; sorted by pool)
/// where the metric moves against the target: up for `<=`, down for `>=`,
/// as more workers join. Differences within 1e-9 of the values count as
/// equal (sums of the same floats in another order).
pub(crate) fn first_reversal(points: &[(u32, f64)], direction: Direction) -> Option<Reversal> {
    points.windows(2).find_map(|w| {
        let ((a, x), (b, y)) = (w[0], w[1]);
        let slack = 1e-9 * x.abs().max(y.abs());
        let worse = match direction {
            Direction::AtMost => y > x + slack,
            Direction::AtLeast => y < x - slack,
        };
        worse.then_some(Reversal {
            from: a,
            from_value: x,
            to: b,
            to_value: y,
        })
    })
}

/// The first evaluated pool that met every target while a larger one
/// missed: (the one that met, the larger one that missed). The answer of
/// a search assumes this never happens.
pub(crate) fn first_met_then_missed(points: &[(u32, bool)]) -> Option<(u32, u32)> {
    let (met, _) = points.iter().find(|(_, m)| *m)?;
    let (missed, _) = points.iter().find(|(p, m)| p > met && !*m)?;
    Some((*met, *missed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a search against `meets` and returns (answer, pools probed).
    fn search(min: u32, max: u32, meets: impl Fn(u32) -> bool) -> (Option<u32>, Vec<u32>) {
        let mut s = Search::new(min, max);
        let mut probed = Vec::new();
        while let Some(p) = s.next() {
            probed.push(p);
            assert!(probed.len() < 64, "the search does not end");
            s.record(meets(p));
        }
        (s.answer(), probed)
    }

    #[test]
    fn doubling_then_bisection_finds_the_smallest_pool() {
        for answer in 1..=200 {
            let (got, probed) = search(1, 256, |p| p >= answer);
            assert_eq!(got, Some(answer));
            assert!(probed.len() <= 17, "{answer}: {probed:?}");
        }
        assert_eq!(
            search(1, 64, |p| p >= 11).1,
            vec![1, 2, 4, 8, 16, 12, 10, 11]
        );
    }

    #[test]
    fn the_bounds_are_kept() {
        assert_eq!(search(5, 100, |_| true), (Some(5), vec![5]));
        assert_eq!(search(5, 100, |_| false).0, None);
        assert_eq!(search(5, 100, |_| false).1, vec![5, 10, 20, 40, 80, 100]);
        assert_eq!(search(5, 100, |p| p >= 100).0, Some(100));
        assert_eq!(search(7, 7, |p| p >= 7), (Some(7), vec![7]));
    }

    #[test]
    fn a_metric_that_rises_with_the_pool_is_reported() {
        let falling = [(1, 9.0), (2, 4.0), (4, 4.0), (8, 1.0)];
        assert_eq!(first_reversal(&falling, Direction::AtMost), None);
        let bumpy = [(1, 9.0), (2, 4.0), (4, 4.5), (8, 1.0)];
        let r = first_reversal(&bumpy, Direction::AtMost).unwrap();
        assert_eq!((r.from, r.to, r.from_value, r.to_value), (2, 4, 4.0, 4.5));
        // For a >= target, a fall is the wrong way.
        assert_eq!(
            first_reversal(&falling, Direction::AtLeast).unwrap().from,
            1
        );
        let rising = [(1, 90.0), (2, 99.0), (3, 99.0 + 1e-12)];
        assert_eq!(first_reversal(&rising, Direction::AtLeast), None);
        assert_eq!(first_reversal(&[], Direction::AtMost), None);
    }

    #[test]
    fn a_pool_that_meets_below_one_that_misses_is_reported() {
        let fine = [(1, false), (2, false), (4, true), (8, true)];
        assert_eq!(first_met_then_missed(&fine), None);
        let odd = [(1, false), (2, true), (4, false), (8, true)];
        assert_eq!(first_met_then_missed(&odd), Some((2, 4)));
        assert_eq!(first_met_then_missed(&[(3, false)]), None);
    }
}
