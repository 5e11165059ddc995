//! One distribution collected over a run (the latency, wait, turnaround or
//! slowdown of each finished test) in memory bounded whatever the run's
//! size.
//!
//! **Exact up to [`EXACT_SAMPLES`] values** (2^20 = 1,048,576 per series):
//! every value is kept, and the percentiles and the 101 quantile points are
//! exact nearest-rank figures, found by selection. Every golden file and
//! every output of `scripts/outputs.sh` lives here (the largest run either
//! makes has 200,000 tests; the README's hour-long spike has 1,000,000).
//!
//! **Past it, approximate**: at the value that would be the 1,048,577th the
//! kept values move, in their order, into a [`LogHistogram`] and are freed,
//! and later values go there too. Then p50, p95, p99 and the quantile
//! points other than the ends are within [`RELATIVE_ERROR`] (2^-11 ≈
//! 0.049 %, under 0.1 %) of the exact nearest-rank value (zeros exact);
//! the mean, the maximum, the minimum and the quantile points 0 and 1 stay
//! exact (running sum, min and max in the order values came, as the exact
//! path computes them). Everything is integer arithmetic on the values'
//! bits, so the same bytes on every machine and thread count.

use super::histogram::{LogHistogram, RELATIVE_ERROR};
use super::stats::{nearest_rank, quantile_points, Percentiles};

/// Values kept exactly per series before it switches to a histogram.
pub const EXACT_SAMPLES: usize = 1 << 20;

/// A distribution: every value while there are few, a histogram after.
#[derive(Clone, Debug)]
pub(super) enum Series {
    Exact(Vec<f64>),
    Binned(Box<LogHistogram>),
}

impl Default for Series {
    fn default() -> Self {
        Series::Exact(Vec::new())
    }
}

impl Series {
    /// The common case (a kept value) inline in the caller: a compare and
    /// a `Vec::push`; the rest out of line.
    #[inline]
    pub(super) fn push(&mut self, x: f64) {
        if let Series::Exact(xs) = self {
            if xs.len() < EXACT_SAMPLES {
                xs.push(x);
                return;
            }
        }
        self.push_past_switch(x);
    }

    /// A value past the switch: the first one moves the kept values into a
    /// histogram (in their order) and frees them.
    #[inline(never)]
    fn push_past_switch(&mut self, x: f64) {
        match self {
            Series::Exact(xs) => {
                let mut h = LogHistogram::of(xs);
                h.push(x);
                *self = Series::Binned(Box::new(h));
            }
            Series::Binned(h) => h.push(x),
        }
    }

    pub(super) fn len(&self) -> u64 {
        match self {
            Series::Exact(xs) => xs.len() as u64,
            Series::Binned(h) => h.count(),
        }
    }

    /// The smallest value (exact either way); `None` when empty.
    pub(super) fn min(&self) -> Option<f64> {
        match self {
            Series::Exact(xs) => xs.iter().copied().reduce(f64::min),
            Series::Binned(h) => h.min(),
        }
    }

    /// Mean, p50, p95, p99 and maximum (see the module's note on which are
    /// exact).
    pub(super) fn percentiles(&self) -> Percentiles {
        match self {
            Series::Exact(xs) => Percentiles::of(xs),
            Series::Binned(h) => {
                let n = h.count() as usize;
                let ranks = [50.0, 95.0, 99.0].map(|p| nearest_rank(p, n));
                let v = h.values_at(&ranks);
                Percentiles {
                    avg: h.sum() / n as f64,
                    p50: v[0],
                    p95: v[1],
                    p99: v[2],
                    max: h.max(),
                }
            }
        }
    }

    /// [`Series::percentiles`] and [`Series::quantile_points`] together, at
    /// the cost of the points alone (selection is most of a big run's end).
    pub(super) fn percentiles_and_points(&self) -> (Percentiles, Vec<(f64, f64)>) {
        match self {
            Series::Exact(xs) => {
                let points = quantile_points(xs);
                (Percentiles::from_points(xs, &points), points)
            }
            Series::Binned(_) => (self.percentiles(), self.quantile_points()),
        }
    }

