//! A bounded log-linear histogram (HDR style) of f64 values, for the
//! distributions of runs too large to keep every value (see
//! [`super::series`], which decides when it is used).
//!
//! A value's bucket is read straight off its bits: the sign, the 11
//! exponent bits and the top [`MANTISSA_BITS`] mantissa bits of
//! `order_key(x)` (an integer that orders like `f64::total_cmp`). Each
//! binade [2^e, 2^(e+1)) is so cut into 2^10 buckets of equal width, and a
//! bucket's representative, its midpoint, is within [`RELATIVE_ERROR`]
//! (2^-11 ≈ 0.049 %) of every normal value in it. Zeros and subnormals
//! are represented by 0 (exact for zeros), infinities by themselves.
//! Everything is integer arithmetic on bits: the same bytes on every
//! machine. Memory: a 1,024-count block per binade touched (8 KiB), at most
//! a few dozen for times in seconds, plus a 64 KiB block index.

use super::order_key::{from_order_key, order_key};

/// Mantissa bits kept in a bucket's key: 2^10 buckets per binade.
const MANTISSA_BITS: u32 = 10;
/// The largest relative distance of a bucket's representative from a
/// normal value in it: half a bucket's width over the binade's start.
pub const RELATIVE_ERROR: f64 = 1.0 / (1u64 << (MANTISSA_BITS + 1)) as f64;
/// Low key bits dropped: the bucket is `key >> DROPPED_BITS`.
const DROPPED_BITS: u32 = 52 - MANTISSA_BITS;
/// Buckets per block (one binade of one sign).
const BLOCK: usize = 1 << MANTISSA_BITS;
/// Blocks: one per sign and exponent (the top 12 bits of a key).
const BLOCKS: usize = 1 << 12;

/// Counts per bucket, with the exact count, sum, minimum and maximum.
#[derive(Clone, Debug)]
pub(super) struct LogHistogram {
    /// `blocks[key >> 52]`, allocated when a value first lands in it.
    blocks: Vec<Option<Box<[u64]>>>,
    count: u64,
    /// Running sum in the order values came, starting at −0.0 like
    /// `Iterator::sum` for f64, so it has the same bits as summing them.
    sum: f64,
    /// `f64::min` / `f64::max` folded in the order values came.
    min: f64,
    max: f64,
}

impl LogHistogram {
    /// A histogram of `xs`, folded in their order.
    pub(super) fn of(xs: &[f64]) -> LogHistogram {
        let mut h = LogHistogram {
            blocks: vec![None; BLOCKS],
            count: 0,
            sum: -0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        };
        for &x in xs {
            h.push(x);
        }
        h
    }

