//! Where options go: before or after the command, to the command that takes
//! them; an option a command does not take is refused (exit 2), never
//! ignored; output paths are checked before anything runs.

use super::common::{lbsim, path_str, stderr, stdout, temp_dir};

/// Exit 2, with `needles` in the message, and nothing run.
fn refused(args: &[&str], needles: &[&str]) {
    let out = lbsim(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "{args:?}: {needle:?} missing from {err}"
        );
    }
    assert!(stdout(&out).is_empty(), "{args:?} ran: {}", stdout(&out));
    assert!(!err.contains("panicked"), "{err}");
}

fn same_stdout(a: &[&str], b: &[&str]) {
    let (x, y) = (lbsim(a), lbsim(b));
    assert!(x.status.success(), "{a:?}: {}", stderr(&x));
    assert!(y.status.success(), "{b:?}: {}", stderr(&y));
    assert_eq!(stdout(&x), stdout(&y), "{a:?} vs {b:?}");
}

#[test]
fn run_options_without_a_command_run_stress() {
    same_stdout(
        &["--burst", "--tests", "50"],
        &["stress", "--burst", "--tests", "50"],
    );
    same_stdout(
        &["--dynamic", "--seed", "4"],
        &["stress", "--seed", "4", "--dynamic"],
    );
}

#[test]
fn options_before_a_command_that_takes_them_go_to_it() {
    same_stdout(
        &["--seed", "3", "--scenario", "worker_churn"],
        &["scenario", "worker_churn", "--seed", "3"],
    );
    same_stdout(
        &["--workers", "6", "--tests", "60", "spike"],
        &["spike", "--workers", "6", "--tests", "60"],
    );
    same_stdout(
        &[
            "--seed",
            "5",
            "--burst",
            "check-determinism",
            "--tests",
            "50",
        ],
        &[
            "check-determinism",
            "--tests",
            "50",
            "--burst",
            "--seed",
            "5",
        ],
    );
}

#[test]
fn options_a_command_does_not_take_are_refused() {
    // After the command, clap refuses them.
    refused(&["benchmark", "--workers", "3"], &["--workers"]);
    refused(&["benchmark", "--csv", "x.csv"], &["--csv"]);
    refused(&["benchmark", "--decisions", "x.csv"], &["--decisions"]);
    refused(
        &["benchmark", "--full", "--scheduler", "fifo"],
        &["--scheduler"],
    );
    refused(&["scenario", "worker_churn", "--burst"], &["--burst"]);
    refused(&["stress", "--config", "x.json"], &["--config"]);
    refused(&["spike", "--dynamic"], &["--dynamic"]);
    refused(&["replay", "t.swf", "--tests", "5"], &["--tests"]);
    refused(
        &["replay", "t.swf", "--concurrency-keys", "2"],
        &["--concurrency-keys"],
    );
    refused(&["sweep", "g.json", "--seed", "1"], &["--seed"]);
    refused(
        &["sweep", "g.json", "--work-stealing"],
        &["--work-stealing"],
    );
    refused(&["check-determinism", "--stats"], &["--stats"]);
    refused(&["diff", "a", "b", "--workers", "2"], &["--workers"]);
    // Before it, the message names the option and the command.
    let benchmark = [
        "lbsim: error: invalid --workers: benchmark does not take it (see lbsim benchmark --help)",
    ];
    refused(&["--workers", "3", "benchmark"], &benchmark);
    refused(&["--csv", "x.csv", "sweep", "g.json"], &["--csv", "sweep"]);
    refused(
        &["--burst", "--scenario", "worker_churn"],
        &["--burst", "--scenario"],
    );
    refused(&["--config", "x.json"], &["--config", "stress"]);
    refused(
        &["--seed", "1", "visualize", "r.json"],
        &["--seed", "visualize"],
    );
    // Twice, once on each side, is refused rather than one winning.
    refused(
        &["--seed", "1", "stress", "--seed", "2"],
        &["--seed", "both before and after"],
    );
    // --scenario is a command of its own (or check-determinism's scenario).
    refused(
        &["--scenario", "worker_churn", "stress"],
        &["--scenario", "stress"],
    );
    refused(
        &["--list-scenarios", "--workers", "3"],
        &["--workers", "--list-scenarios"],
    );
    refused(
        &["--list-schedulers", "spike"],
        &["--list-schedulers", "spike"],
    );
}

#[test]
fn output_paths_are_checked_before_the_run() {
    let dir = temp_dir("output-paths");
    let missing = dir.join("no-such-dir").join("r.json");
    // A run this long would take minutes; the check comes first.
    let long = [
        "spike",
        "--workers",
        "1000",
        "--tests",
        "5000000",
        "--duration",
        "36000",
    ];
    refused(
        &[&long[..], &["--output", path_str(&missing)]].concat(),
        &["invalid --output: directory ", "no-such-dir does not exist"],
    );
    refused(
        &[&long[..], &["--csv", path_str(&dir)]].concat(),
        &["invalid --csv: ", "is a directory"],
    );
    let same = dir.join("r.json");
    refused(
        &[
            "stress",
            "--output",
            path_str(&same),
            "--decisions",
            path_str(&same),
        ],
        &["invalid --decisions: ", "is also the --output file"],
    );
    refused(
        &["benchmark", "--output", path_str(&missing)],
        &["invalid --output"],
    );
    refused(
        &["sweep", "no-grid.json", "--output", path_str(&missing)],
        &["invalid --output"],
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );
}
