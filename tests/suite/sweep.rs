//! `lbsim sweep` and `lbsim merge` through the real CLI: same bytes for any
//! --jobs, shards that merge into the whole, kill-and-resume, Ctrl-C and
//! SIGTERM, `--shard auto`, merges that refuse an incomplete grid,
//! confidence intervals, and bad grid and merge input.

use super::common::lbsim;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ok(args: &[&str]) -> String {
    let out = lbsim(args);
    assert!(
        out.status.success(),
        "lbsim {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// 2 schedulers × 3 pool sizes × 2 replications = 12 small cells.
const SMALL: &str = r#"{
    "base": {"stress": {"tests": 60, "duration": 10, "burst": true}},
    "axes": {"scheduler": ["performance_based", "round_robin"], "workers": [3, 6, 12]},
    "replications": 2
}"#;

/// 20 cells big enough (a tenth of a second or more each in a debug build)
/// to be caught part way.
const SLOW: &str = r#"{
    "base": {"stress": {"tests": 20000, "duration": 300}},
    "axes": {"workers": [20, 30, 40, 50]},
    "replications": 5
}"#;

fn data_rows(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

#[test]
fn jobs_1_and_jobs_2_write_the_same_bytes() {
    let d = dir("jobs");
    let grid = write(&d, "grid.json", SMALL);
    let (a, b) = (s(&d.join("a.csv")), s(&d.join("b.csv")));
    ok(&["sweep", &grid, "--output", &a, "--jobs", "1"]);
    let stdout = ok(&["sweep", &grid, "--jobs", "2", "--output", &b]);
    assert!(
        stdout.contains("12 cells (12 run, 0 already done)"),
        "{stdout}"
    );
    let text = read(&a);
    assert_eq!(text, read(&b));
    let cells: Vec<&str> = data_rows(&text)
        .iter()
        .map(|r| r.split(',').next().unwrap())
        .collect();
    let expected: Vec<String> = (0..12).map(|i| i.to_string()).collect();
    assert_eq!(cells, expected);
    assert_eq!(
        read(&format!("{a}.summary.csv")),
        read(&format!("{b}.summary.csv"))
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn shards_merged_equal_the_whole() {
    let d = dir("shards");
    let grid = write(&d, "grid.json", SMALL);
    let [whole, s1, s2, all] = ["whole.csv", "s1.csv", "s2.csv", "all.csv"].map(|n| s(&d.join(n)));
    ok(&["sweep", &grid, "--output", &whole]);
    ok(&["sweep", &grid, "--output", &s2, "--shard", "2/2"]);
    let out = ok(&["sweep", &grid, "--output", &s1, "--shard", "1/2"]);
    assert!(out.contains("6 cells of shard 1/2"), "{out}");
    for (file, parity) in [(&s1, 0), (&s2, 1)] {
        let text = read(file);
        let rows = data_rows(&text);
        assert_eq!(rows.len(), 6);
        for r in rows {
            let cell: usize = r.split(',').next().unwrap().parse().unwrap();
            assert_eq!(cell % 2, parity, "{file}: {r}");
        }
    }
    let out = ok(&["merge", &s2, &s1, "--output", &all]);
    assert!(out.contains("merge: 12 rows"), "{out}");
    assert_eq!(read(&all), read(&whole));
    assert_eq!(
        read(&format!("{all}.summary.csv")),
        read(&format!("{whole}.summary.csv"))
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Waits until the file holds at least `rows` data rows, or the child ends.
// A test that kills a child process part way must wait in wall time.
#[allow(clippy::disallowed_methods)]
fn wait_for_rows(child: &mut std::process::Child, path: &str, rows: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let n = std::fs::read_to_string(path).map_or(0, |t| t.matches('\n').count());
        if n > rows || child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn spawn_sweep(grid: &str, output: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(["sweep", grid, "--output", output, "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs the SLOW grid into `part`, stops it with `stop` once `rows` rows
/// are written, and returns how it ended. The whole sweep takes about a
/// second: on a loaded machine it may end before the stop lands, leaving
/// a whole file that tests no stopping, so it is run again (five times at
/// most).
fn stop_mid_sweep(grid: &str, part: &str, rows: usize, stop: impl Fn(&Child)) -> Output {
    for _ in 0..5 {
        let _ = std::fs::remove_file(part);
        let _ = std::fs::remove_file(format!("{part}.summary.csv"));
        let mut child = spawn_sweep(grid, part);
        wait_for_rows(&mut child, part, rows);
        stop(&child);
        let out = child.wait_with_output().unwrap();
        if data_rows(&read(part)).len() < 20 {
            return out;
        }
    }
    panic!("five times the sweep ended before it could be stopped");
}

/// Sends `signal` (`-INT`, `-TERM`, `-KILL`) to the child, unless it has
/// ended and been reaped already (`stop_mid_sweep` then runs it again).
fn signal(child: &Child, signal: &str) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args([signal, &pid]).status();
}

#[test]
fn a_killed_sweep_resumes_into_the_whole_file() {
    let d = dir("kill");
    let grid = write(&d, "grid.json", SLOW);
    let [whole, part] = ["whole.csv", "part.csv"].map(|n| s(&d.join(n)));
    ok(&["sweep", &grid, "--output", &whole]);
    stop_mid_sweep(&grid, &part, 2, |c| signal(c, "-KILL"));
    let killed = read(&part);
    let rows = data_rows(&killed).len();
    assert!((2..20).contains(&rows), "killed after {rows} rows");
    assert!(
        read(&whole).starts_with(&killed),
        "the partial file is a prefix"
    );
    // A crash mid-write: a torn row that resume must drop.
    std::fs::write(&part, format!("{killed}{},1,30", rows)).unwrap();
    let refused = lbsim(&["sweep", &grid, "--output", &part]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    let out = ok(&["sweep", &grid, "--output", &part, "--resume", "--jobs", "2"]);
    assert!(
        out.contains(&format!("({} run, {rows} already done)", 20 - rows)),
        "{out}"
    );
    assert_eq!(read(&part), read(&whole));
    assert_eq!(
        read(&format!("{part}.summary.csv")),
        read(&format!("{whole}.summary.csv"))
    );
    // Resuming a finished file runs nothing and changes nothing.
    let out = ok(&["sweep", &grid, "--output", &part, "--resume"]);
    assert!(out.contains("(0 run, 20 already done)"), "{out}");
    assert_eq!(read(&part), read(&whole));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn ctrl_c_stops_cleanly_and_resume_finishes() {
    let d = dir("sigint");
    let grid = write(&d, "grid.json", SLOW);
    let [whole, part] = ["whole.csv", "part.csv"].map(|n| s(&d.join(n)));
    ok(&["sweep", &grid, "--output", &whole]);
    let out = stop_mid_sweep(&grid, &part, 1, |c| signal(c, "-INT"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("interrupted") && stderr.contains("--resume"),
        "{stderr}"
    );
    let stopped = read(&part);
    assert!(stopped.ends_with('\n'), "no torn row after Ctrl-C");
    assert!(read(&whole).starts_with(&stopped));
    assert!(data_rows(&stopped).len() < 20);
    ok(&["sweep", &grid, "--output", &part, "--resume"]);
    assert_eq!(read(&part), read(&whole));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn sigterm_stops_cleanly_with_143_and_resume_finishes() {
    let d = dir("sigterm");
    let grid = write(&d, "grid.json", SLOW);
    let [whole, part] = ["whole.csv", "part.csv"].map(|n| s(&d.join(n)));
    ok(&["sweep", &grid, "--output", &whole]);
    let out = stop_mid_sweep(&grid, &part, 1, |c| signal(c, "-TERM"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("SIGTERM: stopping after the cells in progress")
            && stderr.contains("--resume"),
        "{stderr}"
    );
    let stopped = read(&part);
    assert!(stopped.ends_with('\n'), "no torn row after SIGTERM");
    assert!(read(&whole).starts_with(&stopped));
    assert!(data_rows(&stopped).len() < 20);
    ok(&["sweep", &grid, "--output", &part, "--resume"]);
    assert_eq!(read(&part), read(&whole));
    std::fs::remove_dir_all(&d).unwrap();
}

/// `lbsim sweep GRID --shard auto` in `dir` with the variables of a
/// batch system's array task; its output.
fn auto_shard(dir: &Path, vars: &[(&str, &str)], extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lbsim"));
    cmd.current_dir(dir)
        .args(["sweep", "grid.json", "--shard", "auto", "--resume"])
        .args(["--output", "shard_{shard}.csv"])
        .args(extra);
    for var in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_MAX",
        "PBS_ARRAY_INDEX",
        "PBS_ARRAYID",
        "JOB_COMPLETION_INDEX",
        "LBSIM_SHARDS",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(vars.iter().copied()).output().unwrap()
}

fn merge_fails(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .current_dir(dir)
        .args(["merge", "--output", "all.csv"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "merge {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        !dir.join("all.csv").exists(),
        "no output on a refused merge"
    );
    stderr
}

#[test]
fn auto_shards_from_each_scheduler_merge_only_when_the_grid_is_whole() {
    let d = dir("auto");
    write(&d, "grid.json", SMALL);
    let whole = s(&d.join("whole.csv"));
    ok(&["sweep", &s(&d.join("grid.json")), "--output", &whole]);
    // Slurm (0-3, count in LBSIM_SHARDS), PBS, Kubernetes, HTCondor.
    type Run<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let runs: [Run; 4] = [
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "0"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "3"),
                ("LBSIM_SHARDS", "4"),
            ],
            &[],
        ),
        (&[("PBS_ARRAY_INDEX", "1")], &["--shards", "4"]),
        (&[("JOB_COMPLETION_INDEX", "2"), ("LBSIM_SHARDS", "4")], &[]),
        (&[], &["--shard-index", "3", "--shards", "4"]),
    ];
    for (k, (vars, extra)) in runs.iter().enumerate() {
        let out = auto_shard(&d, vars, extra);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("3 cells of shard {}/4", k + 1)),
            "{stdout}"
        );
    }
    // Task 3 resubmitted alone (sbatch --array=3) keeps its shard.
    let alone = [
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_MIN", "3"),
        ("SLURM_ARRAY_TASK_MAX", "3"),
        ("LBSIM_SHARDS", "4"),
    ];
    let out = auto_shard(&d, &alone, &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("shard 4/4 (0 run, 3 already done)"));
    // Without the count, or from a 1-4 array: refused, naming what is wrong.
    let out = auto_shard(&d, &alone[..3], &[]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("give --shards N or set LBSIM_SHARDS=N"), "{e}");
    let one_based = [
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_MAX", "4"),
        ("LBSIM_SHARDS", "4"),
    ];
    let e = String::from_utf8_lossy(&auto_shard(&d, &one_based, &[]).stderr).into_owned();
    assert!(
        e.contains("SLURM_ARRAY_TASK_MAX is 4, but there are 4 shards: submit --array=0-3"),
        "{e}"
    );
    // A shard's file resumed without --shard: refused, naming the shard.
    let e = fails(&[
        "sweep",
        &s(&d.join("grid.json")),
        "--output",
        &s(&d.join("shard_2.csv")),
        "--resume",
    ]);
    assert!(
        e.contains("is shard 2/4; resume it with --shard 2/4"),
        "{e}"
    );
    merges_refuse_an_incomplete_or_foreign_grid(&d, &whole);
    std::fs::remove_dir_all(&d).unwrap();
}

/// The four shards in `d` (and `whole.csv`, the grid in one run): a merge
/// short of a cell, with a cell twice or with another grid's cells fails
/// naming them; the whole set merges to the single run's bytes.
fn merges_refuse_an_incomplete_or_foreign_grid(d: &Path, whole: &str) {
    const FOUR: [&str; 4] = ["shard_1.csv", "shard_2.csv", "shard_3.csv", "shard_4.csv"];
    // Three of four shards; a shard without its last row; a shard twice.
    let e = merge_fails(d, &["shard_1.csv", "shard_2.csv", "shard_4.csv"]);
    assert!(e.contains("3 of 12 cells missing: 2, 6, 10"), "{e}");
    let full = read(&s(&d.join("shard_4.csv")));
    let cut = &full[..full.trim_end().rfind('\n').unwrap() + 1];
    std::fs::write(d.join("shard_4.csv"), cut).unwrap();
    let e = merge_fails(d, &FOUR);
    assert!(e.contains("1 of 12 cells missing: 11"), "{e}");
    std::fs::write(d.join("shard_4.csv"), &full).unwrap();
    let e = merge_fails(d, &[&FOUR[..], &["shard_4.csv"]].concat());
    let twice = "3 cells twice: cell 3 in shard_4.csv and shard_4.csv";
    assert!(e.contains(twice), "{e}");
    // Another grid's shards: by their records, or (a file without one) by
    // each row's key.
    write(
        d,
        "other.json",
        &SMALL.replace("\"tests\": 60", "\"tests\": 61"),
    );
    let e = merge_fails(d, &[&["--grid", "other.json"], &FOUR[..]].concat());
    let foreign = e.contains("shard_1.csv is grid") && e.contains("from --grid other.json");
    assert!(foreign, "{e}");
    std::fs::copy(d.join("shard_1.csv"), d.join("bare.csv")).unwrap();
    let e = merge_fails(d, &["--grid", "other.json", "bare.csv"]);
    let keyed = e.contains("bare.csv: line 2: cell 0 has key") && e.contains("not the grid's");
    assert!(keyed, "{e}");
    let merged = s(&d.join("merged.csv"));
    let grid = s(&d.join("grid.json"));
    let inputs = FOUR.map(|n| s(&d.join(n)));
    let mut args = vec!["merge", "--grid", &grid, "--output", &merged];
    args.extend(inputs.iter().map(String::as_str));
    let out = ok(&args);
    assert!(out.contains("merge: 12 rows"), "{out}");
    assert_eq!(read(&merged), read(whole));
    assert_eq!(
        read(&format!("{merged}.summary.csv")),
        read(&format!("{whole}.summary.csv"))
    );
}

#[test]
fn merge_refuses_what_is_no_results_file_with_exit_2() {
    let d = dir("merge-bad");
    let grid = write(&d, "grid.json", SMALL);
    let whole = s(&d.join("whole.csv"));
    ok(&["sweep", &grid, "--output", &whole]);
    let out = s(&d.join("out.csv"));
    let e = fails(&["merge", &s(&d), "--output", &out]);
    assert!(e.contains("is a directory, not a results file"), "{e}");
    let e = fails(&["merge", "/dev/zero", "--output", &out]);
    assert!(
        e.contains("/dev/zero: line 1: longer than 1 MiB: not a results file"),
        "{e}"
    );
    // NaN in total_tests (line 3), found before anything is written.
    let text = read(&whole);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let col = lines[0]
        .split(',')
        .position(|c| c == "total_tests")
        .unwrap();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[col] = "NaN";
    lines[2] = fields.join(",");
    let nan = write(&d, "nan.csv", &(lines.join("\n") + "\n"));
    let e = fails(&["merge", &nan, "--output", &out]);
    assert!(
        e.contains("nan.csv: line 3: total_tests 'NaN' is not a whole number"),
        "{e}"
    );
    assert!(!Path::new(&out).exists(), "no output on bad input");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_merge_without_records_refuses_a_gap_and_warns_about_the_tail() {
    let d = dir("merge-bare");
    let grid = write(&d, "grid.json", SMALL);
    let whole = s(&d.join("whole.csv"));
    ok(&["sweep", &grid, "--output", &whole]);
    let text = read(&whole);
    let lines: Vec<&str> = text.lines().collect();
    // Cell 2 gone from the middle: refused, naming it.
    let gap = [&lines[..3], &lines[4..]].concat().join("\n") + "\n";
    write(&d, "gap.csv", &gap);
    let e = merge_fails(&d, &["gap.csv"]);
    assert!(
        e.contains("1 cells missing below the last one (first: 2)"),
        "{e}"
    );
    // The last cell gone: only --grid can tell; without it, a warning.
    let tail = lines[..12].join("\n") + "\n";
    write(&d, "tail.csv", &tail);
    let out = lbsim(&[
        "merge",
        &s(&d.join("tail.csv")),
        "--output",
        &s(&d.join("t.csv")),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no --grid and no shard records"),
        "{stderr}"
    );
    let e = merge_fails(&d, &["--grid", "grid.json", "tail.csv"]);
    assert!(e.contains("1 of 12 cells missing: 11"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Parses the summary into (point, metric) → its fields.
fn summary_row<'a>(text: &'a str, point: &str, metric: &str) -> Vec<&'a str> {
    text.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[0] == point && f[3] == metric)
        .unwrap_or_else(|| panic!("no summary row for point {point} {metric}"))
}

#[test]
fn the_summary_gives_student_t_intervals_and_paired_differences() {
    let d = dir("summary");
    let grid = write(
        &d,
        "grid.json",
        r#"{"base": {"stress": {"tests": 80, "duration": 10, "burst": true}},
            "axes": {"scheduler": ["round_robin", "performance_based"], "workers": [4]},
            "replications": 4}"#,
    );
    let out = s(&d.join("r.csv"));
    ok(&["sweep", &grid, "--output", &out]);
    let results = read(&out);
    let header: Vec<&str> = results.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == "avg_latency").unwrap();
    let values = |point: &str| -> Vec<f64> {
        data_rows(&results)
            .iter()
            .map(|r| r.split(',').collect::<Vec<_>>())
            .filter(|f| f[1] == point)
            .map(|f| f[col].parse().unwrap())
            .collect()
    };
    let (rr, pb) = (values("0"), values("1"));
    assert_eq!((rr.len(), pb.len()), (4, 4));
    // The interval of 4 values: mean ± t(0.975, 3) · s / 2.
    let ci = |xs: &[f64]| {
        let mean = xs.iter().sum::<f64>() / 4.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0;
        let half = 3.182_446_305 * var.sqrt() / 2.0;
        (mean, mean - half, mean + half)
    };
    let summary = read(&format!("{out}.summary.csv"));
    let close = |field: &str, x: f64| {
        let y: f64 = field.parse().unwrap();
        assert!((x - y).abs() < 2e-6, "{field} vs {x}");
    };
    let (mean, lo, hi) = ci(&pb);
    let row = summary_row(&summary, "1", "avg_latency");
    assert_eq!(row[4], "4");
    close(row[5], mean);
    close(row[7], lo);
    close(row[8], hi);
    // The baseline is the first scheduler of the axis; differences are
    // paired replication by replication (same seeds).
    assert_eq!(row[9], "round_robin");
    let diffs: Vec<f64> = pb.iter().zip(&rr).map(|(a, b)| a - b).collect();
    let (dmean, dlo, dhi) = ci(&diffs);
    close(row[10], dmean);
    close(row[11], dlo);
    close(row[12], dhi);
    let base_row = summary_row(&summary, "0", "avg_latency");
    assert_eq!(&base_row[10..], ["", "", ""]);
    // A metric that never varies has a zero-width interval.
    let row = summary_row(&summary, "1", "total_tests");
    assert_eq!(
        &row[5..9],
        ["80.000000", "0.000000", "80.000000", "80.000000"]
    );
    std::fs::remove_dir_all(&d).unwrap();
}

fn fails(args: &[&str]) -> String {
    let out = lbsim(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "lbsim {args:?}: {stderr}");
    if stderr.starts_with("lbsim: error:") {
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    }
    stderr
}

#[test]
fn bad_grid_input_exits_2_naming_it() {
    let d = dir("bad");
    let out = s(&d.join("r.csv"));
    let grid = |name: &str, text: &str| write(&d, name, text);
    let e = fails(&[
        "sweep",
        &grid(
            "a.json",
            r#"{"base": "stress", "axes": {"wrkers": [1, 2]}}"#,
        ),
        "--output",
        &out,
    ]);
    assert!(e.contains("a.json: axes.wrkers: no field 'wrkers'"), "{e}");
    let e = fails(&[
        "sweep",
        &grid("b.json", r#"{"base": "stress", "axes": {"workers": []}}"#),
        "--output",
        &out,
    ]);
    assert!(
        e.contains("b.json: axes.workers: must list at least one value"),
        "{e}"
    );
    let e = fails(&[
        "sweep",
        &grid(
            "c.json",
            r#"{"base": "stress", "axes": {"workers": ["x"]}}"#,
        ),
        "--output",
        &out,
    ]);
    assert!(e.contains("c.json: axes.workers[0]"), "{e}");
    let e = fails(&[
        "sweep",
        &grid("d.json", "{\"base\": \"stress\",\n \"axes\": [}"),
        "--output",
        &out,
    ]);
    assert!(e.contains("d.json: line 2 column"), "{e}");
    let ok_grid = grid("ok.json", SMALL);
    let e = fails(&["sweep", &ok_grid, "--shard", "3/2", "--output", &out]);
    assert!(e.contains("invalid --shard: '3/2'"), "{e}");
    let e = fails(&["sweep", &ok_grid, "--workers", "5", "--output", &out]);
    assert!(e.contains("unexpected argument '--workers'"), "{e}");
    let e = fails(&["sweep", &ok_grid, "--jobs", "0"]);
    assert!(e.contains("--jobs"), "{e}");
    let e = fails(&["merge", &out]);
    assert!(
        e.contains("invalid --output: merge needs --output FILE"),
        "{e}"
    );
    assert!(!Path::new(&out).exists(), "no output on bad input");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_example_grid_output_is_stable() {
    let d = dir("golden");
    let grid = write(
        &d,
        "grid.json",
        r#"{"base": {"stress": {"workers": 4, "tests": 40, "duration": 10}},
            "axes": {"scheduler": ["performance_based", "round_robin"], "arrivals.type": ["even", "bursts"]},
            "replications": 2}"#,
    );
    let out = s(&d.join("r.csv"));
    ok(&["sweep", &grid, "--output", &out]);
    let results = read(&out);
    let summary = read(&format!("{out}.summary.csv"));
    insta::with_settings!({snapshot_path => "../../golden", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("sweep_results", results);
        insta::assert_snapshot!("sweep_summary_head", summary.lines().take(12).collect::<Vec<_>>().join("\n"));
    });
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_shipped_policy_sweep_has_at_least_12_points() {
    let d = dir("shipped");
    let out = s(&d.join("r.csv"));
    let grid = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/policy_sweep.json");
    let stdout = ok(&["sweep", grid, "--output", &out, "--replications", "1"]);
    assert!(stdout.contains("12 cells"), "{stdout}");
    assert!(
        !Path::new(&format!("{out}.summary.csv")).exists(),
        "one replication, no intervals"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
