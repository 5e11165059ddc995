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
        [
            "best_policy_map.svg",
            "latency_cdf.svg",
            "policy_comparison.svg",
            "scalability.svg"
        ]
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

/// The charts of a results file, as `visualize` builds them.
fn chart_data(path: &Path) -> Vec<lbsim::visualize::Chart> {
    let text = std::fs::read_to_string(path).unwrap();
    let (parsed, kind) = lbsim::visualize::parse("results.json", &text).unwrap();
    lbsim::visualize::charts(&parsed, kind).0
}

fn panels<'a>(charts: &'a [lbsim::visualize::Chart], name: &str) -> &'a [lbsim::visualize::Panel] {
    let chart = charts.iter().find(|c| c.name == name).unwrap();
    match &chart.body {
        lbsim::visualize::Body::Panels(p) => p,
        other => panic!("{name}: {other:?}"),
    }
}

/// A grid shaped like `benchmark --full`'s: every policy, workers
/// 5 to 10 000, tests 100 to 1 000 000. Running that grid takes minutes,
/// so the rows are one real default grid's (5–100 workers, 100–1000 tests)
/// copied for each policy and relabelled onto the full grid's sizes: the
/// charts read only the labels and the metrics.
fn full_like_grid(dir: &Path) -> PathBuf {
    let one = benchmark_grid(dir, &["round_robin"]);
    let mut grid: Value = serde_json::from_str(&std::fs::read_to_string(&one).unwrap()).unwrap();
    let workers = |w: u64| match w {
        5 => 5,
        10 => 20,
        20 => 100,
        50 => 1_000,
        _ => 10_000,
    };
    let tests = |t: u64| match t {
        100 => 100,
        500 => 10_000,
        _ => 1_000_000,
    };
    let rows = grid["benchmark_results"].as_array().unwrap().clone();
    let mut all = Vec::new();
    for policy in lbsim::balancer::policy::SCHEDULERS {
        for r in &rows {
            let mut r = r.clone();
            r["scheduler"] = json!(policy.id);
            r["workers"] = json!(workers(r["workers"].as_u64().unwrap()));
            r["tests"] = json!(tests(r["tests"].as_u64().unwrap()));
            all.push(r);
        }
    }
    grid["benchmark_results"] = Value::Array(all);
    let path = dir.join("full.json");
    std::fs::write(&path, grid.to_string()).unwrap();
    path
}

/// An SVG's texts with their x, and its polylines' points.
type TextsAndLines = (Vec<(String, f64)>, Vec<Vec<(f64, f64)>>);

/// Every `<text>` of an SVG with its x, and every polyline's points.
fn svg_texts_and_lines(svg: &str) -> TextsAndLines {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let x = n.attribute("x").and_then(|x| x.parse().ok()).unwrap_or(0.0);
            (n.text().unwrap_or("").trim().to_string(), x)
        })
        .collect();
    let lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            (n.attribute("points").unwrap_or("").split_whitespace())
                .filter_map(|p| {
                    let (x, y) = p.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect()
        })
        .collect();
    (texts, lines)
}

#[test]
fn a_full_benchmark_grid_gets_log_axes_and_each_policy_its_own_look() {
    use lbsim::visualize::{format_tick, x_axis, Scale};
    let dir = temp_dir("full");
    let path = full_like_grid(&dir);
    let charts = chart_data(&path);
    let policies = lbsim::balancer::policy::SCHEDULERS.len();
    let scalability = panels(&charts, "scalability");
    assert_eq!(scalability.len(), 4);
    let mut looks = std::collections::BTreeMap::new();
    for p in scalability {
        assert_eq!(p.x_scale, Scale::Log, "{}", p.title);
        assert_eq!(p.series.len(), policies, "{}", p.title);
        for s in &p.series {
            let look = (s.colour, s.marker.expect("a policy line has a marker"));
            assert_eq!(
                *looks.entry(s.name.clone()).or_insert(look),
                look,
                "{}",
                s.name
            );
        }
    }
    let distinct: std::collections::BTreeSet<_> = looks.values().collect();
    let colours: std::collections::BTreeSet<_> = looks.values().map(|l| l.0).collect();
    let markers: std::collections::BTreeSet<_> = looks.values().map(|l| l.1).collect();
    // Each its own colour, and its own marker while the shapes last.
    let shapes = policies.min(lbsim::visualize::Marker::ALL.len());
    assert_eq!(
        (distinct.len(), colours.len(), markers.len()),
        (policies, policies, shapes)
    );
    // The CDF's line of a policy looks as in the scalability chart.
    let cdf = &panels(&charts, "latency_cdf")[0];
    assert_eq!(cdf.series.len(), policies);
    for s in &cdf.series {
        let policy = s.name.split(" (").next().unwrap();
        assert_eq!(
            Some(&(s.colour, s.marker.unwrap())),
            looks.get(policy),
            "{}",
            s.name
        );
    }
    let labels = |p: &lbsim::visualize::Panel| -> Vec<String> {
        x_axis(p, None)
            .ticks
            .iter()
            .map(|&t| format_tick(t))
            .collect()
    };
    assert_eq!(labels(&scalability[0]), ["10", "100", "1k", "10k"]);
    assert_eq!(labels(&scalability[2]), ["100", "1k", "10k", "100k", "1M"]);
}

