//! `lbsim visualize` end to end: every results kind gives parseable SVGs and
//! a self-contained index.html, older files lose only the charts they lack
//! data for, a file that is not results exits 2, and the chart data of one
//! scenario run is pinned by a golden snapshot.

use super::common::lbsim;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-viz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small dynamic run's results JSON.
fn run_results(dir: &Path) -> PathBuf {
    let path = dir.join("results.json");
    let out = lbsim(&[
        "stress",
        "--dynamic",
        "--workers",
        "4",
        "--tests",
        "20",
        "--duration",
        "10",
        "--seed",
        "7",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn visualize(input: &Path, out_dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "visualize",
        input.to_str().unwrap(),
        "--output-dir",
        out_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    lbsim(&args)
}

/// The SVG files written, each checked to parse as XML with an <svg> root.
fn parsed_svgs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    names.sort();
    for n in &names {
        let text = std::fs::read_to_string(dir.join(n)).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{n}");
        assert!(
            doc.descendants()
                .any(|d| d.is_text() && d.text().is_some_and(|t| !t.trim().is_empty())),
            "{n} has no text"
        );
    }
    names
}

#[test]
fn a_run_gives_every_chart_and_a_self_contained_page() {
    let dir = temp_dir("run");
    let results = run_results(&dir);
    let out_dir = dir.join("viz");
    let out = visualize(&results, &out_dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svgs = parsed_svgs(&out_dir);
    assert_eq!(
        svgs,
        [
            "latency_cdf.svg",
            "performance_summary.svg",
            "resource_efficiency.svg",
            "throughput_latency.svg",
            "worker_utilization_heatmap.svg"
        ]
    );
    let html = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        svgs.len(),
        "every chart is inlined"
    );
    assert!(html.contains("<tr><th>seed</th><td>7</td></tr>"));
    assert!(
        !html.contains("src=\"http") && !html.contains("<script"),
        "readable offline"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("skipped load-spike correlation"),
        "{stdout}"
    );
    // Same input, same bytes.
    let again = dir.join("viz2");
    assert!(visualize(&results, &again, &[]).status.success());
    assert_eq!(
        std::fs::read(out_dir.join("index.html")).unwrap(),
        std::fs::read(again.join("index.html")).unwrap()
    );
}

#[test]
fn spikes_are_detected_and_get_the_correlation_chart() {
    let dir = temp_dir("spike");
    let results = run_results(&dir);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    v["spikes"] = json!([{"start": 2.0, "end": 4.0, "multiplier": 5.0}]);
    std::fs::write(&results, v.to_string()).unwrap();
    let out = visualize(&results, &dir.join("viz"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("lbsim visualize: spike results"));
    assert!(parsed_svgs(&dir.join("viz")).contains(&"spike_correlation.svg".to_string()));
}

#[test]
fn an_older_results_file_loses_only_the_charts_it_has_no_data_for() {
    let dir = temp_dir("old");
    let results = run_results(&dir);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let ts = v["time_series"].as_object_mut().unwrap();
    for k in [
        "arrivals",
        "memory_utilization",
        "cuda_utilization",
        "stranded_memory",
        "worker_busy",
    ] {
        ts.remove(k);
    }
    std::fs::write(&results, v.to_string()).unwrap();
    let out = visualize(&results, &dir.join("viz"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        parsed_svgs(&dir.join("viz")),
        [
            "latency_cdf.svg",
            "performance_summary.svg",
            "throughput_latency.svg"
        ]
    );
    let html = std::fs::read_to_string(dir.join("viz/index.html")).unwrap();
    assert!(html.contains("<li>worker utilisation heat map: no time_series.worker_busy"));
}

/// `lbsim benchmark --output` for each of `schedulers`, the rows merged
/// into one grid file.
fn benchmark_grid(dir: &Path, schedulers: &[&str]) -> PathBuf {
    let mut rows = Vec::new();
    let mut grid = Value::Null;
    for s in schedulers {
        let path = dir.join(format!("bench-{s}.json"));
        let out = lbsim(&[
            "benchmark",
            "--scheduler",
            s,
            "--output",
            path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        grid = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        rows.extend(
            grid["benchmark_results"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
    }
    grid["benchmark_results"] = Value::Array(rows);
    let path = dir.join("bench.json");
    std::fs::write(&path, grid.to_string()).unwrap();
    path
}

#[test]
fn a_benchmark_grid_gives_scalability_and_per_policy_latency() {
    let dir = temp_dir("bench");
    let path = benchmark_grid(&dir, &["performance_based", "round_robin"]);
    let out = visualize(&path, &dir.join("viz"), &["--type", "benchmark"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        parsed_svgs(&dir.join("viz")),
        ["latency_cdf.svg", "scalability.svg"]
    );
    let svg = std::fs::read_to_string(dir.join("viz/scalability.svg")).unwrap();
    assert!(
        svg.contains("round_robin") && svg.contains("performance_based"),
        "one legend entry per policy"
    );
}

/// Tightened when results became typed: a grid lbsim did not write (the
/// Python tool's, with only the reference's metrics) is refused, naming the
/// first field it lacks, where it used to be drawn from what it had.
#[test]
fn a_grid_lbsim_did_not_write_is_refused_naming_the_field() {
    let dir = temp_dir("foreign");
    let path = dir.join("reference.json");
    let row = json!({"workers": 5, "tests": 100, "duration": 10,
                     "metrics": {"total_tests": 100, "success_rate": 100.0, "avg_latency": 0.5}});
    let doc = json!({"benchmark_results": [row], "timestamp": "2024-01-01", "full_suite": false});
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = visualize(&path, &dir.join("viz"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("reference.json: benchmark_results[0].metrics (line 1")
            && err.contains("missing field `max_latency`")
            && err.lines().count() == 1,
        "{err}"
    );
    assert!(!dir.join("viz").exists(), "nothing written for bad input");
}

#[test]
fn a_sweep_csv_gives_metric_charts() {
    let dir = temp_dir("sweep");
    let path = dir.join("sweep.csv");
    std::fs::write(&path, "scheduler,workers,seed,avg_latency,avg_throughput\nround_robin,5,1,0.5,2\nround_robin,10,1,0.2,3\nperformance_based,5,1,0.4,2\nperformance_based,10,1,0.1,3.5\n").unwrap();
    let out = visualize(&path, &dir.join("viz"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(parsed_svgs(&dir.join("viz")), ["sweep.svg"]);
}

#[test]
fn a_file_that_is_not_results_exits_2_with_a_message() {
    let dir = temp_dir("bad");
    for (name, text) in [
        ("config.json", "{\"workers\": 3}"),
        ("notes.txt", "hello\n"),
        ("broken.json", "{\"metrics\": "),
        (
            "mistyped.json",
            "{\"lbsim_version\": \"0\", \"metrics\": 5}",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = visualize(&path, &dir.join("viz"), &[]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("lbsim: error: ") && err.contains(name) && err.lines().count() == 1,
            "{err}"
        );
    }
    assert!(!dir.join("viz").exists(), "nothing written for bad input");
    let missing = visualize(&dir.join("nope.json"), &dir.join("viz"), &[]);
    assert_eq!(missing.status.code(), Some(2));
    let wrong_type = visualize(
        &run_results(&dir),
        &dir.join("viz"),
        &["--type", "benchmark"],
    );
    assert_eq!(wrong_type.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong_type.stderr).contains("--type"));
}

#[test]
fn golden_chart_data_of_one_scenario_run() {
    let dir = temp_dir("golden");
    let results = run_results(&dir);
    let text = std::fs::read_to_string(&results).unwrap();
    let (parsed, kind) = lbsim::visualize::parse("results.json", &text).unwrap();
    let (charts, notes) = lbsim::visualize::charts(&parsed, kind);
    let doc = lbsim::report::to_pretty_json(
        &json!({"kind": kind.as_str(), "notes": notes, "charts": charts}),
    );
    insta::with_settings!({snapshot_path => "../../golden", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("visualize_chart_data_dynamic_run", doc);
    });
}
