//! Exact order statistics: the values at given ranks of the sorted order of
//! many values, without sorting them.
//!
//! Values are handled as integer order keys (`stats::order_key`), whose
//! comparisons are single instructions. Few values (under
//! [`BUCKETED_FROM`]) go through a recursive multi-select: select the middle
//! rank, then recurse left and right of it, so each level of the recursion
//! partitions the data once (about seven levels for 101 ranks). More values
//! go through buckets first: one pass counts the keys by their top 16 bits
//! (sign, exponent and 4 mantissa bits), which tells which bucket each rank
//! falls in; a second pass copies out only the keys of those buckets, and
//! the ranks are selected within them. At a million values that is two
//! passes and a little. Either way the answer is the exact value at each
//! rank, so the same bits whichever path runs.

use super::order_key::from_order_key;

/// From this many values on, [`select`] counts buckets first (below it, the
/// bucket table's fixed cost is not worth it).
pub(super) const BUCKETED_FROM: usize = 1 << 16;

/// The bucket of a key: its top 16 bits.
const BUCKET_SHIFT: u32 = 48;
const BUCKETS: usize = 1 << (u64::BITS - BUCKET_SHIFT);

/// Fills `out[i]` with the value at the 0-based rank `ranks[i]` (ascending,
/// repeats allowed, each below `keys.len()`) of the sorted order of `keys`,
/// which it reorders.
pub(super) fn select(keys: &mut [u64], ranks: &[usize], out: &mut [f64]) {
    debug_assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
    debug_assert!(ranks.last().is_none_or(|&r| r < keys.len()));
    if keys.len() >= BUCKETED_FROM {
        select_bucketed(keys, ranks, out);
    } else {
        select_many(keys, ranks, 0, out);
    }
}

/// A bucket some rank falls in: its number, the rank of its first key in
/// the whole order, and its size.
#[derive(Clone, Copy, Debug)]
struct Wanted {
    bucket: usize,
    first: usize,
    len: usize,
}

/// [`select`] through buckets of equal top bits.
fn select_bucketed(keys: &[u64], ranks: &[usize], out: &mut [f64]) {
    let bucket = |k: u64| (k >> BUCKET_SHIFT) as usize;
    let mut table = vec![0usize; BUCKETS];
    for &k in keys {
        table[bucket(k)] += 1;
    }
    let wanted = wanted_buckets(&table, ranks);
    // The table now tags each wanted bucket with its place in `wanted`
    // (plus one; 0 for the others), and `cursor` is where its next key goes.
    table.fill(0);
    let mut cursor = Vec::with_capacity(wanted.len());
    let mut total = 0;
    for (i, w) in wanted.iter().enumerate() {
        table[w.bucket] = i + 1;
        cursor.push(total);
        total += w.len;
    }
    let mut gathered = vec![0u64; total];
    for &k in keys {
        if let Some(at) = table[bucket(k)].checked_sub(1) {
            gathered[cursor[at]] = k;
            cursor[at] += 1;
        }
    }
    let (mut r, mut at) = (0, 0);
    for w in &wanted {
        let from = r;
        while r < ranks.len() && ranks[r] < w.first + w.len {
            r += 1;
        }
        let part = &mut gathered[at..at + w.len];
        select_many(part, &ranks[from..r], w.first, &mut out[from..r]);
        at += w.len;
    }
}

/// The buckets, in order, that hold at least one of `ranks`, given each
/// bucket's count.
fn wanted_buckets(counts: &[usize], ranks: &[usize]) -> Vec<Wanted> {
    let mut wanted = Vec::new();
    let (mut first, mut r) = (0, 0);
    for (bucket, &len) in counts.iter().enumerate() {
        if r == ranks.len() {
            break;
        }
        if ranks[r] < first + len {
            wanted.push(Wanted { bucket, first, len });
            while r < ranks.len() && ranks[r] < first + len {
                r += 1;
            }
        }
        first += len;
    }
    wanted
}

/// Fills `out[i]` with the value at the 0-based rank `ranks[i]` (ascending,
/// counted from `offset`, the rank of the smallest of `keys` in the whole)
/// of the sorted order of `keys`: select the middle rank, then recurse into
/// the parts left and right of it, so each level of the recursion
/// partitions the data once.
fn select_many(keys: &mut [u64], ranks: &[usize], offset: usize, out: &mut [f64]) {
    let Some(&middle) = ranks.get(ranks.len() / 2) else {
        return;
    };
    let (left, key, right) = keys.select_nth_unstable(middle - offset);
    let value = from_order_key(*key);
    // Equal ranks (few values, many quantiles) share the value.
    let lo = ranks.partition_point(|&r| r < middle);
    let hi = ranks.partition_point(|&r| r <= middle);
    out[lo..hi].fill(value);
    let (out_left, rest) = out.split_at_mut(lo);
    select_many(left, &ranks[..lo], offset, out_left);
    select_many(right, &ranks[hi..], middle + 1, &mut rest[hi - lo..]);
}

#[cfg(test)]
mod tests {
    use super::super::order_key::order_key;
    use super::*;
    use crate::sim::{RngStreams, Stream};

    /// Both paths give the bits a sort gives, on data that crowds one
    /// bucket, spreads over many, repeats, and mixes signs and zeros.
    #[test]
    fn both_paths_agree_with_a_sort() {
        let mut rng = RngStreams::new(17).stream(Stream::Custom(2));
        let shapes: [&dyn Fn(&mut crate::sim::SimRng) -> f64; 4] = [
            &|r| r.exponential(2.0),
            &|r| 1.0 + r.uniform(0.0, 1e-9),
            &|r| match r.below(4) {
                0 => 0.0,
                1 => -0.0,
                2 => -r.exponential(1e3),
                _ => r.exponential(1e-4),
            },
            &|r| r.below(3) as f64,
        ];
        for draw in shapes {
            for n in [1, 2, 5, 1_000, BUCKETED_FROM - 1, BUCKETED_FROM, 150_001] {
                let xs: Vec<f64> = (0..n).map(|_| draw(&mut rng)).collect();
                let mut sorted = xs.clone();
                sorted.sort_by(f64::total_cmp);
                let mut ranks: Vec<usize> = (0..=100).map(|p| p * (n - 1) / 100).collect();
                ranks.extend([0, n / 2, n - 1]);
                ranks.sort_unstable();
                let keys: Vec<u64> = xs.iter().map(|&x| order_key(x)).collect();
                let mut out = vec![f64::NAN; ranks.len()];
                select(&mut keys.clone(), &ranks, &mut out);
                let mut by_buckets = vec![f64::NAN; ranks.len()];
                select_bucketed(&keys, &ranks, &mut by_buckets);
                for ((r, a), b) in ranks.iter().zip(&out).zip(&by_buckets) {
                    let want = sorted[*r].to_bits();
                    assert_eq!((a.to_bits(), b.to_bits()), (want, want), "n {n} rank {r}");
                }
            }
        }
    }

    #[test]
    fn no_ranks_select_nothing() {
        let mut keys = vec![order_key(1.0); BUCKETED_FROM];
        select(&mut keys, &[], &mut []);
        let mut out = [0.0];
        select(&mut keys, &[BUCKETED_FROM - 1], &mut out);
        assert_eq!(out, [1.0]);
    }
}
