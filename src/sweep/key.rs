//! A cell's identity: a stable 64-bit FNV-1a hash of its resolved scenario,
//! seed and lbsim version. `--resume` and `merge` trust it to tell a cell
//! already in a file from one still to run.

use crate::hash::fnv1a64;
use crate::scenario::Scenario;

/// The cell key: 16 lowercase hex digits. The scenario already holds its
/// seed; the seed is hashed again so the key says what it covers.
pub(crate) fn cell_key(scenario: &Scenario) -> String {
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
