//! Hostile input, generated: a seeded mutation loop over config files,
//! traces, grids and flag combinations. Every case must exit 0, 1 or 2
//! (never a panic's 101 or a signal), say what is wrong in one line on
//! exit 2, and leave nothing in its output directory but what it was asked
//! to write. Bounded by a count per kind and a wall-time budget per kind;
//! it asserts nothing about time.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 13;
/// Cases per kind at most, and seconds of wall time per kind at most
/// (`LBSIM_HOSTILE_SCALE=N` multiplies both, for a deeper run by hand).
const CASES_PER_KIND: usize = 400;
const SECONDS_PER_KIND: f64 = 3.0;

fn scale() -> usize {
    let given = std::env::var("LBSIM_HOSTILE_SCALE").ok();
    given.and_then(|s| s.parse().ok()).unwrap_or(1)
}
/// A case still running after this is killed and reported (not asserted).
const CASE_LIMIT: Duration = Duration::from_secs(60);

/// Values that break things: signs, zeros, huge and tiny numbers, types.
const HOSTILE: [&str; 18] = [
    "0",
    "-1",
    "1",
    "2",
    "1e9",
    "1e30",
    "4e-7",
    "1e-9",
    "4294967296",
    "-5e-324",
    "0.5",
    "\"x\"",
    "null",
    "[]",
    "{}",
    "true",
    "1e308",
    "18446744073709551616",
];

/// What one kind of case does with a mutated input file.
struct Kind {
    name: &'static str,
    /// The unmutated input.
    base: Vec<u8>,
    /// The input's file name (its extension picks the trace format).
    file: &'static str,
    /// The command line for the mutated file (inside the input directory).
    args: fn(&mut ChaCha8Rng, &str) -> Vec<String>,
}

/// What the cases did.
#[derive(Default)]
struct Tally {
    cases: usize,
    by_exit: [usize; 3],
    killed: Vec<String>,
    failures: Vec<String>,
}

fn pick<T: Clone>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[(rng.next_u64() % items.len() as u64) as usize].clone()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// One to three mutations of `base`: a number swapped for a hostile value,
/// a span deleted, a line doubled, a byte inserted, the tail cut, two
/// lines swapped.
fn mutate(rng: &mut ChaCha8Rng, base: &[u8]) -> Vec<u8> {
    let mut text = base.to_vec();
    for _ in 0..1 + rng.next_u64() % 3 {
        let at = |rng: &mut ChaCha8Rng, t: &[u8]| (rng.next_u64() % (t.len() as u64 + 1)) as usize;
        match rng.next_u64() % 8 {
            0..=2 => replace_number(rng, &mut text),
            3 => {
                let start = at(rng, &text);
                let end = (start + 1 + (rng.next_u64() % 20) as usize).min(text.len());
                text.drain(start..end);
            }
            4 => {
                let start = at(rng, &text);
                text.insert(start, (rng.next_u64() % 256) as u8);
            }
            5 => text.truncate(at(rng, &text)),
            _ => shuffle_lines(rng, &mut text),
        }
    }
    text
}

fn replace_number(rng: &mut ChaCha8Rng, text: &mut Vec<u8>) {
    let is_num = |b: u8| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'e';
    let starts: Vec<usize> = (0..text.len())
        .filter(|&i| text[i].is_ascii_digit() && (i == 0 || !is_num(text[i - 1])))
        .collect();
    if starts.is_empty() {
        return;
    }
    let start = pick(rng, &starts);
    let end = (start..text.len())
        .find(|&i| !is_num(text[i]))
        .unwrap_or(text.len());
    let value = pick(rng, &HOSTILE).as_bytes().to_vec();
    text.splice(start..end, value);
}

/// Doubles one line, or swaps two.
fn shuffle_lines(rng: &mut ChaCha8Rng, text: &mut Vec<u8>) {
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let n = lines.len() as u64;
    let (i, j) = ((rng.next_u64() % n) as usize, (rng.next_u64() % n) as usize);
    if rng.next_u64().is_multiple_of(2) {
        let line = lines[i].clone();
        lines.insert(j, line);
    } else {
        lines.swap(i, j);
    }
    *text = lines.join(&b'\n');
}

