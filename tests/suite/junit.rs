//! `lbsim replay` on JUnit test reports: a suite replays on its default
//! pool with failures and skips accounted for, reports and directories
//! merge, the requirements map and arrival patterns apply, malformed XML
//! exits 2 naming file and line, and `longest_first` shortens the suite.

use super::common::{lbsim, path_str, stderr, stdout, temp_dir};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/junit")
        .join(name)
}

fn fx(name: &str) -> String {
    fixture(name).display().to_string()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The results JSON of a replay with `args`.
fn results(dir: &Path, name: &str, args: &[&str]) -> serde_json::Value {
    let out = dir.join(format!("{name}.json"));
    let mut all = vec!["replay"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", path_str(&out)]);
    let o = lbsim(&all);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    json(&out)
}

#[test]
fn a_pytest_report_replays_with_failures_run_and_skips_counted() {
    let dir = temp_dir("junit-pytest");
    let v = results(&dir, "pytest", &[&fx("pytest.xml")]);
    let t = &v["trace"];
    assert_eq!(t["format"], "junit");
    assert_eq!(
        (t["records"].as_u64(), t["replayed"].as_u64()),
        (Some(11), Some(9))
    );
    assert_eq!(t["unusable_reasons"]["skipped"], 2);
    let j = &t["junit"];
    assert_eq!(
        [
            &j["testcases"],
            &j["passed"],
            &j["failed"],
            &j["errors"],
            &j["skipped"]
        ],
        [11, 7, 1, 1, 2]
    );
    assert_eq!(j["arrivals"]["type"], "at_once");
    assert_eq!(j["longest"], "tests.test_inventory::test_slow_import");
    assert_eq!(t["cluster"]["workers"], 4, "the default pool");
    assert_eq!(t["cluster"]["cores_per_worker"], 1);
    let m = &v["metrics"];
    assert_eq!(
        (m["completed_tests"].as_u64(), m["failed_tests"].as_u64()),
        (Some(7), Some(2))
    );
    let o = lbsim(&["replay", &fx("pytest.xml")]);
    let text = stdout(&o);
    assert!(
        text.contains(
            "junit: 1 report, 11 test cases: 7 passed, 1 failed, 1 error, 2 skipped (not replayed)"
        ),
        "{text}"
    );
    assert!(
        stderr(&o).is_empty(),
        "skips are said on stdout, not warned: {}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reports_and_directories_merge_in_sorted_order() {
    let dir = temp_dir("junit-merge");
    let a = results(
        &dir,
        "a",
        &[
            &fx("go-junit-report.xml"),
            &fx("surefire"),
            &fx("ctest.xml"),
        ],
    );
    let b = results(
        &dir,
        "b",
        &[
            &fx("surefire"),
            &fx("ctest.xml"),
            &fx("go-junit-report.xml"),
        ],
    );
    assert_eq!(
        a["metrics"], b["metrics"],
        "the order named does not matter"
    );
    let j = &a["trace"]["junit"];
    assert_eq!(
        (j["files"].as_u64(), j["testcases"].as_u64()),
        (Some(4), Some(7 + 8 + 4))
    );
    // A report of another format does not merge.
    let o = lbsim(&[
        "replay",
        &fx("pytest.xml"),
        "tests/data/tiny.swf",
        "--format",
        "swf",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("only JUnit reports merge"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_requirements_map_and_arrival_patterns_apply() {
    let dir = temp_dir("junit-map");
    let map = fx("requirements.json");
    let v = results(&dir, "mapped", &[&fx("pytest.xml"), "--requirements", &map]);
    let j = &v["trace"]["junit"];
    assert_eq!(
        (j["mapped"].as_u64(), j["unmapped"].as_u64()),
        (Some(3), Some(6))
    );
    assert_eq!(j["labels"], "not used");
    assert_eq!(j["requirements"], map.as_str());
    let spread = results(
        &dir,
        "spread",
        &[&fx("pytest.xml"), "--arrivals", "even:90"],
    );
    assert_eq!(spread["trace"]["junit"]["arrivals"]["over_s"], 90.0);
    let at_once = results(&dir, "once", &[&fx("pytest.xml")]);
    // Spread over 90 s, the suite cannot end before the last arrival at 80 s.
    let end = |v: &serde_json::Value| v["run"]["end_time"].as_f64().unwrap();
    assert!(
        end(&spread) > 80.0 && end(&at_once) < 1.0,
        "{} {}",
        end(&spread),
        end(&at_once)
    );
    let bad = lbsim(&["replay", &fx("pytest.xml"), "--arrivals", "trickle"]);
    assert_eq!(bad.status.code(), Some(2));
    let swf = lbsim(&["replay", "tests/data/tiny.swf", "--requirements", &map]);
    assert_eq!(swf.status.code(), Some(2));
    assert!(
        stderr(&swf).contains("invalid --requirements"),
        "{}",
        stderr(&swf)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_reports_exit_2_naming_file_and_line() {
    let dir = temp_dir("junit-bad");
    let cut = dir.join("cut.xml");
    std::fs::write(
        &cut,
        "<testsuite>\n<testcase name=\"a\" time=\"1\">\n</testsuite>\n",
    )
    .unwrap();
    let bad_time = dir.join("time.xml");
    std::fs::write(&bad_time, "<testsuites>\n<testsuite>\n<testcase name=\"a\" time=\"soon\"/>\n</testsuite></testsuites>").unwrap();
    let map = dir.join("map.json");
    std::fs::write(&map, "{\"rules\": [{\"match\": \"*\", \"priority\": 0}]}").unwrap();
    for (args, needle) in [
        (vec![path_str(&cut)], format!("{}: line 3: ", cut.display())),
        (
            vec![path_str(&bad_time)],
            format!("{}: line 3: time: 'soon'", bad_time.display()),
        ),
        (
            vec![&fx("pytest.xml"), "--requirements", path_str(&map)],
            format!("{}: rules[0].priority: must be from 1 to 5", map.display()),
        ),
    ] {
        let mut all = vec!["replay"];
        all.extend(args);
        let o = lbsim(&all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&needle), "{needle:?} not in {err}");
        assert!(o.stdout.is_empty());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// LPT on the 5,000-test suite: within a few seconds of the bound no
/// schedule can beat (the serial time over the workers, or the longest
/// test), and shorter than submission order.
#[test]
fn longest_first_brings_a_large_suite_near_its_lower_bound() {
    let dir = temp_dir("junit-lpt");
    let suite = fx("large-5000.xml");
    let run = |s: &str| results(&dir, s, &[&suite, "--workers", "16", "--scheduler", s]);
    let lpt = run("longest_first");
    let fifo = run("fifo");
    let j = &lpt["trace"]["junit"];
    let bound = (j["serial_s"].as_f64().unwrap() / 16.0).max(j["longest_s"].as_f64().unwrap());
    // Every test is submitted at 0: the run ends when the suite does.
    let makespan = |v: &serde_json::Value| v["run"]["end_time"].as_f64().unwrap();
    assert!(makespan(&lpt) >= bound - 1e-6);
    assert!(
        makespan(&lpt) < bound * 1.01,
        "{} vs {bound}",
        makespan(&lpt)
    );
    assert!(
        makespan(&fifo) > makespan(&lpt) * 1.1,
        "{} vs {}",
        makespan(&fifo),
        makespan(&lpt)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A replay's decision log.
fn decisions(dir: &Path, suite: &str, scheduler: &str, workers: &str) -> String {
    let log = dir.join(format!("{scheduler}-{workers}.csv"));
    let o = lbsim(&[
        "replay",
        suite,
        "--workers",
        workers,
        "--scheduler",
        scheduler,
        "--decisions",
        path_str(&log),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::read_to_string(&log).unwrap()
}

/// On the Surefire suite, two workers: the 1,502 s test starts first and
/// every freed worker takes the longest test left. The snapshot pins the
/// order; `least_loaded` places the same tests in report order. (On the
/// stress workload of `decision_log.rs` every test expects the same run,
/// so there its log is `least_loaded`'s: the golden says so.)
#[test]
fn longest_first_decision_log_on_a_suite() {
    let dir = temp_dir("junit-lpt-log");
    let suite = fx("surefire");
    let lpt = decisions(&dir, &suite, "longest_first", "2");
    let plain = decisions(&dir, &suite, "least_loaded", "2");
    let tests = |log: &str| -> Vec<String> {
        log.lines()
            .skip(1)
            .map(|r| r.split(',').nth(1).unwrap().to_string())
            .collect()
    };
    assert_ne!(tests(&lpt), tests(&plain));
    // test-000006 is warehouseTransfer (1,502.25 s), the seventh case.
    assert_eq!(tests(&lpt)[0], "test-000006");
    insta::with_settings!({snapshot_path => "../../golden", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("decisions_longest_first_junit", lpt);
    });
    let golden = |p: &str| std::fs::read_to_string(format!("golden/decisions_{p}.snap")).unwrap();
    let body = |s: String| s.split_once("\n---\n").unwrap().1.to_string();
    assert_eq!(
        body(golden("longest_first")).replace("longest_first", "least_loaded"),
        body(golden("least_loaded")),
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
