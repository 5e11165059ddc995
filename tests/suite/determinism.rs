//! Same seed and inputs, same bytes: JSON, per-test CSV and decision log.

use super::common::{lbsim, path_str, stderr, temp_dir};
use std::collections::BTreeSet;

/// Runs a busy, churning stress test and returns its three output files.
fn outputs(dir: &std::path::Path, seed: u64) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (json, csv, dec) = (dir.join("r.json"), dir.join("t.csv"), dir.join("d.csv"));
    let seed = seed.to_string();
    let out = lbsim(&[
        "stress",
        "--workers",
        "8",
        "--tests",
        "300",
        "--duration",
        "30",
        "--burst",
        "--dynamic",
        "--seed",
        &seed,
        "--output",
        path_str(&json),
        "--csv",
        path_str(&csv),
        "--decisions",
        path_str(&dec),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    (
        std::fs::read(json).unwrap(),
        std::fs::read(csv).unwrap(),
        std::fs::read(dec).unwrap(),
    )
}

#[test]
fn the_same_seed_gives_byte_identical_outputs() {
    let a = outputs(&temp_dir("det-a"), 1234);
    let b = outputs(&temp_dir("det-b"), 1234);
    assert_eq!(a.0, b.0, "results JSON differs");
    assert_eq!(a.1, b.1, "per-test CSV differs");
    assert_eq!(a.2, b.2, "decision log differs");
    assert!(a.2.len() > 1000, "the decision log has real content");
}

#[test]
fn seeds_i_div_3_give_exactly_three_distinct_outputs() {
    let dir = temp_dir("det-seeds");
    let distinct: BTreeSet<(Vec<u8>, Vec<u8>, Vec<u8>)> =
        (0..9u64).map(|i| outputs(&dir, i / 3)).collect();
    assert_eq!(distinct.len(), 3);
}
