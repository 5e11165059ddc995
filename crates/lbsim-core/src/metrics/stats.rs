//! Small, exact statistics used by the summary.

use super::order_key::order_key;
use super::select::select;
use serde::{Deserialize, Serialize};

/// Nearest-rank percentile of sorted data: the smallest value with at least
/// `p` % of the data at or below it. Exact; 0 for no data.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[nearest_rank(p, sorted.len())]
}

/// Sample standard deviation (n − 1), as Python's `statistics.stdev`; 0
/// with fewer than two values.
pub(crate) fn sample_stddev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Jain's fairness index (Σx)² / (n·Σx²): 1 when all equal, 1/n when one
/// worker gets everything; 1 for no data (nothing was unfair).
pub(crate) fn jain_index(xs: &[f64]) -> f64 {
    let sum: f64 = xs.iter().sum();
    let sq: f64 = xs.iter().map(|x| x * x).sum();
    if xs.is_empty() || sq == 0.0 {
        1.0
    } else {
        sum * sum / (xs.len() as f64 * sq)
    }
}

/// Mean and tail of a distribution, seconds (or a ratio for slowdown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Mean (exact).
    pub avg: f64,
    /// Median, nearest-rank.
    pub p50: f64,
    /// 95th percentile, nearest-rank.
    pub p95: f64,
    /// 99th percentile, nearest-rank.
    pub p99: f64,
    /// Largest value (exact).
    pub max: f64,
}

impl Percentiles {
    /// Summarises `xs` (any order; it is not modified). Nearest-rank and
    /// exact: the same values a full sort would give, found by selection
    /// (O(n)) instead of a sort, which matters at a million tests.
    pub fn of(xs: &[f64]) -> Percentiles {
        if xs.is_empty() {
            return Percentiles::default();
        }
        let n = xs.len();
        let mut keys: Vec<u64> = xs.iter().map(|&x| order_key(x)).collect();
        let rank = |p: f64| nearest_rank(p, n);
        let [p50, p95, p99] = select_ranks(&mut keys, [rank(50.0), rank(95.0), rank(99.0)]);
        Percentiles::with(xs, [p50, p95, p99])
    }

    /// The same figures as [`Percentiles::of`], with p50, p95 and p99 read
    /// off `points` (from [`quantile_points`] of the same `xs`, whose
    /// points 0.5, 0.95 and 0.99 are those nearest ranks), so a series that
    /// needs both is selected once.
    pub(crate) fn from_points(xs: &[f64], points: &[(f64, f64)]) -> Percentiles {
        match (points.get(50), points.get(95), points.get(99)) {
            (Some(p50), Some(p95), Some(p99)) => Percentiles::with(xs, [p50.1, p95.1, p99.1]),
            _ => Percentiles::default(),
        }
    }

