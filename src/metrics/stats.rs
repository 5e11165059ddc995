//! Small, exact statistics used by the summary.

use serde::Serialize;

/// Nearest-rank percentile of sorted data: the smallest value with at least
/// `p` % of the data at or below it. Exact; 0 for no data.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sample standard deviation (n − 1), as Python's `statistics.stdev`; 0
/// with fewer than two values.
pub fn sample_stddev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Jain's fairness index (Σx)² / (n·Σx²): 1 when all equal, 1/n when one
/// worker gets everything; 1 for no data (nothing was unfair).
pub fn jain_index(xs: &[f64]) -> f64 {
    let sum: f64 = xs.iter().sum();
    let sq: f64 = xs.iter().map(|x| x * x).sum();
    if xs.is_empty() || sq == 0.0 {
        1.0
    } else {
        sum * sum / (xs.len() as f64 * sq)
    }
}

/// Mean and tail of a distribution, seconds (or a ratio for slowdown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub avg: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Sorts `xs` in place and summarises it.
    /// Reorders `xs` (partially) and summarises it. Nearest-rank, exact:
    /// three selections (O(n) each) instead of a sort, which matters at a
    /// million tests.
    pub fn of(xs: &mut [f64]) -> Percentiles {
        if xs.is_empty() {
            return Percentiles::default();
        }
        let n = xs.len();
        let avg = xs.iter().sum::<f64>() / n as f64;
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let rank = |p: f64| (((p / 100.0) * n as f64).ceil() as usize).clamp(1, n) - 1;
        // Ascending ranks: each selection only looks right of the previous.
        let mut from = 0;
        let mut at = |r: usize| {
            let (_, x, _) = xs[from..].select_nth_unstable_by(r - from, f64::total_cmp);
            let x = *x;
            from = r;
            x
        };
        let p50 = at(rank(50.0));
        let p95 = at(rank(95.0));
        let p99 = at(rank(99.0));
        Percentiles {
            avg,
            p50,
            p95,
            p99,
            max,
        }
    }
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
        let mut ys = vec![3.0, 1.0, 2.0];
        let p = Percentiles::of(&mut ys);
        assert_eq!((p.avg, p.p50, p.max), (2.0, 2.0, 3.0));
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
