//! Validity against queueing theory: `scenarios/mmc.json` (Poisson arrivals,
//! exponential run times, c one-core workers, one priority so FCFS, no churn,
//! no load drift) run through the CLI, checked against the Erlang C formula.
//!
//! Statistics, measured with the release binary over seeds 1–10 (see
//! docs/issue-3-note.md): the relative standard deviation of one 200,000-test
//! run's mean wait is 1.2 % at ρ = 0.5 (c = 2), 1.3 % at ρ = 0.6 (c = 2),
//! 1.8 % at ρ = 0.7 (c = 3), 3.3 % at ρ = 0.8 (c = 10) and 8 % at ρ = 0.95
//! (c = 20; 4.4 % for 1,000,000 tests). So each case averages the first
//! seeds 1..=k (no seed was picked) with k chosen to bring the standard error
//! under ~0.9 %, making the 2 % tolerance at least 2.2 standard errors. The
//! ρ = 0.8 and ρ = 0.95 cases need millions of tests, which take minutes in a
//! debug build: they run under `cargo test --release --test mmc`.
//!
//! The mean wait does not depend on the service order (a LIFO queue has the
//! same mean), so each case also checks the 95th percentile of the wait, which
//! under FCFS is ln(C / 0.05) / (cμ − λ) where C is the probability of
//! waiting: a broken FCFS order moves the tail.

use std::process::Command;

/// The Erlang C mean wait Wq and waiting probability C of M/M/c (a port of
/// ../shared/bench/erlang_c.py).
pub fn erlang_c(lambda: f64, mu: f64, c: u32) -> (f64, f64) {
    let a = lambda / mu;
    let rho = a / f64::from(c);
    assert!(rho < 1.0, "unstable");
    // a^k / k!, built up term by term.
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let top = term / (1.0 - rho);
    let p_wait = top / (sum + top);
    (p_wait / (f64::from(c) * mu - lambda), p_wait)
}

/// The FCFS wait's 95th percentile: P(W > t) = C·e^{−(cμ−λ)t}.
fn fcfs_wait_p95(lambda: f64, mu: f64, c: u32) -> f64 {
    let (_, p_wait) = erlang_c(lambda, mu, c);
    (p_wait / 0.05).ln().max(0.0) / (f64::from(c) * mu - lambda)
}

/// Mean wait and wait p95 of one run of a scenario of mmc.json.
fn run(scenario: &str, seed: u64, tests: u64, lambda: f64) -> (f64, f64) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-mmc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{scenario}-{seed}.json"));
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mmc.json");
    let o = Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(["--config", config, "--scenario", scenario])
        .args(["--seed", &seed.to_string(), "--tests", &tests.to_string()])
        .args(["--duration", &(tests as f64 / lambda).to_string()])
        .arg("--output")
        .arg(&out)
        .env_remove("LB_CONFIG_PATH")
        .env_remove("LB_MAX_WORKERS")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let m = &doc["metrics"];
    assert_eq!(m["completed_tests"].as_u64(), Some(tests), "every test ran");
    let _ = std::fs::remove_file(out);
    (
        m["wait"]["avg"].as_f64().unwrap(),
        m["wait"]["p95"].as_f64().unwrap(),
    )
}

/// Averages seeds 1..=runs and checks the mean wait within 2 % of Erlang C
/// and the wait's p95 within 3 % of the FCFS value.
fn check(scenario: &str, lambda: f64, mu: f64, c: u32, tests: u64, runs: u64) {
    let results: Vec<(f64, f64)> = (1..=runs)
        .map(|s| run(scenario, s, tests, lambda))
        .collect();
    let mean = results.iter().map(|r| r.0).sum::<f64>() / runs as f64;
    let p95 = results.iter().map(|r| r.1).sum::<f64>() / runs as f64;
    let (wq, _) = erlang_c(lambda, mu, c);
    let want_p95 = fcfs_wait_p95(lambda, mu, c);
    let err = mean / wq - 1.0;
    let err95 = p95 / want_p95 - 1.0;
    eprintln!(
        "{scenario}: mean wait {mean:.6} vs Erlang C {wq:.6} ({:+.2} %), p95 {p95:.4} vs {want_p95:.4} ({:+.2} %)",
        err * 100.0,
        err95 * 100.0
    );
    assert!(
        err.abs() < 0.02,
        "{scenario}: mean wait {mean} is {:+.2} % off {wq}",
        err * 100.0
    );
    assert!(
        err95.abs() < 0.03,
        "{scenario}: p95 {p95} is {:+.2} % off {want_p95}",
        err95 * 100.0
    );
}

#[test]
fn the_ported_formula_matches_the_reference_script() {
    // erlang_c.py 8 1 10 -> 0.204590; 1 1 2 -> 0.333333.
    assert!((erlang_c(8.0, 1.0, 10).0 - 0.204590).abs() < 1e-6);
    assert!((erlang_c(1.0, 1.0, 2).0 - 1.0 / 3.0).abs() < 1e-9);
    assert!((fcfs_wait_p95(1.0, 1.0, 2) - (20.0f64 / 3.0).ln()).abs() < 1e-9);
}

#[test]
fn mm2_at_half_load_matches_erlang_c() {
    check("mmc_rho50", 1.0, 1.0, 2, 200_000, 2);
}

#[test]
fn mm2_at_0_6_load_with_slow_tests_matches_erlang_c() {
    check("mmc_rho60", 0.6, 0.5, 2, 200_000, 3);
}

#[test]
fn mm3_at_0_7_load_matches_erlang_c() {
    check("mmc_rho70", 2.1, 1.0, 3, 200_000, 4);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "5 M tests: run with cargo test --release --test mmc"
)]
fn mm10_at_0_8_load_matches_erlang_c() {
    check("mmc_rho80", 8.0, 1.0, 10, 200_000, 25);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "30 M tests: run with cargo test --release --test mmc"
)]
fn mm20_at_0_95_load_matches_erlang_c() {
    check("mmc_rho95", 19.0, 1.0, 20, 1_000_000, 30);
}
