//! The decision log through the real CLI: one golden snapshot per policy
//! (iterating the name table, so a new policy is picked up), byte-identical
//! reruns, and the scheduler and balancing flags' errors.

use super::common::lbsim;
use lbsim::balancer::policy::SCHEDULERS;
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-decisions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A short churning run's decision log.
fn decisions(scheduler: &str, extra: &[&str]) -> String {
    let path = tmp(&format!("{scheduler}-{}.csv", extra.len()));
    let p = path.to_str().unwrap();
    let mut args = vec![
        "stress",
        "--scheduler",
        scheduler,
        "--workers",
        "5",
        "--tests",
        "30",
        "--duration",
        "10",
        "--seed",
        "7",
        "--dynamic",
        "--decisions",
        p,
    ];
    args.extend_from_slice(extra);
    let out = lbsim(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn every_policy_has_a_golden_decision_log() {
    for s in SCHEDULERS {
        let log = decisions(s.id, &[]);
        let rows: Vec<&str> = log.lines().collect();
        assert_eq!(rows[0], "time,test,worker,policy,score,candidates,attempt");
        assert!(
            rows.len() > 30,
            "{}: every test is assigned at least once",
            s.id
        );
        assert!(rows[1..].iter().all(|r| r.split(',').nth(3) == Some(s.id)));
        insta::with_settings!({snapshot_path => "../../golden", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("decisions_{}", s.id), log);
        });
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_policies_differ() {
    let a = decisions("power_of_two", &[]);
    assert_eq!(a, decisions("power_of_two", &[]));
    assert_ne!(
        a,
        decisions("random", &[]).replace("random", "power_of_two")
    );
}

#[test]
fn composite_weights_change_the_votes() {
    let fifo_heavy = decisions(
        "composite",
        &["--composite-weights", "fifo:3,least_loaded:1"],
    );
    let fifo = decisions("fifo", &[]);
    assert_eq!(
        fifo_heavy.replace("composite", "fifo").lines().count(),
        fifo.lines().count()
    );
    // fifo outvotes least_loaded, so every choice is fifo's.
    let workers = |log: &str| -> Vec<String> {
        log.lines()
            .skip(1)
            .map(|r| r.split(',').nth(2).unwrap().to_string())
            .collect()
    };
    assert_eq!(workers(&fifo_heavy), workers(&fifo));
}

#[test]
fn list_schedulers_prints_every_name_once() {
    let out = lbsim(&["--list-schedulers"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let want: Vec<&str> = SCHEDULERS.iter().map(|s| s.id).collect();
    assert_eq!(names, want);
    let distinct: std::collections::BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(distinct.len(), SCHEDULERS.len(), "a name listed twice");
}

#[test]
fn bad_scheduler_flags_exit_2_with_one_clear_line() {
    for (args, needle) in [
        (
            vec!["stress", "--scheduler", "fastest"],
            "known: performance_based",
        ),
        (vec!["--composite-weights", "fifo"], "NAME:WEIGHT"),
        (
            vec!["--composite-weights", "adaptive:1"],
            "cannot be a member",
        ),
        (vec!["--composite-weights", "fifo:0"], "positive"),
        (vec!["--concurrency-keys", "-1"], "--concurrency-keys"),
    ] {
        let out = lbsim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn work_stealing_is_counted_in_the_results() {
    let path = tmp("stealing.json");
    let p = path.to_str().unwrap();
    let moved = |extra: &[&str]| -> u64 {
        let mut args = vec![
            "stress",
            "--workers",
            "20",
            "--tests",
            "300",
            "--seed",
            "3",
            "--output",
            p,
        ];
        args.extend_from_slice(extra);
        let out = lbsim(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        json["metrics"]["tests_moved"]
            .as_u64()
            .expect("tests_moved is reported")
    };
    assert_eq!(moved(&[]), 0);
    // With the reference's thresholds and equal-speed workers a move rarely
    // pays (tests/policies.rs measures a scenario where it does); here the
    // flag must run the loops and keep the run whole.
    moved(&["--work-stealing"]);
}
