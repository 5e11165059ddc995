//! The named scenarios, `spike` and `benchmark` through the CLI: a golden
//! results JSON per scenario of the embedded default config, determinism,
//! both spellings of the scenario command, the spike windows in the output,
//! scripted churn, a sweep switching arrival patterns, and the benchmark
//! grid's table and JSON.

use std::path::PathBuf;
use std::process::Output;

/// Runs `lbsim` and insists that it succeeds.
fn lbsim(args: &[&str]) -> Output {
    let o = super::common::lbsim(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        super::common::stderr(&o)
    );
    o
}

fn out_path(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs `args` with `--output` and returns the file's text.
fn output_of(name: &str, args: &[&str]) -> String {
    let path = out_path(name);
    let mut all = args.to_vec();
    all.extend(["--output", path.to_str().unwrap()]);
    lbsim(&all);
    std::fs::read_to_string(path).unwrap()
}

fn scenario_names() -> Vec<String> {
    let o = lbsim(&["--list-scenarios"]);
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn every_default_scenario_matches_its_golden_results() {
    let names = scenario_names();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        let text = output_of(&format!("{name}.json"), &["--scenario", &name]);
        insta::with_settings!({snapshot_path => "../../golden", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("scenario_{name}"), text);
        });
    }
}

#[test]
fn both_spellings_give_the_same_bytes_and_seeds_matter() {
    let a = output_of("a.json", &["--scenario", "worker_churn"]);
    let b = output_of("b.json", &["scenario", "worker_churn"]);
    let c = output_of("c.json", &["scenario", "worker_churn", "--seed", "7"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(c.contains("\"seed\": 7"));
}

#[test]
fn the_default_scenarios_exercise_what_their_names_say() {
    let m = |name: &str| -> serde_json::Value {
        let text = output_of(&format!("m-{name}.json"), &["--scenario", name]);
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["metrics"].clone()
    };
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    let normal = m("normal_operation");
    assert_eq!(f(&normal, "success_rate"), 100.0);
    let burst = m("high_priority_burst");
    assert!(
        f(&burst, "avg_latency") > 10.0 * f(&normal, "avg_latency"),
        "bursts queue: {burst}"
    );
    let contention = m("resource_contention");
    assert!(f(&contention, "rejected_tests") > 0.0, "{contention}");
    assert!(
        f(&contention, "memory_utilization") > 0.5 && f(&contention, "cuda_utilization") > 0.5,
        "{contention}"
    );
    let churn = m("worker_churn");
    assert!(
        f(&churn, "workers_joined") > 50.0 && f(&churn, "workers_failed") > 20.0,
        "{churn}"
    );
    assert!(f(&churn, "failed_tests") > 0.0, "flaky tests fail: {churn}");
    let rack = m("rack_failure");
    assert_eq!(
        (
            f(&rack, "workers_drained"),
            f(&rack, "workers_failed"),
            f(&rack, "workers_joined")
        ),
        (4.0, 6.0, 10.0)
    );
}

#[test]
fn spike_puts_its_windows_in_the_results() {
    let text = output_of(
        "spike.json",
        &[
            "spike",
            "--workers",
            "60",
            "--tests",
            "200",
            "--duration",
            "50",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        doc["spikes"],
        serde_json::json!([{"start": 20.0, "end": 30.0, "multiplier": 4.0}])
    );
    assert_eq!(doc["configuration"]["burst_mode"], true);
    assert_eq!(doc["configuration"]["dynamic_workers"], true);
    // With a pool large enough to keep up, scheduling follows arrivals: more
    // tests per second inside the spike than before it.
    let tp: Vec<(f64, f64)> =
        serde_json::from_value(doc["time_series"]["throughput"].clone()).unwrap();
    let sum = |lo: f64, hi: f64| {
        tp.iter()
            .filter(|p| p.0 >= lo && p.0 < hi)
            .map(|p| p.1)
            .sum::<f64>()
    };
    assert!(sum(20.0, 30.0) > 2.0 * sum(5.0, 15.0), "{tp:?}");
    let stdout = String::from_utf8(lbsim(&["spike"]).stdout).unwrap();
    assert!(
        stdout.contains("spike      24.0 s to 36.0 s, rate x4"),
        "{stdout}"
    );
    // A scenario without spikes has no key.
    assert!(!output_of("n.json", &["--scenario", "normal_operation"]).contains("\"spikes\""));
}

#[test]
fn benchmark_runs_all_fifteen_cells() {
    let path = out_path("bench.json");
    let o = lbsim(&["benchmark", "--output", path.to_str().unwrap()]);
    let table = String::from_utf8(o.stdout).unwrap();
    assert_eq!(table.lines().count(), 16, "{table}");
    assert!(table.starts_with("workers"), "{table}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(doc["full_suite"], false);
    let rows = doc["benchmark_results"].as_array().unwrap();
    assert_eq!(rows.len(), 15);
    let keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // The reference's keys, then the latency distribution for the CDF.
    assert_eq!(
        keys,
        [
            "workers",
            "tests",
            "duration",
            "scheduler",
            "metrics",
            "latency_quantiles"
        ]
    );
    assert_eq!(
        (
            rows[14]["workers"].as_u64(),
            rows[14]["tests"].as_u64(),
            rows[14]["duration"].as_f64()
        ),
        (Some(100), Some(1000), Some(100.0))
    );
    assert!(rows[14]["metrics"]["peak_throughput"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_sweep_may_switch_to_poisson_arrivals_at_the_windows_average_rate() {
    let grid = out_path("poisson-grid.json");
    std::fs::write(
        &grid,
        r#"{"base": "stress", "axes": {"arrivals.type": ["even", "poisson"]}}"#,
    )
    .unwrap();
    let csv = out_path("poisson-grid.csv");
    let _ = std::fs::remove_file(&csv);
    lbsim(&[
        "sweep",
        grid.to_str().unwrap(),
        "--output",
        csv.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(",poisson,")).collect();
    // Every test of the poisson point arrived and was scheduled.
    assert_eq!(rows.len(), 1, "{text}");
    assert!(rows[0].contains(",100,100.000000,"), "{text}");
}
