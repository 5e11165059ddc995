//! `lbsim replay`: the NASA trace replays whole, a hand-written SWF gives
//! its known answers, the per-test CSV replays, and every malformed input
//! exits 2 naming the file and line.

use super::common::{lbsim, stderr};
use std::path::{Path, PathBuf};

fn tiny() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tiny.swf")
        .display()
        .to_string()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn nasa_trace_replays_whole_with_every_job_accounted_for() {
    let trace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/traces/NASA-iPSC-1993-3.1-cln.swf.gz");
    if !trace.exists() {
        eprintln!("SKIPPED: {} is absent", trace.display());
        return;
    }
    for workers in ["1", "4"] {
        let out = tmp(&format!("nasa-{workers}.json"));
        let o = lbsim(&[
            "replay",
            trace.to_str().unwrap(),
            "--workers",
            workers,
            "--output",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v = json(&out);
        let t = &v["trace"];
        assert_eq!(t["records"], 18239);
        assert_eq!(
            t["replayed"].as_u64().unwrap() + t["unusable"].as_u64().unwrap(),
            18239
        );
        let m = &v["metrics"];
        let total = m["total_tests"].as_u64().unwrap();
        assert_eq!(total, t["replayed"].as_u64().unwrap());
        let finals: u64 = [
            "completed_tests",
            "failed_tests",
            "rejected_tests",
            "pending_tests",
            "running_tests",
        ]
        .iter()
        .map(|k| m[k].as_u64().unwrap())
        .sum();
        assert_eq!(finals, total, "every replayed job ends in one state");
        assert_eq!(v["run"]["end_reason"], "all_final");
        if workers == "1" {
            // One 128-processor machine holds every job of the trace.
            assert_eq!((total, m["rejected_tests"].as_u64().unwrap()), (18239, 0));
            assert_eq!(m["completed_tests"], 18239);
        } else {
            // 32 cores each: the 64- and 128-processor jobs fit nowhere.
            assert!(m["rejected_tests"].as_u64().unwrap() > 0);
        }
    }
}

#[test]
fn tiny_swf_gives_its_known_answers() {
    let (csv, out) = (tmp("tiny.csv"), tmp("tiny.json"));
    let o = lbsim(&[
        "replay",
        &tiny(),
        "--csv",
        csv.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(
        "2 of 6 jobs unusable, not replayed (unknown submit time: 1, unknown run time: 1); first at line 12"
    ));
    let rows = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = rows.lines().skip(1).collect();
    // id, submitted, assigned, started, finished, outcome: job 1 runs 0-10;
    // jobs 2 and 3 wait for it and share the machine; job 4 needs 8 of 4.
    let cells = |r: &str| {
        let c: Vec<String> = r.split(',').map(String::from).collect();
        [
            c[0].clone(),
            c[4].clone(),
            c[5].clone(),
            c[7].clone(),
            c[10].clone(),
        ]
        .join(" ")
    };
    let got: Vec<String> = rows.iter().map(|r| cells(r)).collect();
    assert_eq!(
        got,
        [
            "test-000000 0.000000 0.000000 10.000000 completed",
            "test-000002 3.000000 10.000000 14.000000 failed",
            "test-000001 2.000000 10.000000 15.000000 completed",
            "test-000003 20.000000  20.000000 rejected",
        ]
    );
    let v = json(&out);
    let m = &v["metrics"];
    assert_eq!(
        (m["avg_latency"].as_f64(), m["max_latency"].as_f64()),
        (Some(5.0), Some(8.0))
    );
    assert_eq!(m["turnaround"]["max"].as_f64(), Some(13.0));
    assert_eq!(m["cpu_utilization"].as_f64(), Some(0.725));
    let t = &v["trace"];
    assert_eq!(
        (
            t["records"].as_u64(),
            t["replayed"].as_u64(),
            t["unusable"].as_u64()
        ),
        (Some(6), Some(4), Some(2))
    );
    assert_eq!(t["cluster"]["cores_per_worker"], 4);
}

#[test]
fn gzip_time_scale_load_factor_and_workers() {
    use std::io::Write;
    let gz = tmp("tiny.swf.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(tiny()).unwrap()).unwrap();
    enc.finish().unwrap();
    let run = |trace: &str, extra: &[&str]| {
        let out = tmp("scaled.json");
        let mut args = vec!["replay", trace, "--output", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = lbsim(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        json(&out)["metrics"].clone()
    };
    let plain = run(&tiny(), &[]);
    assert_eq!(run(gz.to_str().unwrap(), &[]), plain);
    // Half the time: every latency halves.
    let fast = run(&tiny(), &["--time-scale", "0.5"]);
    assert_eq!(fast["max_latency"].as_f64(), Some(4.0));
    // Twice the arrival rate, same run times: jobs 2 and 3 arrive at 1 and
    // 1.5 s and still wait for job 1 (0-10 s).
    let dense = run(&tiny(), &["--load-factor", "2"]);
    assert_eq!(dense["max_latency"].as_f64(), Some(9.0));
    // Two workers of 2 cores: job 1 no longer fits, 2 and 3 start at once.
    let split = run(&tiny(), &["--workers", "2"]);
    assert_eq!(
        (
            split["rejected_tests"].as_u64(),
            split["max_latency"].as_f64()
        ),
        (Some(2), Some(0.0))
    );
}

#[test]
fn the_per_test_csv_replays() {
    let (csv, out) = (tmp("stress.csv"), tmp("again.json"));
    let o = lbsim(&["stress", "--tests", "40", "--csv", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lbsim(&[
        "replay",
        csv.to_str().unwrap(),
        "--scheduler",
        "round_robin",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&out);
    assert_eq!(v["trace"]["format"], "csv");
    assert_eq!(v["trace"]["replayed"], 40);
    assert_eq!(v["metrics"]["completed_tests"], 40);
    assert_eq!(v["scheduler"], "round_robin");
}

#[test]
fn malformed_input_exits_2_naming_file_and_line() {
    let write = |name: &str, text: &str| {
        let p = tmp(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let write_bytes = |name: &str, bytes: &[u8]| {
        let p = tmp(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let job = "1 0 -1 10 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1";
    let cases: Vec<(String, Vec<&str>, String)> = vec![
        (
            write("short.swf", &format!("{job}\n1 2 3\n")),
            vec![],
            "short.swf: line 2: expected 18 fields, found 3".into(),
        ),
        (
            write(
                "nan.swf",
                &format!("; MaxProcs: 4\n{}\n", job.replace(" 10 ", " ten ")),
            ),
            vec![],
            "nan.swf: line 2: field 4: 'ten' is not a number".into(),
        ),
        (
            write("head.swf", &format!("; MaxProcs: many\n{job}\n")),
            vec![],
            "head.swf: line 1: header MaxProcs: 'many' is not a whole number".into(),
        ),
        (
            write("frac.swf", &job.replace(" 4 ", " 1.5 ")),
            vec![],
            "frac.swf: line 1: field 5".into(),
        ),
        (
            write("none.swf", "; nothing\n"),
            vec![],
            "none.swf: whole file: no usable job (0 records, 0 unusable)".into(),
        ),
        (
            write("bad.csv", "id,priority\n"),
            vec![],
            "bad.csv: line 1: missing column 'memory_gb'".into(),
        ),
        (
            write_bytes("garbage.gz", b"\x1f\x8bnot really gzip"),
            vec!["--format", "swf"],
            "garbage.gz: line 1: cannot read".into(),
        ),
        (
            tiny(),
            vec!["--workers", "5"],
            "invalid --workers: 5 workers cannot share 4 processors".into(),
        ),
        (
            tiny(),
            vec!["--tests", "5"],
            "unexpected argument '--tests'".into(),
        ),
        (tiny(), vec!["--time-scale", "0"], "--time-scale".into()),
        (tiny(), vec!["--load-factor", "-1"], "--load-factor".into()),
        (tiny(), vec!["--format", "xml"], "not a trace format".into()),
    ];
    for (file, extra, expected) in cases {
        let mut args = vec!["replay", file.as_str()];
        args.extend_from_slice(&extra);
        let o = lbsim(&args);
        assert_eq!(o.status.code(), Some(2), "{file} {extra:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&expected),
            "{file} {extra:?}: expected '{expected}' in: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        if err.starts_with("lbsim:") {
            assert_eq!(err.trim().lines().count(), 1, "one-line message: {err}");
        }
    }
}

#[test]
fn a_config_scenario_can_supply_the_cluster() {
    let out_path = tmp("cluster.json");
    let out = lbsim(&[
        "replay",
        &tiny(),
        "--cluster",
        "normal_operation",
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out_path);
    // normal_operation's pool: 20 workers of the balanced profile (4 cores
    // each), so the 4-processor jobs fit and the 8-processor one does not.
    assert_eq!(v["trace"]["cluster"]["workers"], 20);
    assert_eq!(v["workers"].as_array().unwrap().len(), 20);
    let m = &v["metrics"];
    assert_eq!(m["total_tests"], 4);
    assert_eq!(m["rejected_tests"], 1);
    assert_eq!(
        m["completed_tests"].as_u64().unwrap() + m["failed_tests"].as_u64().unwrap(),
        3
    );
    // A config without a scenario to take the pool from is bad input.
    let bare = lbsim(&["replay", &tiny(), "--config", "scenarios/default.json"]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(stderr(&bare).contains("--cluster"), "{}", stderr(&bare));
    let unknown = lbsim(&["replay", &tiny(), "--cluster", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("normal_operation"));
}