    /// The mean and maximum of `xs` (non-empty) beside given percentiles.
    fn with(xs: &[f64], [p50, p95, p99]: [f64; 3]) -> Percentiles {
        Percentiles {
            avg: xs.iter().sum::<f64>() / xs.len() as f64,
            p50,
            p95,
            p99,
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// The 0-based index in `n` sorted values (`n` ≥ 1) of the nearest-rank
/// `p`-th percentile: one definition for [`percentile`]'s callers,
/// [`Percentiles`] and [`quantile_points`], so they agree wherever they meet.
pub(super) fn nearest_rank(p: f64, n: usize) -> usize {
    (((p / 100.0) * n as f64).ceil() as usize).clamp(1, n) - 1
}

/// Points of the distribution of `xs` (any order; not modified) for a
/// real CDF: `[q, value]` at q = 0, 0.01, …, 1, each value the nearest-rank
/// percentile 100·q, so q = 0 is the minimum, q = 1 the maximum, and q =
/// 0.5, 0.95, 0.99 are exactly [`Percentiles::of`]'s p50, p95 and p99.
/// Empty for no data. Exact, by selection (`metrics::select`) rather than a sort.
pub(crate) fn quantile_points(xs: &[f64]) -> Vec<(f64, f64)> {
    if xs.is_empty() {
        return Vec::new();
    }
    let n = xs.len();
    let ranks: Vec<usize> = (0..=100).map(|p| nearest_rank(f64::from(p), n)).collect();
    let mut keys: Vec<u64> = xs.iter().map(|&x| order_key(x)).collect();
    let mut values = vec![0.0; ranks.len()];
    select(&mut keys, &ranks, &mut values);
    (0..=100u32)
        .map(|p| f64::from(p) / 100.0)
        .zip(values)
        .collect()
}

/// The values at the ascending 0-based `ranks` of the sorted order of the
/// values whose [`order_key`]s are `keys` (reordered). Exact: see
/// [`select`].
fn select_ranks<const K: usize>(keys: &mut [u64], ranks: [usize; K]) -> [f64; K] {
    let mut out = [0.0; K];
    select(keys, &ranks, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 50.0), 50.0);
        assert_eq!(percentile(&xs, 95.0), 95.0);
        assert_eq!(percentile(&xs, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        let p = Percentiles::of(&[3.0, 1.0, 2.0]);
        assert_eq!((p.avg, p.p50, p.max), (2.0, 2.0, 3.0));
    }

    #[test]
    fn selection_matches_a_sort() {
        use crate::sim::{RngStreams, Stream};
        let mut rng = RngStreams::new(11).stream(Stream::Custom(0));
        for n in [1, 2, 3, 10, 100, 1_000, 20_000] {
            // Mixed data: many exact zeros and repeats, negatives, and a
            // wide spread of magnitudes (values sharing buckets and not).
            let xs: Vec<f64> = (0..n)
                .map(|_| match rng.below(5) {
                    0 => 0.0,
                    1 => rng.below(4) as f64,
                    2 => -rng.exponential(3.0),
                    3 => rng.exponential(1e-3),
                    _ => rng.exponential(50.0),
                })
                .collect();
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let ranks = [0, n / 3, n / 3, n / 2, n - 1];
            let mut keys: Vec<u64> = xs.iter().map(|&x| order_key(x)).collect();
            let got = select_ranks(&mut keys, ranks);
            for (g, r) in got.iter().zip(ranks) {
                assert_eq!(g.to_bits(), sorted[r].to_bits(), "n {n} rank {r}");
            }
            let p = Percentiles::of(&xs);
            assert_eq!(
                (p.p50, p.p95, p.p99),
                (
                    percentile(&sorted, 50.0),
                    percentile(&sorted, 95.0),
                    percentile(&sorted, 99.0)
                )
            );
        }
    }

    #[test]
    fn quantile_points_agree_with_the_percentiles_and_a_sort() {
        use crate::sim::{RngStreams, Stream};
        let mut rng = RngStreams::new(5).stream(Stream::Custom(1));
        for n in [1, 2, 3, 7, 100, 101, 1_000, 12_345] {
            let xs: Vec<f64> = (0..n)
                .map(|_| match rng.below(4) {
                    0 => 0.0,
                    1 => rng.below(3) as f64,
                    _ => rng.exponential(20.0),
                })
                .collect();
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let points = quantile_points(&xs);
            assert_eq!(points.len(), 101, "n {n}");
            for (i, &(q, v)) in points.iter().enumerate() {
                assert_eq!(q, i as f64 / 100.0);
                let want = percentile(&sorted, i as f64);
                assert_eq!(v.to_bits(), want.to_bits(), "n {n} p {i}");
            }
            let p = Percentiles::of(&xs);
            assert_eq!(
                (points[50].1, points[95].1, points[99].1),
                (p.p50, p.p95, p.p99),
                "n {n}"
            );
            assert_eq!((points[0].1, points[100].1), (sorted[0], p.max), "n {n}");
        }
        assert!(quantile_points(&[]).is_empty());
    }

    #[test]
    fn stddev_matches_python_statistics() {
        // statistics.stdev([2, 4, 4, 4, 5, 5, 7, 9]) = 2.138089935299395
        let s = sample_stddev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert!((s - 2.138089935299395).abs() < 1e-12);
        assert_eq!(sample_stddev(&[1.0]), 0.0);
    }

    #[test]
    fn jain_bounds() {
        assert_eq!(jain_index(&[3.0, 3.0, 3.0]), 1.0);
        assert!((jain_index(&[9.0, 0.0, 0.0]) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(jain_index(&[]), 1.0);
    }
}
