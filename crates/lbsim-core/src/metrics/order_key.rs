//! Floats as integers that sort like `f64::total_cmp`: the exact
//! selection (`select`), the summary statistics (`stats`) and the
//! histogram's buckets (`histogram`) all order samples by these keys.

/// `x` as an unsigned integer that orders like `f64::total_cmp`: negatives
/// have all bits flipped, the rest only the sign bit.
pub(super) fn order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    let negative = (bits as i64 >> 63) as u64;
    bits ^ (negative | 1 << 63)
}

/// The inverse of [`order_key`].
pub(super) fn from_order_key(key: u64) -> f64 {
    let positive = (key as i64 >> 63) as u64;
    f64::from_bits(key ^ (!positive | 1 << 63))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_keys_order_like_total_cmp_and_invert() {
        let xs = [
            f64::NEG_INFINITY,
            -2.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            5e-324,
            1.0,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
        ];
        for a in xs {
            assert_eq!(from_order_key(order_key(a)).to_bits(), a.to_bits());
            for b in xs {
                assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b));
            }
        }
    }
}
