//! `lbsim diff` and `lbsim check-determinism`: identical inputs agree (exit
//! 0), one changed decision is reported exactly (exit 1), differences beyond
//! the tolerance exit 1, bad input exits 2, and a stress run or a scenario is
//! proved reproducible, with the very configuration the same flags run.

use super::common::{lbsim, path_str, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Output;

fn tmp(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A stress run's decision log and results.
fn stress(name: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let (d, j) = (tmp(&format!("{name}.csv")), tmp(&format!("{name}.json")));
    let mut args = vec![
        "stress",
        "--tests",
        "60",
        "--decisions",
        d.to_str().unwrap(),
        "--output",
        j.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = lbsim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    (d, j)
}

fn diff(a: &Path, b: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["diff", a.to_str().unwrap(), b.to_str().unwrap()];
    args.extend_from_slice(extra);
    lbsim(&args)
}

#[test]
fn identical_inputs_agree() {
    let (d, j) = stress("same", &[]);
    for f in [&d, &j] {
        let o = diff(f, f, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).ends_with("within tolerance of 0 %\n"));
    }
    assert!(stdout(&diff(&d, &d, &[])).contains("decisions differing: 0 of 60 (0.000 %)"));
}

/// The results' `distributions` are chart data, not metrics: `diff`
/// compares the metrics only, so files that differ only there agree.
#[test]
fn diff_compares_metrics_not_the_distributions() {
    let (_, j) = stress("dist", &[]);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert_eq!(v["distributions"]["latency"].as_array().unwrap().len(), 101);
    v["distributions"]["latency"][100][1] = serde_json::json!(1e6);
    let changed = tmp("dist-changed.json");
    std::fs::write(&changed, v.to_string()).unwrap();
    let o = diff(&j, &changed, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(!stdout(&o).contains("distributions"), "{}", stdout(&o));
}

#[test]
fn one_changed_decision_is_reported_exactly() {
    let (d, _) = stress("one", &[]);
    let text = std::fs::read_to_string(&d).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Move decision #10 (line 11) to another worker.
    let cells: Vec<&str> = lines[10].split(',').collect();
    let moved = if cells[2] == "worker-0019" {
        "worker-0018"
    } else {
        "worker-0019"
    };
    let (time, test, worker) = (
        cells[0].to_string(),
        cells[1].to_string(),
        cells[2].to_string(),
    );
    lines[10] = lines[10].replace(&worker, moved);
    let changed = tmp("one-changed.csv");
    std::fs::write(&changed, lines.join("\n") + "\n").unwrap();
    let o = diff(&d, &changed, &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("decisions differing: 1 of 60 (1.667 %)"),
        "{out}"
    );
    assert!(out.contains(&format!(
        "first divergence: decision #10\n  A: t={time} {test} -> {worker}\n  B: t={time} {test} -> {moved}\n"
    )), "{out}");
    assert!(stderr(&o).contains("differ beyond the tolerance of 0 %"));
}

#[test]
fn differences_beyond_the_tolerance_exit_1() {
    let (da, ja) = stress("pb", &[]);
    let (db, jb) = stress("rr", &["--scheduler", "round_robin"]);
    let o = diff(&ja, &jb, &["--tolerance", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.starts_with("diff (results)"));
    assert!(out.contains("worker_assignment_stddev"));
    assert!(out.ends_with("beyond tolerance of 1 %\n"));
    let o = diff(&da, &db, &["--tolerance", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("first divergence: decision #"));
}

#[test]
fn bad_input_exits_2() {
    let (d, j) = stress("bad", &[]);
    let junk = tmp("junk.csv");
    std::fs::write(&junk, "time,test,worker\n1.0,test-0\n").unwrap();
    let broken = tmp("broken.json");
    std::fs::write(&broken, "{\"metrics\": ").unwrap();
    for (a, b, expected) in [
        (&d, &j, "is results JSON but"),
        (&d, &junk, "junk.csv: line 2: expected 3 fields, found 2"),
        (&j, &broken, "broken.json: line 1 column 12: not valid JSON"),
    ] {
        let o = diff(a, b, &[]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{}", stderr(&o));
    }
    let o = diff(&d, &d, &["--tolerance", "-3"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_determinism_proves_a_stress_run_reproducible() {
    let o = lbsim(&[
        "check-determinism",
        "--tests",
        "200",
        "--dynamic",
        "--burst",
        "--seed",
        "7",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.ends_with("deterministic\n"), "{out}");
    let runs: Vec<&str> = out.lines().filter(|l| l.starts_with("  run ")).collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].replace("run 1", ""), runs[1].replace("run 2", ""));
    let o = lbsim(&["check-determinism", "--output", "x.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn golden_diff_of_two_policies() {
    let (a, _) = stress("golden-pb", &["--seed", "3"]);
    let (b, _) = stress("golden-rr", &["--seed", "3", "--scheduler", "round_robin"]);
    let o = diff(&a, &b, &["--tolerance", "10"]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o).replace(&tmp("").display().to_string(), "");
    insta::with_settings!({snapshot_path => "../../golden", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("diff_two_policies", text);
    });
}

/// FNV-1a, 64 bits: the hash `check-determinism` prints for the results JSON.
fn fnv1a(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The results-JSON hash both runs of `check-determinism` printed (`args`
/// after the command name).
fn checked_json_hash(args: &[&str]) -> String {
    checked_json_hash_of(&[&["check-determinism"], args].concat())
}

fn checked_json_hash_of(args: &[&str]) -> String {
    let o = lbsim(args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.ends_with("deterministic\n"), "{out}");
    let hashes: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once("results JSON hash ").map(|(_, h)| h))
        .collect();
    assert_eq!(hashes.len(), 2, "{out}");
    assert_eq!(hashes[0], hashes[1]);
    hashes[0].to_string()
}

#[test]
fn check_determinism_checks_exactly_what_the_same_flags_run() {
    // Balancing flags are part of the configuration, not ignored.
    let flags = [
        "--tests",
        "300",
        "--dynamic",
        "--work-stealing",
        "--concurrency-keys",
        "5",
    ];
    let json = tmp("det-stress.json");
    let o = lbsim(&[&["stress"], &flags[..], &["--output", path_str(&json)]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let file = fnv1a(&std::fs::read(&json).expect("stress results"));
    assert_eq!(checked_json_hash(&flags), file);
    assert_ne!(
        checked_json_hash(&flags[..3]),
        file,
        "stealing and keys changed nothing"
    );

    // A scenario, named after the command or with --scenario.
    let json = tmp("det-scenario.json");
    let o = lbsim(&[
        "scenario",
        "flash_crowd",
        "--tests",
        "1500",
        "--output",
        path_str(&json),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = fnv1a(&std::fs::read(&json).expect("scenario results"));
    assert_eq!(checked_json_hash(&["flash_crowd", "--tests", "1500"]), file);
    let named_first = [
        "--scenario",
        "flash_crowd",
        "check-determinism",
        "--tests",
        "1500",
    ];
    assert_eq!(checked_json_hash_of(&named_first), file);

    // A scenario brings its own arrivals and churn; an unknown one is bad input.
    for bad in [&["flash_crowd", "--burst"][..], &["no_such_scenario"]] {
        let o = lbsim(&[&["check-determinism"], bad].concat());
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stdout(&o));
        assert!(stderr(&o).starts_with("lbsim: error: "), "{}", stderr(&o));
    }
    // It writes no files, so clap refuses an output option.
    let o = lbsim(&["check-determinism", "--output", "x.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'--output'"), "{}", stderr(&o));
}

#[test]
fn every_kind_of_run_results_is_compared_and_a_mistyped_one_is_named() {
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny.swf");
    let mut files = Vec::new();
    for (name, args) in [
        ("replay-a", vec!["replay", path_str(&trace)]),
        (
            "replay-b",
            vec!["replay", path_str(&trace), "--scheduler", "fifo"],
        ),
        ("spike", vec!["spike", "--tests", "200"]),
    ] {
        let json = tmp(&format!("{name}.json"));
        let o = lbsim(&[&args[..], &["--output", path_str(&json)]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        files.push(json);
    }
    let o = diff(&files[0], &files[1], &["--tolerance", "1000"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("\nlatency.p99 "), "{}", stdout(&o));
    let o = diff(&files[0], &files[2], &["--tolerance", "1000000"]);
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));

    let text = std::fs::read_to_string(&files[2]).unwrap();
    let mistyped = tmp("mistyped.json");
    std::fs::write(
        &mistyped,
        text.replacen("\"total_tests\": ", "\"total_tests\": -", 1),
    )
    .unwrap();
    let o = diff(&files[2], &mistyped, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("mistyped.json: metrics.total_tests (line ") && err.lines().count() == 1,
        "{err}"
    );
}
