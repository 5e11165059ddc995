//! Issue 13's findings, one regression test each: outputs into special
//! files, stray temporary files, shared output paths, unwritable streams,
//! inputs too large or too fine to finish, a closed stdout, exit codes of
//! bad input, and messages that name where.

use super::common::dir_names as names;
use super::common::{lbsim, path_str, stderr, temp_dir, wait_at_most};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::common::bin;

fn tiny() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tiny.swf")
        .display()
        .to_string()
}

/// Exit 2 with one line naming `needle`.
fn assert_bad_input(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("lbsim: error: "), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

/// 1. A FIFO (like `/dev/null`) is written in place, never replaced by a
///    regular file; a symlink's target is written and the link kept.
#[test]
fn a_fifo_or_a_symlink_is_written_through() {
    let dir = temp_dir("harden-special");
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader_path = fifo.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = File::open(&reader_path).and_then(|mut f| f.read_to_string(&mut text));
        let _ = tx.send(text);
    });
    let o = lbsim(&["stress", "--tests", "5", "--output", path_str(&fifo)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
    assert!(text.contains("\"configuration\""), "{text}");
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind));
    std::fs::write(dir.join("real.json"), b"old").unwrap();
    std::os::unix::fs::symlink("real.json", dir.join("link.json")).unwrap();
    let link = dir.join("link.json");
    let o = lbsim(&["stress", "--tests", "5", "--output", path_str(&link)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(dir.join("real.json"))
        .unwrap()
        .contains("\"metrics\""));
    assert_eq!(names(&dir), ["fifo", "link.json", "real.json"]);
}

