//! `"load": {"view": "reported"}` and `--load-view` through the CLI:
//! reproducible, recorded in the results, different from the live view yet
//! still drifting, its cost following tests rather than workers × time, the
//! flag and the field alike, and a bad value named.

use super::common::{lbsim, path_str, stderr, stdout, temp_dir};
use std::path::{Path, PathBuf};

/// Three views of one small workload, contention on so that load slows runs.
const CONFIG: &str = r#"{
  "test_configurations": {
    "small": {"workers": 60, "tests": 3000, "duration": 600, "description": "small"}
  },
  "scenario_configurations": {
    "live": {"test_config": "small", "load": {"contention": true}},
    "reported": {"test_config": "small", "load": {"contention": true, "view": "reported"}},
    "flat": {"test_config": "small", "load": {"enabled": false}}
  }
}"#;

fn config(dir: &Path) -> PathBuf {
    let path = dir.join("views.json");
    std::fs::write(&path, CONFIG).unwrap();
    path
}

/// Runs a scenario of the config; returns the results JSON and the stdout.
fn run(dir: &Path, scenario: &str, extra: &[&str]) -> (String, String) {
    let out = dir.join(format!("{scenario}-{}.json", extra.join("-")));
    let cfg = config(dir);
    let mut args = vec!["--config", path_str(&cfg), "scenario", scenario];
    args.extend(extra);
    args.extend(["--output", path_str(&out)]);
    let o = lbsim(&args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    (std::fs::read_to_string(out).unwrap(), stdout(&o))
}

/// The mean turnaround (submission to end) of a results JSON.
fn mean_turnaround(json: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["metrics"]["turnaround"]["avg"].as_f64().unwrap()
}

#[test]
fn reported_runs_are_reproducible_and_say_their_view() {
    let dir = temp_dir("reported-repro");
    let (a, _) = run(&dir, "reported", &[]);
    let (b, _) = run(&dir, "reported", &[]);
    assert_eq!(a, b);
    assert!(a.contains("\"view\": \"reported\""));
    let (c, _) = run(&dir, "reported", &["--seed", "7"]);
    assert_ne!(a, c);
    // The live view is the default and is not written, so results from
    // before the field existed keep their bytes.
    let (live, _) = run(&dir, "live", &[]);
    assert!(!live.contains("\"view\""));
}

#[test]
fn the_reported_view_is_its_own_model_and_still_drifts() {
    let dir = temp_dir("reported-model");
    let (reported, _) = run(&dir, "reported", &[]);
    let (live, _) = run(&dir, "live", &[]);
    let (flat, _) = run(&dir, "flat", &[]);
    let (r, l, f) = (
        mean_turnaround(&reported),
        mean_turnaround(&live),
        mean_turnaround(&flat),
    );
    // Background load slows runs under contention in both views (by about
    // a fifth here). With 60 workers each reports every 5 s, so the
    // balancer's view is seconds old and the outcome stays near the live
    // view's (11.97 s live, 12.10 s reported), yet it is its own run.
    assert!(
        r > 1.1 * f && l > 1.1 * f,
        "reported {r}, live {l}, no drift {f}"
    );
    assert!((r - l).abs() < 0.05 * l, "reported {r}, live {l}");
    assert_ne!(reported, live);
}

/// Events of a run, from its summary ("…, N events").
fn events(summary: &str) -> u64 {
    let line = summary.lines().find(|l| l.contains(" events")).unwrap();
    let n = line
        .rsplit(", ")
        .next()
        .unwrap()
        .trim_end_matches(" events");
    n.parse().unwrap()
}

/// The live view's thermal phases end as events for every worker; the
/// reported view's heartbeats ride on the pool cycles and what they tell
/// holds until the next one, so its event count follows the tests, not the
/// workers. (Instruction counts are in the README; no timing here.)
#[test]
fn reported_cost_follows_tests_not_workers() {
    let dir = temp_dir("reported-cost");
    let few = ["--workers", "60"];
    let many = ["--workers", "6000"];
    let reported = (
        events(&run(&dir, "reported", &few).1),
        events(&run(&dir, "reported", &many).1),
    );
    let live = (
        events(&run(&dir, "live", &few).1),
        events(&run(&dir, "live", &many).1),
    );
    assert!(
        reported.1 < reported.0 * 3 / 2,
        "reported {reported:?}, live {live:?}"
    );
    assert!(live.1 > live.0 * 5, "live {live:?}");
}

#[test]
fn a_bad_view_is_named_with_its_file_and_line() {
    let dir = temp_dir("reported-bad");
    let path = dir.join("bad.json");
    std::fs::write(&path, CONFIG.replace("\"reported\"}", "\"stale\"}")).unwrap();
    let o = lbsim(&["--config", path_str(&path), "scenario", "reported"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.json: scenario_configurations.reported.load.view (line 7")
            && err.contains("unknown variant `stale`, expected `live` or `reported`"),
        "{err}"
    );
}

/// The results JSON without its scenario's name and description.
fn without_names(json: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["scenario"] = serde_json::Value::Null;
    v["configuration"]["description"] = serde_json::Value::Null;
    v.to_string()
}

#[test]
fn the_flag_does_what_the_field_does() {
    let dir = temp_dir("reported-flag");
    let (field, _) = run(&dir, "reported", &[]);
    let (flag, _) = run(&dir, "live", &["--load-view", "reported"]);
    assert_eq!(without_names(&flag), without_names(&field));
    let (back, _) = run(&dir, "reported", &["--load-view", "live"]);
    let (live, _) = run(&dir, "live", &[]);
    assert_eq!(without_names(&back), without_names(&live));
    // `stress` takes it too, and says so in its results.
    let out = dir.join("stress.json");
    let args = [
        "stress",
        "--workers",
        "50",
        "--tests",
        "500",
        "--load-view",
        "reported",
    ];
    let o = lbsim(&[&args[..], &["--output", path_str(&out)]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(out)
        .unwrap()
        .contains("\"view\": \"reported\""));
    let o = lbsim(&["stress", "--load-view", "stale"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("'stale' is not live or reported"),
        "{}",
        stderr(&o)
    );
}

/// The heartbeat pace belongs to the reported view: given with the live
/// view it is refused rather than ignored, and it must be positive.
#[test]
fn the_report_pace_is_checked() {
    let dir = temp_dir("reported-pace");
    let cases = [
        (
            "\"contention\": true}",
            "\"contention\": true, \"report_rate\": 100}",
            "live",
            "load.report_rate: applies only with \"view\": \"reported\"",
        ),
        (
            "\"view\": \"reported\"}",
            "\"view\": \"reported\", \"report_rate\": 0}",
            "reported",
            "load.report_rate",
        ),
        (
            "\"view\": \"reported\"}",
            "\"view\": \"reported\", \"report_interval\": -5}",
            "reported",
            "load.report_interval",
        ),
    ];
    for (i, (from, to, scenario, want)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("pace{i}.json"));
        let text = CONFIG.replacen(from, to, 1);
        assert_ne!(text, CONFIG, "case {i} edits the config");
        std::fs::write(&path, text).unwrap();
        let o = lbsim(&["--config", path_str(&path), "scenario", scenario]);
        assert_eq!(o.status.code(), Some(2), "case {i}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "case {i}: {err}");
    }
    let ok = dir.join("pace-ok.json");
    let text = CONFIG.replace(
        "\"view\": \"reported\"}",
        "\"view\": \"reported\", \"report_rate\": 50, \"report_interval\": 2}",
    );
    std::fs::write(&ok, text).unwrap();
    let out = dir.join("pace-ok-out.json");
    let o = lbsim(&[
        "--config",
        path_str(&ok),
        "scenario",
        "reported",
        "--output",
        path_str(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = std::fs::read_to_string(out).unwrap();
    assert!(
        json.contains("\"per_second\": 50.0") && json.contains("\"min_interval_s\": 2.0"),
        "{json}"
    );
}