    #[inline]
    pub(super) fn push(&mut self, x: f64) {
        let key = order_key(x);
        let block = self.blocks[(key >> 52) as usize].get_or_insert_with(|| vec![0; BLOCK].into());
        block[((key >> DROPPED_BITS) as usize) & (BLOCK - 1)] += 1;
        self.count += 1;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    pub(super) fn count(&self) -> u64 {
        self.count
    }

    pub(super) fn sum(&self) -> f64 {
        self.sum
    }

    /// The smallest value; `None` when empty.
    pub(super) fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    /// The largest value (−∞ when empty, as a fold from −∞ gives).
    pub(super) fn max(&self) -> f64 {
        self.max
    }

    /// The values at the ascending 0-based `ranks` (each < count) of the
    /// sorted values: the representative of the bucket holding that rank,
    /// kept within [min, max]; rank 0 is the exact minimum and rank
    /// count − 1 the exact maximum.
    pub(super) fn values_at(&self, ranks: &[usize]) -> Vec<f64> {
        debug_assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
        let mut out = Vec::with_capacity(ranks.len());
        let mut below = 0u64;
        let buckets = self.blocks.iter().enumerate().filter_map(|(b, block)| {
            block.as_ref().map(|counts| {
                let first = (b as u64) << MANTISSA_BITS;
                counts
                    .iter()
                    .enumerate()
                    .map(move |(i, &k)| (first + i as u64, k))
            })
        });
        for (bucket, k) in buckets.flatten() {
            let end = below + k;
            while let Some(&rank) = ranks.get(out.len()).filter(|&&r| (r as u64) < end) {
                out.push(self.value(bucket, rank));
            }
            below = end;
            if out.len() == ranks.len() {
                break;
            }
        }
        out
    }

    /// The value reported for `rank`, found in `bucket`.
    fn value(&self, bucket: u64, rank: usize) -> f64 {
        if rank == 0 {
            return self.min;
        }
        if rank as u64 + 1 == self.count {
            return self.max;
        }
        representative(bucket).clamp(self.min, self.max)
    }
}

/// The midpoint of a bucket (its values are evenly spaced, so the middle
/// key is the middle value); 0 with the bucket's sign for zeros and
/// subnormals, ±∞ for the buckets of infinities and NaNs.
fn representative(bucket: u64) -> f64 {
    let low = from_order_key(bucket << DROPPED_BITS);
    let mid = from_order_key(bucket << DROPPED_BITS | 1 << (DROPPED_BITS - 1));
    if mid.is_nan() || low.is_infinite() {
        f64::INFINITY.copysign(mid)
    } else if mid.abs() < f64::MIN_POSITIVE {
        0.0f64.copysign(mid)
    } else {
        mid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::{nearest_rank, percentile};
    use crate::sim::{RngStreams, Stream};

    /// Every percentile 0..=100 of the histogram against the sorted data:
    /// within the relative error (exact for zeros and at the ends), and
    /// monotone in the percentile.
    fn check_against_exact(xs: &[f64], what: &str) {
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let h = LogHistogram::of(xs);
        let ranks: Vec<usize> = (0..=100)
            .map(|p| nearest_rank(f64::from(p), xs.len()))
            .collect();
        let got = h.values_at(&ranks);
        assert_eq!(got.len(), ranks.len(), "{what}");
        for (p, (&g, &r)) in got.iter().zip(&ranks).enumerate() {
            let want = percentile(&sorted, p as f64);
            assert_eq!(want.to_bits(), sorted[r].to_bits());
            let err = (g - want).abs();
            assert!(
                err <= RELATIVE_ERROR * want.abs(),
                "{what} p{p}: {g} against {want}"
            );
        }
        assert!(got.windows(2).all(|w| w[0] <= w[1]), "{what} monotone");
        assert_eq!(got[0].to_bits(), sorted[0].to_bits(), "{what} min");
        assert_eq!(got[100].to_bits(), sorted[xs.len() - 1].to_bits());
        assert_eq!(h.min(), Some(sorted[0]));
        assert_eq!(h.sum().to_bits(), xs.iter().sum::<f64>().to_bits());
    }

    #[test]
    fn percentiles_are_within_the_stated_error_on_several_shapes() {
        let mut rng = RngStreams::new(17).stream(Stream::Custom(3));
        let n = 50_000;
        let exponential: Vec<f64> = (0..n).map(|_| rng.exponential(2.0)).collect();
        // Pareto-like: 1 / U^2 spans many binades.
        let heavy: Vec<f64> = (0..n)
            .map(|_| 1.0 / (rng.below(1_000_000) as f64 + 1.0).powi(2) * 1e9)
            .collect();
        let mixed: Vec<f64> = (0..n)
            .map(|_| match rng.below(3) {
                0 => 0.0,
                1 => rng.exponential(1e-3),
                _ => rng.exponential(5e3),
            })
            .collect();
        check_against_exact(&exponential, "exponential");
        check_against_exact(&heavy, "heavy tail");
        check_against_exact(&mixed, "zeros and spread");
        check_against_exact(&vec![3.25; 1000], "constant");
        check_against_exact(&vec![0.0; 1000], "zeros");
        check_against_exact(&[-4.0, -1e-3, 0.0, 2.0, 7.5], "negatives");
        check_against_exact(&[42.0], "one value");
    }

    #[test]
    fn the_same_values_in_another_order_give_the_same_percentiles() {
        let mut rng = RngStreams::new(4).stream(Stream::Custom(2));
        let xs: Vec<f64> = (0..10_000).map(|_| rng.exponential(30.0)).collect();
        let reversed: Vec<f64> = xs.iter().rev().copied().collect();
        let ranks = [0, 17, 5_000, 9_500, 9_999];
        let a = LogHistogram::of(&xs).values_at(&ranks);
        let b = LogHistogram::of(&reversed).values_at(&ranks);
        assert_eq!(a, b);
    }

    #[test]
    fn bucket_representatives_are_midpoints_and_infinities_stay_infinite() {
        let h = LogHistogram::of(&[1.0, 1.0, 1.0]);
        assert_eq!(h.values_at(&[1]), [1.0]);
        // 1.0's bucket is [1, 1 + 2^-10): its midpoint is 1 + 2^-11.
        assert_eq!(
            representative(order_key(1.0) >> DROPPED_BITS),
            1.0 + RELATIVE_ERROR
        );
        assert_eq!(representative(order_key(0.0) >> DROPPED_BITS), 0.0);
        assert_eq!(representative(order_key(5e-324) >> DROPPED_BITS), 0.0);
        let inf = representative(order_key(f64::INFINITY) >> DROPPED_BITS);
        assert_eq!(inf, f64::INFINITY);
        let ninf = representative(order_key(f64::NEG_INFINITY) >> DROPPED_BITS);
        assert_eq!(ninf, f64::NEG_INFINITY);
        let h = LogHistogram::of(&[1.0, f64::INFINITY, f64::INFINITY, 2.0]);
        assert_eq!(h.values_at(&[0, 2, 3]), [1.0, f64::INFINITY, f64::INFINITY]);
    }
}
