//! `lbsim stress` as a user runs it: defaults, flags in any order, outputs,
//! and every kind of bad input (exit 2, a one-line message naming the flag).

use super::common::{lbsim, path_str, stderr, stdout, temp_dir};

const REFERENCE_METRICS: [&str; 14] = [
    "total_tests",
    "success_rate",
    "avg_latency",
    "max_latency",
    "min_latency",
    "peak_throughput",
    "avg_throughput",
    "worker_assignment_stddev",
    "worker_assignment_range",
    "worker_utilization",
    "avg_scheduling_attempts",
    "final_worker_count",
    "pending_tests",
    "assigned_tests",
];

#[test]
fn defaults_run_and_print_a_summary() {
    let out = lbsim(&["stress"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("20 workers, 100 tests over 60 s"), "{text}");
    assert!(text.contains("seed 42"), "{text}");
    assert!(text.contains("100 submitted"), "{text}");
    // No command at all runs the same stress test.
    assert_eq!(stdout(&lbsim(&[])), text);
}

#[test]
fn output_json_has_the_reference_schema_and_extensions() {
    let dir = temp_dir("schema");
    let json = dir.join("r.json");
    let out = lbsim(&[
        "stress",
        "--workers",
        "5",
        "--tests",
        "40",
        "--duration",
        "20",
        "--output",
        path_str(&json),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let c = &v["configuration"];
    assert_eq!(
        (c["workers"].as_u64(), c["tests"].as_u64()),
        (Some(5), Some(40))
    );
    assert_eq!(c["duration"].as_f64(), Some(20.0));
    assert_eq!(
        (c["burst_mode"].as_bool(), c["dynamic_workers"].as_bool()),
        (Some(false), Some(false))
    );
    for key in REFERENCE_METRICS {
        assert!(v["metrics"][key].is_number(), "metrics.{key} missing");
    }
    assert_eq!(v["metrics"]["total_tests"], 40);
    for key in ["latency", "wait", "turnaround"] {
        for p in ["p50", "p95", "p99"] {
            assert!(
                v["metrics"][key][p].is_number(),
                "metrics.{key}.{p} missing"
            );
        }
    }
    assert!(v["metrics"]["jain_fairness"].is_number());
    assert!(v["metrics"]["memory_utilization"].is_number());
    assert_eq!(v["seed"], 42);
    assert_eq!(v["scheduler"], "performance_based");
    assert_eq!(v["lbsim_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["workers"].as_array().unwrap().len(), 5);
    let tp = v["time_series"]["throughput"].as_array().unwrap();
    assert!(tp.len() >= 20, "one point per simulated second");
    assert!(tp.iter().all(|p| p.as_array().unwrap().len() == 2));
    assert!(v["run"]["end_reason"] == "all_final");
}

#[test]
fn flags_may_come_before_or_after_the_command() {
    let after = lbsim(&["stress", "--workers", "3", "--tests", "10", "--seed", "9"]);
    let before = lbsim(&["--workers", "3", "--tests", "10", "--seed", "9", "stress"]);
    assert!(after.status.success() && before.status.success());
    assert_eq!(stdout(&after), stdout(&before));
    assert!(stdout(&after).contains("3 workers, 10 tests"));
}

#[test]
fn csv_has_one_row_per_test_with_documented_columns() {
    let dir = temp_dir("csv");
    let csv = dir.join("t.csv");
    let out = lbsim(&[
        "stress",
        "--tests",
        "50",
        "--burst",
        "--dynamic",
        "--csv",
        path_str(&csv),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,priority,memory_gb,cuda,submitted_at,assigned_at,started_at,finished_at,worker,attempts,outcome,requeues,wait,expected_duration"
    );
    let mut ids: Vec<&str> = lines
        .clone()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50, "each test exactly once");
    assert!(lines.all(|l| l.split(',').count() == 14));
}

fn assert_bad_input(args: &[&str], needle: &str) {
    let out = lbsim(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(needle), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn bad_input_exits_2_naming_the_flag() {
    assert_bad_input(&["stress", "--workers", "abc"], "--workers");
    assert_bad_input(&["stress", "--workers", "-5"], "--workers");
    assert_bad_input(&["stress", "--workers", "0"], "--workers");
    assert_bad_input(&["stress", "--tests", "-1"], "--tests");
    assert_bad_input(&["stress", "--tests", "1.5"], "--tests");
    assert_bad_input(&["stress", "--duration", "0"], "--duration");
    assert_bad_input(&["stress", "--duration", "-3"], "--duration");
    assert_bad_input(&["stress", "--duration", "NaN"], "--duration");
    assert_bad_input(&["stress", "--duration", "inf"], "--duration");
    assert_bad_input(&["stress", "--seed", "x"], "--seed");
    assert_bad_input(
        &["stress", "--scheduler", "fastest"],
        "unknown scheduler 'fastest'",
    );
    assert_bad_input(&["stress", "--scheduler", "fastest"], "performance_based");
    assert_bad_input(&["stress", "--no-such-flag"], "--no-such-flag");
    assert_bad_input(&["no-such-command"], "no-such-command");
}

#[test]
fn an_output_in_a_missing_directory_is_refused_before_the_run() {
    let dir = temp_dir("unwritable");
    let missing = dir.join("no-such-dir").join("r.json");
    let out = lbsim(&["stress", "--output", path_str(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("lbsim: error: invalid --output: "),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "nothing ran");
    assert!(!missing.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(["stress", "--tests", "2000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before lbsim prints
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn help_and_version_exit_0() {
    let help = lbsim(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("stress"));
    let version = lbsim(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(stdout(&version).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn list_schedulers_prints_one_name_per_line() {
    let out = lbsim(&["--list-schedulers"]);
    assert!(out.status.success());
    let names: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(names.contains(&"performance_based".to_string()));
    assert!(names.contains(&"round_robin".to_string()));
    for name in &names {
        let run = lbsim(&["stress", "--tests", "5", "--scheduler", name]);
        assert!(run.status.success(), "{name}: {}", stderr(&run));
    }
}

#[test]
fn stats_report_the_run_on_stderr_and_change_no_output() {
    let dir = temp_dir("stats");
    let (plain, with_stats) = (dir.join("plain.json"), dir.join("stats.json"));
    let args = ["stress", "--tests", "500", "--workers", "30", "--burst"];
    let quiet = lbsim(&[&args[..], &["--output", path_str(&plain)]].concat());
    let loud = lbsim(&[&args[..], &["--stats", "--output", path_str(&with_stats)]].concat());
    assert!(
        quiet.status.success() && loud.status.success(),
        "{}",
        stderr(&loud)
    );
    // Wall time never reaches stdout or a file: those stay byte-identical.
    assert_eq!(stdout(&quiet), stdout(&loud));
    assert_eq!(
        std::fs::read(&plain).expect("plain results"),
        std::fs::read(&with_stats).expect("results with stats")
    );
    assert!(!stderr(&quiet).contains("stats:"));

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plain).expect("results")).expect("json");
    let run = &json["run"];
    let line = stderr(&loud);
    let line = line
        .lines()
        .find(|l| l.starts_with("stats: "))
        .unwrap_or_else(|| panic!("no stats line in {line:?}"));
    let want = format!(
        "stats: {} events in ",
        run["events"].as_u64().expect("run.events")
    );
    assert!(line.starts_with(&want), "{line}");
    for part in [
        "s wall (",
        "events/s); ",
        "x faster than real time; ",
        &format!("{} scheduling passes, ", run["scheduling_passes"]),
        &format!("{} decisions", run["decisions"]),
    ] {
        assert!(line.contains(part), "{part:?} missing from {line}");
    }
    if cfg!(target_os = "linux") {
        let mb: u64 = line
            .rsplit_once("; peak memory ")
            .and_then(|(_, m)| m.strip_suffix(" MB"))
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("no peak memory in {line}"));
        assert!((1..10_000).contains(&mb), "{line}");
    }
}