    /// `[q, value]` at q = 0, 0.01, …, 1, as [`quantile_points`] (exact
    /// below the switch, the histogram's values past it).
    pub(super) fn quantile_points(&self) -> Vec<(f64, f64)> {
        match self {
            Series::Exact(xs) => quantile_points(xs),
            Series::Binned(h) => {
                let n = h.count() as usize;
                let ranks: Vec<usize> = (0..=100).map(|p| nearest_rank(f64::from(p), n)).collect();
                (0..=100u32)
                    .map(|p| f64::from(p) / 100.0)
                    .zip(h.values_at(&ranks))
                    .collect()
            }
        }
    }
}

/// The stated bound, for the docs' and tests' sake: under 0.1 %.
const _: () = assert!(RELATIVE_ERROR < 0.001);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, Stream};

    fn series_of(xs: &[f64]) -> Series {
        let mut s = Series::default();
        for &x in xs {
            s.push(x);
        }
        s
    }

    #[test]
    fn exact_up_to_the_switch_then_binned_within_the_error() {
        let mut rng = RngStreams::new(9).stream(Stream::Custom(4));
        let xs: Vec<f64> = (0..EXACT_SAMPLES + 1)
            .map(|_| match rng.below(4) {
                0 => 0.0,
                _ => rng.exponential(12.0),
            })
            .collect();
        let at_switch = series_of(&xs[..EXACT_SAMPLES]);
        assert!(matches!(at_switch, Series::Exact(_)));
        assert_eq!(
            at_switch.percentiles(),
            Percentiles::of(&xs[..EXACT_SAMPLES])
        );
        let past = series_of(&xs);
        let Series::Binned(_) = &past else {
            panic!("one value past the switch is binned")
        };
        assert_eq!(past.len(), xs.len() as u64);
        let (exact, binned) = (Percentiles::of(&xs), past.percentiles());
        // Mean and maximum keep their bits; percentiles are close.
        assert_eq!(exact.avg.to_bits(), binned.avg.to_bits());
        assert_eq!(exact.max.to_bits(), binned.max.to_bits());
        assert_eq!(past.min(), xs.iter().copied().reduce(f64::min));
        for (e, b) in [
            (exact.p50, binned.p50),
            (exact.p95, binned.p95),
            (exact.p99, binned.p99),
        ] {
            assert!((e - b).abs() <= RELATIVE_ERROR * e, "{e} against {b}");
        }
        let (e_points, b_points) = (quantile_points(&xs), past.quantile_points());
        assert_eq!(b_points.len(), 101);
        for (e, b) in e_points.iter().zip(&b_points) {
            assert_eq!(e.0, b.0);
            assert!((e.1 - b.1).abs() <= RELATIVE_ERROR * e.1, "{e:?} {b:?}");
        }
        assert_eq!(b_points[0].1, 0.0);
        assert_eq!(b_points[100].1, exact.max);
        assert_eq!(b_points[50].1, binned.p50);
        assert_eq!(b_points[99].1, binned.p99);
    }

    /// Reading p50, p95 and p99 off the quantile points gives the very
    /// bits a selection of their own gives, exact or binned, and nothing
    /// for no data.
    #[test]
    fn percentiles_read_off_the_points_are_the_selected_ones() {
        let mut rng = RngStreams::new(5).stream(Stream::Custom(6));
        for n in [0, 1, 2, 3, 99, 100, 101, 1_000, 20_011] {
            let xs: Vec<f64> = (0..n)
                .map(|_| match rng.below(3) {
                    0 => 0.0,
                    1 => -0.0,
                    _ => rng.exponential(3.0),
                })
                .collect();
            let s = series_of(&xs);
            let (p, points) = s.percentiles_and_points();
            assert_eq!(
                format!("{p:?}"),
                format!("{:?}", s.percentiles()),
                "n = {n}"
            );
            assert_eq!(points, s.quantile_points());
        }
        let mut binned = series_of(&vec![1.5; EXACT_SAMPLES]);
        binned.push(7.25);
        let (p, points) = binned.percentiles_and_points();
        assert_eq!(
            (p, points),
            (binned.percentiles(), binned.quantile_points())
        );
    }

    #[test]
    fn an_empty_series_has_no_figures() {
        let s = Series::default();
        assert_eq!((s.len(), s.min()), (0, None));
        assert_eq!(s.percentiles(), Percentiles::default());
        assert!(s.quantile_points().is_empty());
    }
}