/// Runs one case in a fresh output directory (its working directory) and
/// checks it; `inputs` holds the files it reads.
fn run_case(tally: &mut Tally, args: &[String], inputs: &Path, out: &Path) {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(args)
        .current_dir(out)
        .env_remove("LB_CONFIG_PATH")
        .env_remove("LB_DEFAULT_DURATION")
        .env_remove("LB_LOG_LEVEL")
        .env("LB_MAX_WORKERS", "200")
        .env("LB_INPUTS", inputs)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = String::new();
    let reader = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
            s
        })
    });
    tally.cases += 1;
    let Some(status) = super::common::wait_at_most(&mut child, CASE_LIMIT) else {
        tally.killed.push(args.join(" "));
        return;
    };
    if let Some(r) = reader {
        err = r.join().unwrap_or_default();
    }
    let what = format!("lbsim {}", args.join(" "));
    match status.code() {
        Some(code @ 0..=2) => tally.by_exit[code as usize] += 1,
        other => tally
            .failures
            .push(format!("{what}: exit {other:?}: {err}")),
    }
    if err.contains("panicked") {
        tally.failures.push(format!("{what}: panicked: {err}"));
    }
    if status.code() == Some(2) && (err.lines().count() != 1 || !err.starts_with("lbsim: error: "))
    {
        tally
            .failures
            .push(format!("{what}: exit 2 without one line: {err:?}"));
    }
    if let Some(stray) = stray_files(args, out) {
        tally.failures.push(format!("{what}: left {stray}"));
    }
}

/// The first file in `out` that the case did not ask for (temporary files
/// never count as asked for).
fn stray_files(args: &[String], out: &Path) -> Option<String> {
    let mut asked: Vec<String> = strings(&[
        "sweep_results.csv",
        "sweep_results.csv.summary.csv",
        "visualizations",
    ]);
    for w in args.windows(2) {
        if ["--output", "--csv", "--decisions", "-o", "--output-dir"].contains(&w[0].as_str()) {
            let first = Path::new(&w[1]).components().next();
            let name = first.map(|c| c.as_os_str().to_string_lossy().into_owned());
            asked.extend(
                name.iter()
                    .flat_map(|n| [n.clone(), format!("{n}.summary.csv")]),
            );
        }
    }
    let entries = std::fs::read_dir(out).ok()?;
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.contains(".tmp-") || n.contains(".lbsim-check-") || !asked.contains(n))
}

/// Runs up to `CASES_PER_KIND` mutated cases of `kind` within
/// `SECONDS_PER_KIND`.
fn run_kind(kind: &Kind, rng: &mut ChaCha8Rng, dir: &Path, tally: &mut Tally) -> usize {
    #[allow(clippy::disallowed_methods)] // a wall-time budget for the loop, not for lbsim
    let start = Instant::now();
    let (inputs, out) = (dir.join("in"), dir.join(format!("out-{}", kind.name)));
    let mut cases = 0;
    let (count, seconds) = (CASES_PER_KIND * scale(), SECONDS_PER_KIND * scale() as f64);
    while cases < count && start.elapsed().as_secs_f64() < seconds {
        let file = inputs.join(kind.file);
        std::fs::write(&file, mutate(rng, &kind.base)).unwrap();
        let args = (kind.args)(rng, &file.display().to_string());
        run_case(tally, &args, &inputs, &out);
        cases += 1;
    }
    cases
}

