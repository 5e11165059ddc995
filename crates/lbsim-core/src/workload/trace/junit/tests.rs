//! The reader on each runner's shape, and the suite built from it.

use super::parse::{cases, Case, Outcome};
use super::*;
use std::path::Path;

fn read(text: &str) -> Vec<Case> {
    cases("r.xml", text, 1000).unwrap()
}

fn err(text: &str) -> String {
    cases("r.xml", text, 1000).unwrap_err().to_string()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/junit")
        .join(name)
}

fn summary(t: &Trace) -> &JunitSummary {
    t.junit.as_ref().unwrap()
}

#[test]
fn nested_suites_are_read_through_and_names_join_class_and_case() {
    let c = read(
        "<testsuites><testsuite name='a'><testsuite name='b'>\n\
         <testcase classname='pkg.Mod' name='t1' time='1.5'/>\n\
         </testsuite><testcase name='bare' time='2'></testcase></testsuite></testsuites>",
    );
    assert_eq!(c.len(), 2);
    assert_eq!(
        (c[0].name.as_str(), c[0].class.as_str()),
        ("pkg.Mod::t1", "pkg.Mod")
    );
    assert_eq!((c[0].time_s, c[0].line), (Some(1.5), 2));
    assert_eq!((c[1].name.as_str(), c[1].time_s), ("bare", Some(2.0)));
}

#[test]
fn skipped_failed_and_errored_cases_are_told_apart() {
    let c = read(
        "<testsuite>\
         <testcase name='f' time='1'><failure message='x'>trace</failure><system-out/></testcase>\
         <testcase name='e' time='1'><error/></testcase>\
         <testcase name='fe' time='1'><failure/><error/></testcase>\
         <testcase name='s' time='0'><skipped message='later'/></testcase>\
         <testcase name='gtest' time='0' status='notrun'/>\
         <testcase name='ctest' time='0' status='disabled'/>\
         <testcase name='gskip' time='0' result='skipped'/>\
         <testcase name='flaky' time='1'><flakyFailure/></testcase>\
         </testsuite>",
    );
    let outcomes: Vec<Outcome> = c.iter().map(|c| c.outcome).collect();
    use Outcome::*;
    assert_eq!(
        outcomes,
        [Failed, Error, Error, Skipped, Skipped, Skipped, Skipped, Passed]
    );
}

#[test]
fn a_missing_time_is_none_and_a_bad_one_names_the_line() {
    let c = read("<testsuite><testcase name='a'/><testcase name='b' time=''/></testsuite>");
    assert_eq!((c[0].time_s, c[1].time_s), (None, None));
    let c = read("<testsuite><testcase name='a' time='1,502.25'/></testsuite>");
    assert_eq!(c[0].time_s, Some(1502.25));
    assert_eq!(
        err("<testsuite>\n<testcase name='a' time='-1'/></testsuite>"),
        "r.xml: line 2: time: '-1' is not a time in seconds"
    );
    assert_eq!(
        err("<testsuite>\n\n<testcase time='1'/></testsuite>"),
        "r.xml: line 3: a <testcase> without a name"
    );
}

#[test]
fn malformed_xml_names_the_file_and_line() {
    let e = err("<testsuite>\n<testcase name='a'>\n</testsuite>");
    assert!(e.starts_with("r.xml: line 3: "), "{e}");
    let e = err("<testsuite>\n<testcase name='a' time='1'/>\n");
    assert_eq!(
        e,
        "r.xml: line 3: the file ends inside an element (cut short?)"
    );
    let e = err("<html><body/></html>");
    assert!(e.contains("<html> is not a JUnit report"), "{e}");
    assert!(err("just text").contains("no XML element"));
    let e = err("<testsuite>\n<testcase name='a &bogus;'/></testsuite>");
    assert!(e.starts_with("r.xml: line 2: "), "{e}");
    let e = cases(
        "r.xml",
        "<testsuite><testcase name='a'/><testcase name='b'/></testsuite>",
        1,
    );
    assert!(e
        .unwrap_err()
        .to_string()
        .contains("more than 1 test cases"));
}

#[test]
fn pytest_report_becomes_a_suite_with_failures_replayed_and_skips_counted() {
    let t = load(&[fixture("pytest.xml")], &JunitOptions::default(), 1).unwrap();
    let s = summary(&t);
    assert_eq!(
        (s.testcases, s.passed, s.failed, s.errors, s.skipped),
        (11, 7, 1, 1, 2)
    );
    assert_eq!((t.records, t.jobs.len()), (11, 9));
    assert_eq!(t.unusable.get("skipped"), Some(&2));
    assert_eq!(t.format, TraceFormat::Junit);
    assert_eq!(s.longest, "tests.test_inventory::test_slow_import");
    assert!(t.jobs.iter().all(|j| j.submit == SimTime::ZERO));
    assert_eq!(t.jobs.iter().filter(|j| !j.success).count(), 2);
    // Tests of one class share a model family.
    let families: Vec<u32> = t.jobs.iter().map(|j| j.spec.model_family).collect();
    assert_eq!(families, [0, 0, 0, 0, 0, 0, 0, 1, 1]);
    assert_eq!(t.jobs[0].spec, Needs::BUILT_IN.spec(t.jobs[0].run, 0));
}