#[test]
fn a_full_benchmark_grid_draws_short_ticks_and_legends_beside_the_lines() {
    let dir = temp_dir("full-svg");
    let path = full_like_grid(&dir);
    let out = visualize(&path, &dir.join("viz"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(dir.join("viz/scalability.svg")).unwrap();
    let (texts, lines) = svg_texts_and_lines(&svg);
    let shown: Vec<&str> = texts.iter().map(|t| t.0.as_str()).collect();
    for tick in ["10k", "100k", "1M"] {
        assert!(shown.contains(&tick), "no tick {tick}: {shown:?}");
    }
    assert!(
        !shown
            .iter()
            .any(|t| t.ends_with(".0") || t.contains("0000")),
        "long tick labels: {shown:?}"
    );
    // Each panel's legend names every policy, right of every data line.
    let legend_x: Vec<f64> = (texts.iter())
        .filter(|t| t.0 == "least_loaded")
        .map(|t| t.1)
        .collect();
    assert_eq!(legend_x.len(), 4, "one legend per panel");
    let left = legend_x.iter().copied().fold(f64::MAX, f64::min);
    let data_lines: Vec<_> = (lines.iter())
        .filter(|l| l.len() >= 3 && l[0].0 < left - 40.0)
        .collect();
    let policies = lbsim::balancer::policy::SCHEDULERS.len();
    assert!(
        data_lines.len() >= 4 * policies,
        "{} lines",
        data_lines.len()
    );
    for line in data_lines {
        assert!(
            line.iter().all(|p| p.0 < left - 34.0),
            "a line under the legend: {line:?}"
        );
    }
}

#[test]
fn a_runs_latency_cdf_is_its_101_quantile_points() {
    let dir = temp_dir("cdf");
    let results = run_results(&dir);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let quantiles = file["distributions"]["latency"].as_array().unwrap();
    assert_eq!(quantiles.len(), 101);
    assert_eq!(
        quantiles[95],
        json!([0.95, file["metrics"]["latency"]["p95"]])
    );
    let charts = chart_data(&results);
    let title = &charts
        .iter()
        .find(|c| c.name == "latency_cdf")
        .unwrap()
        .title;
    assert_eq!(title, "Scheduling latency distribution (CDF)");
    let line = &panels(&charts, "latency_cdf")[0].series[0];
    assert!(line.step);
    let want: Vec<(f64, f64)> = (quantiles.iter())
        .map(|q| (q[1].as_f64().unwrap(), q[0].as_f64().unwrap() * 100.0))
        .collect();
    assert_eq!(line.points, want);
    // Without the distributions (an older lbsim's file): the staircase of
    // the five figures, and the title says so.
    let mut old = file.clone();
    old.as_object_mut().unwrap().remove("distributions");
    std::fs::write(&results, old.to_string()).unwrap();
    let charts = chart_data(&results);
    let title = &charts
        .iter()
        .find(|c| c.name == "latency_cdf")
        .unwrap()
        .title;
    assert_eq!(
        title,
        "Scheduling latency distribution (CDF from percentiles)"
    );
    let line = &panels(&charts, "latency_cdf")[0].series[0];
    let ys: Vec<f64> = line.points.iter().map(|p| p.1).collect();
    assert_eq!(ys, [0.0, 50.0, 95.0, 99.0, 100.0]);
}

#[test]
fn join_and_departure_lines_are_in_the_legend_and_the_page_shows_values() {
    let dir = temp_dir("legend");
    let results = run_results(&dir);
    let charts = chart_data(&results);
    let top = &panels(&charts, "throughput_latency")[0];
    let kinds: std::collections::BTreeSet<&str> =
        top.marks.iter().map(|m| m.label.as_str()).collect();
    assert!(!kinds.is_empty(), "the dynamic run has joins or departures");
    let legend: Vec<String> = top.legend().into_iter().map(|e| e.label).collect();
    for kind in &kinds {
        assert_eq!(legend.iter().filter(|l| l == kind).count(), 1, "{legend:?}");
    }
    assert_eq!(legend[..2], ["scheduled", "completed"]);
    let out_dir = dir.join("viz");
    assert!(visualize(&results, &out_dir, &[]).status.success());
    let svg = std::fs::read_to_string(out_dir.join("throughput_latency.svg")).unwrap();
    let (texts, _) = svg_texts_and_lines(&svg);
    for kind in &kinds {
        assert!(
            texts.iter().any(|t| t.0 == *kind),
            "{kind} not in the legend"
        );
    }
    let html = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert!(!html.contains("&quot;"), "configuration values, not JSON");
    assert!(
        html.contains("<tr><th>arrivals</th><td>type: even</td></tr>"),
        "{html}"
    );
    assert!(
        html.contains("<td>memory_gb: "),
        "a profile shows key: value lines"
    );
    assert!(html.contains("<br>cuda_devices: "), "one line per key");
    assert!(!html.contains("fraction</td>"), "shares are percent");
    assert!(html.contains("<tr><th>workers that got a test</th><td>"));
}