fn config_args(rng: &mut ChaCha8Rng, file: &str) -> Vec<String> {
    let names = [
        "normal_operation",
        "worker_churn",
        "rack_failure",
        "flash_crowd",
        "spike_and_recovery",
    ];
    if rng.next_u64().is_multiple_of(3) {
        return strings(&["--list-scenarios", "--config", file]);
    }
    let name = pick(rng, &names);
    let run = [
        "scenario",
        name,
        "--config",
        file,
        "--workers",
        "5",
        "--tests",
        "40",
    ];
    let mut args = strings(&run);
    args.extend(strings(&[
        "--duration",
        "20",
        "--output",
        "r.json",
        "--csv",
        "t.csv",
    ]));
    args
}

fn trace_args(rng: &mut ChaCha8Rng, file: &str) -> Vec<String> {
    let workers = pick(rng, &["1", "4", "0", "300"]);
    let mut args = strings(&["replay", file, "--workers", workers, "--output", "r.json"]);
    if rng.next_u64().is_multiple_of(2) {
        args.extend(strings(&[
            "--time-scale",
            pick(rng, &["0.001", "1e6", "1e9", "-1"]),
        ]));
    }
    args.extend(strings(&["--decisions", "d.csv"]));
    args
}

fn grid_args(rng: &mut ChaCha8Rng, file: &str) -> Vec<String> {
    let mut args = strings(&["sweep", file, "--output", "s.csv", "--jobs", "1"]);
    if rng.next_u64().is_multiple_of(4) {
        args.extend(strings(&[
            "--replications",
            pick(rng, &["1", "3", "4294967295", "0"]),
        ]));
    }
    args
}

/// A command and some of the flags any command might be given, with
/// hostile values; input files come from the input directory.
fn flag_args(rng: &mut ChaCha8Rng, inputs: &str) -> Vec<String> {
    let input = |name: &str| format!("{inputs}/{name}");
    let commands: Vec<Vec<String>> = vec![
        vec![],
        strings(&["stress"]),
        strings(&["spike"]),
        strings(&["scenario", "rack_failure"]),
        strings(&["benchmark"]),
        vec!["replay".into(), input("tiny.swf")],
        vec!["replay".into(), input("base.csv")],
        vec![
            "diff".into(),
            input("d1.csv"),
            input(pick(rng, &["d1.csv", "r1.json", "nope.csv", "tiny.swf"])),
        ],
        vec!["diff".into(), input("r1.json"), input("r1.json")],
        strings(&["check-determinism"]),
        vec!["sweep".into(), input("grid.json")],
        vec!["merge".into(), input("shard.csv")],
        vec![
            "visualize".into(),
            input(pick(rng, &["r1.json", "shard.csv", "tiny.swf"])),
        ],
    ];
    let mut args = pick(rng, &commands);
    let flags: [(&str, &[&str]); 21] = [
        (
            "--workers",
            &["0", "1", "3", "200", "201", "4294967296", "x"],
        ),
        ("--tests", &["0", "1", "7", "-3", "1e9", "100000000000", ""]),
        (
            "--duration",
            &["0", "1e-7", "5e-324", "1e9", "7", "nan", "-1"],
        ),
        ("--seed", &["0", "-1", "18446744073709551616", "7"]),
        ("--scheduler", &["round_robin", "composite", "nope", ""]),
        (
            "--output",
            &["a.json", "a.json", ".", "sub/x.json", "b.csv"],
        ),
        ("--csv", &["a.json", "b.csv", "/", "sub/"]),
        ("--decisions", &["b.csv", "c.csv", ".."]),
        ("--burst", &[]),
        ("--dynamic", &[]),
        ("--work-stealing", &[]),
        ("--stats", &[]),
        ("--concurrency-keys", &["0", "3", "4294967296"]),
        (
            "--composite-weights",
            &["round_robin:1", "x", "round_robin:-1", ":"],
        ),
        ("--time-scale", &["0", "1e9", "0.5"]),
        ("--load-factor", &["0", "1e9", "2"]),
        ("--replications", &["0", "2", "4294967295"]),
        ("--shard", &["1/2", "3/2", "0/0", "x"]),
        ("--tolerance", &["5", "-1", "nan"]),
        ("--baseline", &["round_robin", "nope"]),
        ("--config", &["/nonexistent", "/dev/null", "."]),
    ];
    for _ in 0..rng.next_u64() % 5 {
        let (flag, values) = pick(rng, &flags);
        args.push(flag.to_string());
        if !values.is_empty() {
            args.push(pick(rng, values).to_string());
        }
    }
    if rng.next_u64().is_multiple_of(10) {
        args.insert(
            0,
            pick(rng, &["--list-scenarios", "--list-schedulers", "--resume"]).to_string(),
        );
    }
    args
}