#[test]
fn surefire_gradle_go_bazel_and_ctest_shapes_read() {
    let one = |name: &str| load(&[fixture(name)], &JunitOptions::default(), 1).unwrap();
    let go = one("go-junit-report.xml");
    let s = summary(&go);
    assert_eq!(
        (s.testcases, s.failed, s.skipped, go.jobs.len()),
        (7, 1, 1, 6)
    );
    let bazel = one("bazel-test.xml");
    assert_eq!(bazel.jobs[0].run, SimDuration::from_secs(41));
    let ctest = one("ctest.xml");
    let s = summary(&ctest);
    assert_eq!((s.testcases, s.failed, s.skipped), (4, 1, 1));
    let gradle = one("gradle");
    let s = summary(&gradle);
    assert_eq!(
        (s.testcases, s.passed, s.skipped, gradle.jobs.len()),
        (3, 2, 1, 2)
    );
    assert_eq!(
        s.longest,
        "com.example.inventory.ReportExportTest::exportsPdf()"
    );
    let surefire = one("surefire");
    let s = summary(&surefire);
    assert_eq!(s.files, 2);
    assert_eq!((s.testcases, s.failed, s.errors, s.skipped), (8, 1, 1, 1));
    // Sorted by path: PricingTest's cases come first.
    assert_eq!(
        surefire.jobs[0].spec.expected_duration,
        SimDuration::from_secs_f64(0.412)
    );
    assert!(surefire
        .jobs
        .iter()
        .any(|j| j.run == SimDuration::from_secs_f64(1502.25)));
}

#[test]
fn several_reports_merge_in_sorted_order_whatever_order_they_are_named_in() {
    let files = [fixture("pytest.xml"), fixture("go-junit-report.xml")];
    let reversed = [files[1].clone(), files[0].clone()];
    let a = load(&files, &JunitOptions::default(), 1).unwrap();
    let b = load(&reversed, &JunitOptions::default(), 1).unwrap();
    assert_eq!(a.jobs, b.jobs);
    assert_eq!(summary(&a).files, 2);
    assert_eq!(a.jobs.len(), 9 + 6);
    // go-junit-report.xml sorts before pytest.xml.
    assert_eq!(a.jobs[0].run, SimDuration::from_secs_f64(0.020));
    let dir = fixture("surefire");
    let c = load(&[dir.clone(), dir], &JunitOptions::default(), 1).unwrap();
    assert_eq!(summary(&c).files, 2, "a report named twice is read once");
}

#[test]
fn cases_without_time_are_counted_not_replayed() {
    let t = suite(
        1,
        read("<testsuite><testcase name='a' time='3'/><testcase name='b'/></testsuite>")
            .into_iter()
            .map(|c| (0, c))
            .collect(),
        None,
    );
    let s = summary(&t);
    assert_eq!((s.testcases, s.passed, s.without_time), (2, 2, 1));
    assert_eq!((t.jobs.len(), t.unusable.get("no time")), (1, Some(&1)));
}

#[test]
fn the_requirements_map_sets_needs_by_name() {
    let options = JunitOptions {
        requirements: Some(fixture("requirements.json")),
        arrivals: None,
    };
    let t = load(&[fixture("pytest.xml")], &options, 1).unwrap();
    let s = summary(&t);
    assert_eq!((s.mapped, s.unmapped), (3, 6));
    assert_eq!(s.labels.as_deref(), Some("not used"));
    let slow = &t.jobs[4];
    assert_eq!((slow.spec.priority, slow.spec.memory_mib), (5, 1024));
    let warehouse = &t.jobs[7];
    assert_eq!(
        (warehouse.spec.priority, warehouse.spec.memory_mib),
        (3, 4096)
    );
}

#[test]
fn arrivals_spread_the_suite_from_the_seed() {
    let options = JunitOptions {
        requirements: None,
        arrivals: Some(Spread::Even { over_s: 90.0 }),
    };
    let t = load(&[fixture("pytest.xml")], &options, 1).unwrap();
    let times: Vec<f64> = t.jobs.iter().map(|j| j.submit.as_secs_f64()).collect();
    assert_eq!(times[..3], [0.0, 10.0, 20.0]);
    assert_eq!(summary(&t).arrivals, Spread::Even { over_s: 90.0 });
}

#[test]
fn detection_takes_the_name_a_directory_or_xml_text() {
    assert!(is_junit(&[fixture("surefire")], None));
    assert!(is_junit(&[fixture("pytest.xml")], None));
    assert!(!is_junit(&[fixture("pytest.xml")], Some(TraceFormat::Csv)));
    assert!(looks_like_xml(b"\xef\xbb\xbf  <?xml version='1.0'?>"));
    assert!(looks_like_xml(b"\n<testsuites>"));
    assert!(!looks_like_xml(b"; Version: 2.2"));
    let err = load(&[fixture("")], &JunitOptions::default(), 1);
    assert!(err.is_ok(), "the fixtures directory holds reports");
}