/// 2. SIGTERM and SIGHUP during a run that writes big outputs: exit 130,
///    no temporary file left.
#[test]
fn a_signal_mid_run_leaves_no_temporary_file() {
    for signal in ["-TERM", "-HUP", "-INT"] {
        let dir = temp_dir(&format!("harden-signal{signal}"));
        let mut child = bin()
            .args(["stress", "--tests", "3000000", "--csv", "out.csv"])
            .args(["--decisions", "d.csv"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if names(&dir).iter().any(|n| n.contains(".tmp-")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let pid = child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success());
        let status = wait_at_most(&mut child, Duration::from_secs(60));
        assert_eq!(status.and_then(|s| s.code()), Some(130), "{signal}");
        assert!(names(&dir).is_empty(), "{signal}: {:?}", names(&dir));
    }
}

/// 3 and 11. Two flags on one file (also through a symlink), and a bad
///    path found before a long run starts.
#[test]
fn outputs_are_checked_before_the_run() {
    let dir = temp_dir("harden-paths");
    let same = dir.join("same");
    let o = lbsim(&[
        "stress",
        "--csv",
        path_str(&same),
        "--decisions",
        path_str(&same),
    ]);
    assert_bad_input(&o, "is also the --csv file");
    std::fs::write(dir.join("real.csv"), b"x").unwrap();
    std::os::unix::fs::symlink("real.csv", dir.join("link.csv")).unwrap();
    let (link, real) = (dir.join("link.csv"), dir.join("real.csv"));
    let o = lbsim(&[
        "stress",
        "--csv",
        path_str(&link),
        "--decisions",
        path_str(&real),
    ]);
    assert_bad_input(&o, "is also the --csv file");
    let ok = dir.join("ok.csv");
    let args = ["stress", "--tests", "1000000", "--csv", path_str(&ok)];
    let o = lbsim(&[&args[..], &["--output", "/nonexistent/x.json"]].concat());
    assert_bad_input(&o, "--output");
    assert_eq!(names(&dir), ["link.csv", "real.csv"]);
}

/// 4. A full or closed stderr never panics; a full stdout is exit 1.
#[test]
fn an_unwritable_stream_is_never_a_panic() {
    let full = || Stdio::from(File::options().write(true).open("/dev/full").unwrap());
    let o = bin()
        .args(["--config", "nope.json", "--list-scenarios"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let mut child = bin()
        .args(["replay", &tiny()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let status = wait_at_most(&mut child, Duration::from_secs(60));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{text}");
    let dir = temp_dir("harden-full");
    let results = dir.join("r.json");
    let o = lbsim(&["stress", "--tests", "5", "--output", path_str(&results)]);
    assert!(o.status.success());
    let charts = dir.join("charts");
    let o = bin()
        .args(["visualize", path_str(&results), "-o", path_str(&charts)])
        .stdout(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// 5. What would not fit in memory is refused before it is allocated.
#[test]
fn runs_and_inputs_larger_than_memory_are_refused() {
    let capped = |args: &str| {
        let exe = env!("CARGO_BIN_EXE_lbsim");
        let o = Command::new("sh")
            .args(["-c", &format!("ulimit -v 1500000; exec {exe} {args}")])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args}: {}", stderr(&o));
        stderr(&o)
    };
    let err = capped("stress --tests 100000000");
    assert!(err.contains("invalid --tests: 100000000 tests"), "{err}");
    let dir = temp_dir("harden-memory");
    let trace = dir.join("many.swf.gz");
    let file = File::create(&trace).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for i in 0..2_500_000u64 {
        writeln!(gz, "{i} {i} -1 10 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1").unwrap();
    }
    gz.finish().unwrap();
    let err = capped(&format!("replay {}", trace.display()));
    assert!(
        err.contains("more jobs than this machine can replay"),
        "{err}"
    );
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/policy_sweep.json");
    let out = dir.join("s.csv");
    let o = lbsim(&[
        "sweep",
        path_str(&policy),
        "--output",
        path_str(&out),
        "--replications",
        "4294967295",
    ]);
    assert_bad_input(&o, "invalid --replications: 4294967295 x 12 points");
}

/// 6. What could not finish is refused, naming the number.
#[test]
fn runs_that_would_never_end_are_refused() {
    let o = lbsim(&["stress", "--duration", "1e9"]);
    assert_bad_input(&o, "invalid --duration: 1000000000 s is 5.000e9 periods");
    let dir = temp_dir("harden-periods");
    let config = |name: &str, scenario: serde_json::Value| {
        let path = dir.join(name);
        let doc = serde_json::json!({ "scenario_configurations": { "s": scenario } });
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    };
    let steal = config(
        "steal.json",
        serde_json::json!({"work_stealing": {"enabled": true, "steal_interval": 4e-7}}),
    );
    let o = lbsim(&["scenario", "s", "--config", path_str(&steal)]);
    assert_bad_input(
        &o,
        "work_stealing.steal_interval: 0.0000004 s is shorter than the 0.001 s minimum",
    );
    let cycle = config(
        "cycle.json",
        serde_json::json!({"load": {"cycle_min": 1e-9, "cycle_max": 1e-9}}),
    );
    let o = lbsim(&["scenario", "s", "--config", path_str(&cycle)]);
    assert_bad_input(&o, "load.cycle_min: 0.000000001 s is shorter");
    let joins = serde_json::json!({"churn": {"type": "timeline", "events": [{"at": 1, "action": "join", "count": 1_000_000_000u64}]}});
    let o = lbsim(&[
        "scenario",
        "s",
        "--config",
        path_str(&config("joins.json", joins)),
    ]);
    assert_bad_input(
        &o,
        "churn.events: 1000000000 actions in all, more than 1000000",
    );
    let spikes: Vec<_> = (0..100_000)
        .map(|i| serde_json::json!({"start": i as f64 * 0.001, "length": 0.0005, "multiplier": 2}))
        .collect();
    let many = config(
        "spikes.json",
        serde_json::json!({"arrivals": {"type": "even", "spikes": spikes}}),
    );
    let o = lbsim(&["--list-scenarios", "--config", path_str(&many)]);
    assert_bad_input(&o, "arrivals.spikes: 100000 spikes, more than 1000");
    let grid = dir.join("grid.json");
    let axes = serde_json::json!({"base": "stress", "axes": {"workers": (1..=10_000).collect::<Vec<_>>(), "tests": (1..=1000).collect::<Vec<_>>()}});
    std::fs::write(&grid, axes.to_string()).unwrap();
    let o = lbsim(&[
        "sweep",
        path_str(&grid),
        "--output",
        path_str(&dir.join("s.csv")),
    ]);
    assert_bad_input(&o, "axes: 10000000 cells, more than 1000000");
}

/// 7. `benchmark --full | head -1` stops at the first broken pipe.
#[test]
fn benchmark_stops_when_its_reader_goes_away() {
    let mut child = bin()
        .args(["benchmark", "--full"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    drop(out);
    assert!(first.starts_with("workers"), "{first}");
    let status = wait_at_most(&mut child, Duration::from_secs(60));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let path = temp_dir(&format!("harden-{name}")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// 8. Bad input to `diff`, a grid or a resumed file is exit 2, never the
///    exit 1 that means "differ beyond tolerance" or "run failed".
#[test]
fn bad_input_files_exit_2() {
    let binary = scratch("bin.csv", b"cell,\xff\xfe\x00\n");
    let missing = "missing.csv";
    for (a, b) in [
        (path_str(&binary), missing),
        (path_str(&binary), "/tmp"),
        (path_str(&binary), path_str(&binary)),
    ] {
        let o = lbsim(&["diff", a, b]);
        assert_eq!(o.status.code(), Some(2), "diff {a} {b}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1);
    }
    let grid = scratch(
        "grid.json",
        b"{\"base\": \"stress\",\n \"description\": \"\xff\"}",
    );
    let out = grid.with_file_name("s.csv");
    let o = lbsim(&["sweep", path_str(&grid), "--output", path_str(&out)]);
    assert_bad_input(&o, "grid.json: line 2: not UTF-8 text");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/policy_sweep.json");
    let o = lbsim(&[
        "sweep",
        path_str(&policy),
        "--output",
        path_str(&binary),
        "--resume",
    ]);
    assert_bad_input(&o, "bin.csv: line 1: not UTF-8 text");
}

/// 9. Garbage is refused with its reason.
#[test]
fn garbage_is_refused_with_a_reason() {
    let dir = temp_dir("harden-garbage");
    let one = dir.join("one.json");
    std::fs::write(&one, "{\"a\": 1}\n").unwrap();
    let merged = dir.join("m.csv");
    let o = lbsim(&["merge", path_str(&one), "--output", path_str(&merged)]);
    assert_bad_input(&o, "not a sweep file");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/policy_sweep.json");
    let shard = dir.join("s.csv");
    let o = lbsim(&[
        "sweep",
        path_str(&policy),
        "--output",
        path_str(&shard),
        "--jobs",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lbsim(&[
        "merge",
        path_str(&shard),
        "--output",
        path_str(&merged),
        "--baseline",
        "nope",
    ]);
    assert_bad_input(
        &o,
        "invalid --baseline: 'nope' is not a scheduler of the results",
    );
    assert_bad_input(&lbsim(&["stress", "--config", "/nonexistent"]), "--config");
    assert_bad_input(
        &lbsim(&["--csv", "x", "benchmark"]),
        "invalid --csv: benchmark does not take it",
    );
    let dup = dir.join("dup.json");
    std::fs::write(&dup, r#"{"test_profiles": {"t": {}, "t": {"retries": 1}}}"#).unwrap();
    let o = lbsim(&["--list-scenarios", "--config", path_str(&dup)]);
    assert_bad_input(
        &o,
        "dup.json: test_profiles (line 1, column 31): 't' is defined twice",
    );
    assert_eq!(
        names(&dir),
        ["dup.json", "one.json", "s.csv", "s.csv.summary.csv"]
    );
}

/// 10. Messages name the flag, the field path, the file and the line.
#[test]
fn messages_say_where() {
    let o = lbsim(&["replay", &tiny(), "--time-scale", "1e8"]);
    assert_bad_input(
        &o,
        "invalid --time-scale: 100000000 (with --load-factor 1) puts job ",
    );
    assert!(
        stderr(&o).contains("tiny.swf line 11) at 2000000000 s"),
        "{}",
        stderr(&o)
    );
    let o = lbsim(&["spike", "--duration", "5e-324"]);
    assert_bad_input(&o, "invalid --duration: too short for the spike window");
    let dir = temp_dir("harden-messages");
    let write = |name: &str, text: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let events = r#"{"scenario_configurations": {"s": {"churn": {"type": "timeline",
        "events": [{"at": 1, "action": "join"}, {"at": 2, "action": "join", "count": "x"}]}}}}"#;
    let o = lbsim(&[
        "--list-scenarios",
        "--config",
        path_str(&write("churn.json", events.as_bytes())),
    ]);
    assert_bad_input(
        &o,
        "churn.json: scenario_configurations.s.churn.events[1].count (line 2, column",
    );
    let rate =
        r#"{"scenario_configurations": {"s": {"arrivals": {"type": "poisson", "rate": "x"}}}}"#;
    let o = lbsim(&[
        "--list-scenarios",
        "--config",
        path_str(&write("rate.json", rate.as_bytes())),
    ]);
    assert_bad_input(
        &o,
        "rate.json: scenario_configurations.s.arrivals.rate (line 1, column",
    );
    let bytes = b"{\"scenario_configurations\": {\n\"s\": {\"description\": \"\xff\"}}}";
    let o = lbsim(&[
        "--list-scenarios",
        "--config",
        path_str(&write("utf8.json", bytes)),
    ]);
    assert_bad_input(&o, "utf8.json: line 2: not UTF-8 text");
    let grid = write(
        "grid.json",
        br#"{"base": "nope", "axes": {"workers": [1]}}"#,
    );
    let out = dir.join("s.csv");
    let o = lbsim(&["sweep", path_str(&grid), "--output", path_str(&out)]);
    assert_bad_input(&o, "grid.json: base: unknown scenario 'nope'");
    assert_bad_input(
        &lbsim(&["stress", "--tests"]),
        "a value is required for '--tests <N>'",
    );
    assert_bad_input(
        &lbsim(&["stress", "--bogus"]),
        "unexpected argument '--bogus' found (see lbsim stress --help)",
    );
    let poisson = write(
        "poisson.json",
        br#"{"base": "stress", "axes": {"arrivals.type": ["poisson"]}}"#,
    );
    let o = lbsim(&["sweep", path_str(&poisson), "--output", path_str(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
