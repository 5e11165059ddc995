//! The config file end to end through the CLI: the reference's example files
//! parse, every kind of bad config exits 2 with a message naming the file,
//! the field path and (for syntax errors) the line and column, the LB_*
//! environment variables, and test failures, retries and timeouts.

use std::path::PathBuf;

use super::common::{lbsim_with_env as lbsim, stderr, stdout};

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-config-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(name: &str, text: &str) -> PathBuf {
    let path = scratch(name).join("config.json");
    std::fs::write(&path, text).unwrap();
    path
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `--list-scenarios` on a config and expects exit 2 with all `needles`.
fn rejected(name: &str, text: &str, needles: &[&str]) {
    let path = write(name, text);
    let o = lbsim(
        &["--config", path.to_str().unwrap(), "--list-scenarios"],
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {err}");
    assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
    assert!(
        err.contains(path.to_str().unwrap()),
        "{name}: names the file: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "{name}: expected {n:?} in {err}");
    }
}

#[test]
fn the_reference_example_files_parse_and_run() {
    let o = lbsim(
        &[
            "--config",
            &fixture("reference-command-config.json"),
            "--list-scenarios",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("normal_operation  Normal operation with steady test submission")
    );
    // The guide's fragment names profiles it does not define: the built-in
    // ones fill in, so it runs as the guide says.
    let guide = fixture("reference-guide-custom-scenario.json");
    let o = lbsim(
        &["--config", &guide, "--scenario", "my_custom_scenario"],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("20 workers, 100 tests over 30 s, bursts, dynamic workers"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn broken_json_names_line_and_column() {
    rejected(
        "syntax",
        "{\n  \"test_configurations\": {\n    \"a\": {\"workers\": 5,}\n  }\n}\n",
        &["line 3, column 24", "trailing comma"],
    );
}

#[test]
fn nan_is_not_json() {
    rejected(
        "nan",
        "{\"test_configurations\": {\"a\": {\"duration\": NaN}}}",
        &["line 1, column 44", "expected value"],
    );
}

#[test]
fn an_unknown_field_is_named_with_its_path() {
    rejected(
        "unknown",
        r#"{"scenario_configurations": {"s": {"test_config": "small", "bursts": true}}}"#,
        &[
            "scenario_configurations.s.bursts",
            "unknown field `bursts`",
            "burst_mode",
        ],
    );
}

#[test]
fn negative_and_zero_counts_are_refused() {
    rejected(
        "negative",
        r#"{"test_configurations": {"a": {"workers": -3}}}"#,
        &[
            "test_configurations.a.workers",
            "-3 must be a whole number >= 1",
        ],
    );
    rejected(
        "zero",
        r#"{"test_configurations": {"a": {"tests": 0}}}"#,
        &[
            "test_configurations.a.tests",
            "0 must be a whole number >= 1",
        ],
    );
    rejected(
        "zero_duration",
        r#"{"test_configurations": {"a": {"duration": 0}}}"#,
        &["test_configurations.a.duration"],
    );
    rejected(
        "negative_cuda",
        r#"{"worker_profiles": {"w": {"cuda_distribution": [0, -1]}}}"#,
        &["worker_profiles.w.cuda_distribution[1]", "-1 must be"],
    );
}

#[test]
fn an_empty_distribution_is_refused() {
    rejected(
        "empty",
        r#"{"worker_profiles": {"w": {"memory_distribution": []}}}"#,
        &["worker_profiles.w.memory_distribution", "must not be empty"],
    );
    rejected(
        "priority",
        r#"{"test_profiles": {"t": {"priority_distribution": [1, 9]}}}"#,
        &[
            "test_profiles.t.priority_distribution[1]",
            "priority from 1 to 5",
        ],
    );
}

#[test]
fn a_missing_profile_is_named_with_the_known_ones() {
    rejected(
        "missing",
        r#"{"scenario_configurations": {"s": {"worker_profile": "gpu_farm"}}}"#,
        &[
            "scenario_configurations.s.worker_profile",
            "no worker profile 'gpu_farm'",
            "balanced",
            "cpu_heavy",
        ],
    );
    rejected(
        "scheduler",
        r#"{"scenario_configurations": {"s": {"scheduler": "fastest"}}}"#,
        &[
            "scenario_configurations.s.scheduler",
            "unknown scheduler 'fastest'",
            "round_robin",
        ],
    );
    rejected(
        "spike",
        r#"{"scenario_configurations": {"s": {"arrivals": {"type": "even", "spikes": [{"start": 1, "length": 2, "multiplier": -1}]}}}}"#,
        &["scenario_configurations.s.arrivals.spikes[0].multiplier"],
    );
}

#[test]
fn an_arrival_pattern_takes_only_its_own_fields_and_spikes() {
    rejected(
        "stray",
        r#"{"scenario_configurations": {"s": {"arrivals": {"type": "even", "rate": 2}}}}"#,
        &[
            "scenario_configurations.s.arrivals (line 1, column 75)",
            "unknown field `rate`, expected `spikes`",
        ],
    );
    rejected(
        "typo",
        r#"{"scenario_configurations": {"s": {"arrivals": {"type": "poisson", "rat": 2}}}}"#,
        &["unknown field `rat`, expected `rate` or `spikes`"],
    );
    // `spiky` is how a results file writes spikes; a config puts them beside
    // the base pattern.
    rejected(
        "spiky",
        r#"{"scenario_configurations": {"s": {"arrivals": {"type": "spiky"}}}}"#,
        &[
            "scenario_configurations.s.arrivals.type (line 1, column 63)",
            "unknown variant `spiky`, expected one of `even`, `bursts`, `poisson`",
        ],
    );
    // A spike's own errors name the spike.
    rejected(
        "spike_field",
        r#"{"scenario_configurations": {"s": {"arrivals": {"type": "even", "spikes": [{"start": 1}]}}}}"#,
        &[
            "scenario_configurations.s.arrivals.spikes[0] (line 1, column 87)",
            "missing field `length`",
        ],
    );
    rejected(
        "rate_zero",
        r#"{"scenario_configurations": {"s": {"arrivals": {"type": "poisson", "rate": 0}}}}"#,
        &["scenario_configurations.s.arrivals.rate: must be a positive number of tests per second"],
    );
}

#[test]
fn a_bad_rate_or_option_is_named_by_its_path_in_the_scenario() {
    rejected(
        "churn",
        r#"{"scenario_configurations": {"s": {"churn": {"type": "random", "join_probability": 2}}}}"#,
        &["scenario_configurations.s.churn.join_probability: 2 must be a probability in [0, 1]"],
    );
    rejected(
        "load",
        r#"{"scenario_configurations": {"s": {"load": {"update_probability": 1.5}}}}"#,
        &["scenario_configurations.s.load.update_probability: 1.5 must be a probability in [0, 1]"],
    );
    rejected(
        "stealing",
        r#"{"scenario_configurations": {"s": {"work_stealing": {"steal_interval": 0}}}}"#,
        &["scenario_configurations.s.work_stealing.steal_interval: must be a positive number of seconds"],
    );
}

#[test]
fn an_unknown_scenario_lists_the_known_ones() {
    let o = lbsim(&["--scenario", "normal_operations"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("unknown scenario 'normal_operations'"),
        "{err}"
    );
    for known in [
        "normal_operation",
        "high_priority_burst",
        "resource_contention",
        "worker_churn",
        "spike_and_recovery",
    ] {
        assert!(err.contains(known), "{err}");
    }
    let o = lbsim(
        &["--config", "/nonexistent/c.json", "--list-scenarios"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/c.json: cannot be read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn lb_config_path_replaces_the_default_and_the_flag_wins() {
    let path = write(
        "envpath",
        r#"{"scenario_configurations": {"only_mine": {"description": "mine"}}}"#,
    );
    let p = path.to_str().unwrap();
    let o = lbsim(&["--list-scenarios"], &[("LB_CONFIG_PATH", p)]);
    assert_eq!(stdout(&o), "only_mine  mine\n");
    let o = lbsim(
        &[
            "--list-scenarios",
            "--config",
            &fixture("reference-command-config.json"),
        ],
        &[("LB_CONFIG_PATH", p)],
    );
    assert!(stdout(&o).starts_with("normal_operation"), "{}", stdout(&o));
}

#[test]
fn lb_max_workers_stops_a_run_that_would_exceed_it() {
    let o = lbsim(&["stress", "--workers", "30"], &[("LB_MAX_WORKERS", "25")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("30 workers, more than LB_MAX_WORKERS=25"),
        "{}",
        stderr(&o)
    );
    // Dynamic workers may grow to 1.5 × 20 = 30.
    let o = lbsim(&["spike"], &[("LB_MAX_WORKERS", "29")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = lbsim(&["benchmark"], &[("LB_MAX_WORKERS", "50")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("benchmark grid could reach 100 workers"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty(), "nothing ran");
    let o = lbsim(&["stress", "--workers", "25"], &[("LB_MAX_WORKERS", "25")]);
    assert!(o.status.success());
}

#[test]
fn bad_environment_values_exit_2() {
    for (k, v) in [
        ("LB_LOG_LEVEL", "LOUD"),
        ("LB_MAX_WORKERS", "many"),
        ("LB_DEFAULT_DURATION", "-5"),
    ] {
        let o = lbsim(&["stress"], &[(k, v)]);
        assert_eq!(o.status.code(), Some(2), "{k}");
        assert!(stderr(&o).contains(k), "{}", stderr(&o));
    }
}

#[test]
fn lb_default_duration_sets_the_window_unless_a_flag_does() {
    let o = lbsim(&["stress"], &[("LB_DEFAULT_DURATION", "15")]);
    assert!(stdout(&o).contains("100 tests over 15 s"), "{}", stdout(&o));
    let o = lbsim(
        &["stress", "--duration", "20"],
        &[("LB_DEFAULT_DURATION", "15")],
    );
    assert!(stdout(&o).contains("100 tests over 20 s"), "{}", stdout(&o));
    // A test configuration's own duration wins over the default.
    let o = lbsim(
        &["--scenario", "normal_operation"],
        &[("LB_DEFAULT_DURATION", "15")],
    );
    assert!(stdout(&o).contains("100 tests over 30 s"), "{}", stdout(&o));
    let o = lbsim(
        &["--scenario", "normal_operation"],
        &[("LB_LOG_LEVEL", "INFO")],
    );
    assert!(
        stderr(&o).contains("lbsim: info: scenario normal_operation, seed 42"),
        "{}",
        stderr(&o)
    );
}

/// The metrics of a one-scenario config run through `--output`.
fn metrics_of(name: &str, profile: &str) -> serde_json::Value {
    let text = format!(
        r#"{{"test_configurations": {{"c": {{"workers": 10, "tests": 200, "duration": 20}}}},
            "test_profiles": {{"t": {profile}}},
            "scenario_configurations": {{"s": {{"test_config": "c", "test_profile": "t"}}}}}}"#
    );
    let config = write(name, &text);
    let out = config.with_file_name("out.json");
    let o = lbsim(
        &[
            "--config",
            config.to_str().unwrap(),
            "--scenario",
            "s",
            "--output",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    doc["metrics"].clone()
}

#[test]
fn failures_retries_and_timeouts_are_enforced() {
    // Every run fails: each test runs 1 + retries times, then fails.
    let m = metrics_of(
        "always_fails",
        r#"{"failure_probability": 1, "retries": 2, "expected_duration": 2, "duration_distribution": {"type": "fixed"}}"#,
    );
    assert_eq!(
        (m["failed_tests"].as_u64(), m["completed_tests"].as_u64()),
        (Some(200), Some(0))
    );
    // A 10 s run with a 4 s timeout is stopped: turnaround = 3 × 4 s + waits.
    let m = metrics_of(
        "times_out",
        r#"{"timeout": 4, "retries": 2, "duration_distribution": {"type": "fixed"}}"#,
    );
    assert_eq!(m["failed_tests"].as_u64(), Some(200));
    assert!(m["turnaround"]["p50"].as_f64().unwrap() >= 12.0, "{m}");
    // Half the runs fail: retries turn most failures into completions.
    let none = metrics_of("no_retry", r#"{"failure_probability": 0.5, "retries": 0}"#);
    let three = metrics_of("three_retries", r#"{"failure_probability": 0.5}"#);
    let failed = |m: &serde_json::Value| m["failed_tests"].as_u64().unwrap();
    assert!((70..130).contains(&failed(&none)), "{none}");
    assert!(failed(&three) < 30, "default retries is 3: {three}");
}