/// The unmutated inputs, written to `in`.
fn prepare_inputs(dir: &Path) -> PathBuf {
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("tests/data/tiny.swf"), inputs.join("tiny.swf")).unwrap();
    let grid = r#"{"base": {"stress": {"tests": 30, "duration": 10}},
 "axes": {"scheduler": ["performance_based", "round_robin"], "workers": [2, 5]},
 "replications": 2}"#;
    std::fs::write(inputs.join("grid.json"), grid).unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_lbsim"))
            .args(args)
            .current_dir(&inputs)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&[
        "stress",
        "--tests",
        "30",
        "--csv",
        "base.csv",
        "--decisions",
        "d1.csv",
        "--output",
        "r1.json",
    ]);
    run(&["sweep", "grid.json", "--output", "shard.csv", "--jobs", "1"]);
    inputs
}

#[test]
fn hostile_inputs_exit_0_1_or_2_with_one_line_and_no_stray_file() {
    let dir = super::common::temp_dir("hostile");
    let inputs = prepare_inputs(&dir);
    let read = |name: &str| std::fs::read(inputs.join(name)).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let kinds = [
        Kind {
            name: "config",
            base: std::fs::read(root.join("scenarios/default.json")).unwrap(),
            file: "m.json",
            args: config_args,
        },
        Kind {
            name: "swf",
            base: read("tiny.swf"),
            file: "m.swf",
            args: trace_args,
        },
        Kind {
            name: "csv",
            base: read("base.csv"),
            file: "m.csv",
            args: trace_args,
        },
        Kind {
            name: "grid",
            base: read("grid.json"),
            file: "g.json",
            args: grid_args,
        },
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut tally = Tally::default();
    let mut counts: Vec<String> = kinds
        .iter()
        .map(|k| format!("{} {}", k.name, run_kind(k, &mut rng, &dir, &mut tally)))
        .collect();
    let flags = Kind {
        name: "flags",
        base: Vec::new(),
        file: "unused",
        args: flag_args,
    };
    let flag_cases = run_flags(&flags, &mut rng, &dir, &inputs, &mut tally);
    counts.push(format!("flags {flag_cases}"));
    eprintln!(
        "hostile (seed {SEED}): {} cases ({}); exit 0: {}, 1: {}, 2: {}; killed after {}s: {:?}",
        tally.cases,
        counts.join(", "),
        tally.by_exit[0],
        tally.by_exit[1],
        tally.by_exit[2],
        CASE_LIMIT.as_secs(),
        tally.killed
    );
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    assert!(
        tally.by_exit[2] > 0 && tally.by_exit[0] > 0,
        "the mutations reach both outcomes"
    );
}

/// Flag combinations: no file to mutate, the inputs are fixed.
fn run_flags(
    kind: &Kind,
    rng: &mut ChaCha8Rng,
    dir: &Path,
    inputs: &Path,
    tally: &mut Tally,
) -> usize {
    #[allow(clippy::disallowed_methods)] // a wall-time budget for the loop, not for lbsim
    let start = Instant::now();
    let out = dir.join(format!("out-{}", kind.name));
    let mut cases = 0;
    let (count, seconds) = (CASES_PER_KIND * scale(), SECONDS_PER_KIND * scale() as f64);
    while cases < count && start.elapsed().as_secs_f64() < seconds {
        let args = (kind.args)(rng, &inputs.display().to_string());
        run_case(tally, &args, inputs, &out);
        cases += 1;
    }
    cases
}
