//! A cell's identity: a stable 64-bit FNV-1a hash of its resolved scenario,
//! seed and lbsim version. `--resume` and `merge` trust it to tell a cell
//! already in a file from one still to run.
//!
//! std's `DefaultHasher` is seeded at random per process and may change
//! between Rust releases, so it cannot name anything written to disk.

use crate::scenario::Scenario;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME)
    })
}

/// The cell key: 16 lowercase hex digits. The scenario already holds its
/// seed; the seed is hashed again so the key says what it covers.
pub fn cell_key(scenario: &Scenario) -> String {
    let json = serde_json::to_string(scenario).unwrap_or_default();
    let text = format!(
        "lbsim {}\nseed {}\n{json}",
        env!("CARGO_PKG_VERSION"),
        scenario.seed
    );
    format!("{:016x}", fnv1a64(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::StressOptions;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_key_changes_with_the_seed_and_any_field() {
        let base = StressOptions::default().to_scenario().unwrap();
        let key = cell_key(&base);
        assert_eq!(key.len(), 16);
        assert_eq!(key, cell_key(&base.clone()));
        let mut other = base.clone();
        other.seed += 1;
        assert_ne!(key, cell_key(&other));
        let mut other = base.clone();
        other.test_profile.failure_probability = 0.01;
        assert_ne!(key, cell_key(&other));
    }
}
