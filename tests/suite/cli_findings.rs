//! Issue 24's command-line findings, one regression test each, through the
//! real binary: input files capped by kind, `--output-dir` checked before
//! anything is made, durations below the simulator's microsecond refused,
//! a dashboard without a keyboard refused, output that cannot be written
//! is exit 1, config messages name the file and field, and a user's value
//! never breaks the one-line message.

use super::common::dir_names as names;
use super::common::{bin, lbsim, path_str, stderr, temp_dir};
use std::path::Path;
use std::process::Output;

/// Exit 2 and one line on stderr, starting as lbsim's errors do and holding
/// every needle; nothing on stdout.
fn bad_input(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("lbsim: error: "), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// A small results file to feed the readers.
fn results(dir: &Path) -> String {
    let path = dir.join("r.json");
    let o = lbsim(&["stress", "--tests", "5", "--output", path_str(&path)]);
    assert!(o.status.success(), "{}", stderr(&o));
    path_str(&path).to_string()
}

/// 1. An endless or oversized input is refused at its kind's cap, naming the
///    file and the cap; a directory is refused naming it. Before: read until
///    memory ran out.
#[test]
fn inputs_are_capped_by_kind_and_a_directory_is_refused() {
    let dir = temp_dir("findings-inputs");
    let r = results(&dir);
    let o = lbsim(&["visualize", "/dev/zero", "-o", path_str(&dir.join("v"))]);
    bad_input(
        &o,
        &["/dev/zero: larger than the 256 MiB limit for a results file"],
    );
    for config in [
        &["scenario", "s", "--config", "/dev/zero"][..],
        &["--list-scenarios", "--config", "/dev/zero"],
    ] {
        bad_input(
            &lbsim(config),
            &[
                "/dev/zero",
                "larger than the 16 MiB limit for a config file",
            ],
        );
    }
    let o = lbsim(&[
        "sweep",
        "/dev/zero",
        "--output",
        path_str(&dir.join("s.csv")),
    ]);
    bad_input(
        &o,
        &["/dev/zero: larger than the 16 MiB limit for a grid file"],
    );
    // A sparse file: over the cap by its size, refused before any read.
    let huge = dir.join("huge.csv");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(2 << 30).unwrap();
    let o = lbsim(&["diff", path_str(&huge), &r]);
    bad_input(
        &o,
        &["huge.csv: larger than the 1 GiB limit for a decision log or results file"],
    );
    let d = path_str(&dir);
    bad_input(&lbsim(&["diff", d, &r]), &[d, "is a directory"]);
    bad_input(&lbsim(&["visualize", d]), &[d, "is a directory"]);
    // A directory is a JUnit suite: this one holds no report.
    bad_input(
        &lbsim(&["replay", d]),
        &[d, "no .xml file in it or below it"],
    );
    let missing = dir.join("missing.swf");
    bad_input(&lbsim(&["replay", path_str(&missing)]), &["missing.swf"]);
    bad_input(
        &lbsim(&["scenario", "s", "--config", d]),
        &[d, "is a directory"],
    );
    assert_eq!(names(&dir), ["huge.csv", "r.json"], "nothing else made");
}

/// 2. `--output-dir` is checked before anything is made: a missing parent,
///    a file-like name, an unwritable or over-long path are bad input naming
///    the flag, and no directory is left behind. Before: exit 1, or every
///    missing level made from `/` and exit 0.
#[test]
fn an_output_dir_is_checked_and_only_its_last_level_is_made() {
    let dir = temp_dir("findings-outdir");
    let r = results(&dir);
    let out = |o: &Path| lbsim(&["visualize", &r, "--output-dir", path_str(o)]);
    let deep = dir.join("no").join("such").join("charts");
    bad_input(
        &out(&deep),
        &["invalid --output-dir: directory ", "does not exist"],
    );
    bad_input(
        &out(&dir.join("x.json")),
        &["invalid --output-dir: ", "x.json looks like a file name"],
    );
    bad_input(
        &out(&dir.join("r.json")),
        &["invalid --output-dir: ", "exists and is not a directory"],
    );
    bad_input(
        &out(&dir.join("r.json").join("charts")),
        &["invalid --output-dir: ", "does not exist"],
    );
    let long = dir.join("a".repeat(300));
    bad_input(&out(&long), &["invalid --output-dir: cannot create "]);
    // Not writable even by root.
    bad_input(
        &out(Path::new("/proc/lbsim-charts")),
        &["invalid --output-dir: cannot create /proc/lbsim-charts"],
    );
    assert_eq!(names(&dir), ["r.json"], "no directory made");
    let o = out(&dir.join("charts"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("charts").join("index.html").is_file());
}

/// 3. A duration that rounds to no simulated time is refused naming what
///    set it (flag, file field or environment); so are wall-clock periods
///    a loop would spin on. Before: exit 0 with 0 submitted, and
///    `heartbeat_interval_s: 0.0`.
#[test]
fn durations_below_a_microsecond_and_spinning_periods_are_refused() {
    let resolution = "shorter than the simulator's resolution of 1e-6 s";
    for command in ["stress", "spike", "check-determinism"] {
        let o = lbsim(&[command, "--duration", "1e-9"]);
        bad_input(&o, &["invalid --duration: 1e-9 s is ", resolution]);
    }
    bad_input(
        &lbsim(&["stress", "--duration", "5e-324"]),
        &["invalid --duration: 5e-324 s", resolution],
    );
    let dir = temp_dir("findings-durations");
    let config = dir.join("tiny.json");
    std::fs::write(
        &config,
        r#"{"test_configurations": {"tiny": {"duration": 1e-7}},
            "scenario_configurations": {"s": {"test_config": "tiny"}}}"#,
    )
    .unwrap();
    let o = lbsim(&["scenario", "s", "--config", path_str(&config)]);
    bad_input(
        &o,
        &[
            "tiny.json: test_configurations.tiny.duration: 1e-7 s",
            resolution,
        ],
    );
    let o = lbsim(&["stress", "--duration", "1e-6", "--tests", "3"]);
    assert!(
        o.status.success(),
        "one microsecond is one tick: {}",
        stderr(&o)
    );
    let o = lbsim(&["serve", "--heartbeat-timeout", "1e-300"]);
    bad_input(
        &o,
        &[
            "'--heartbeat-timeout <SECONDS>'",
            "not between 0.1 and 86400 seconds",
        ],
    );
    let o = lbsim(&["dashboard", "monitor", "--interval", "1e-3"]);
    bad_input(
        &o,
        &["'--interval <SECONDS>'", "not between 0.1 and 3600 seconds"],
    );
}

/// A pseudo-terminal: the master end, kept open while the child runs, and
/// the path of its slave end.
fn pty() -> (std::fs::File, String) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain libc calls on a descriptor this function owns; the
    // buffer outlives the call that fills it.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let slave = std::ffi::CStr::from_ptr(name.as_ptr());
        (
            std::fs::File::from_raw_fd(master),
            slave.to_string_lossy().into_owned(),
        )
    }
}

/// 4. A dashboard with a terminal to draw on but no keyboard (stdin
///    `/dev/null`) exits 2 at once, naming stdin and the batch command.
///    Before: it drew the run, then waited for a `q` forever.
#[test]
fn a_dashboard_without_a_keyboard_is_refused() {
    use std::process::Stdio;
    let (_master, slave) = pty();
    let screen = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave)
        .unwrap();
    let mut child = bin()
        .args(["dashboard", "stress", "--tests", "5", "--speed", "max"])
        .stdin(Stdio::null())
        .stdout(screen)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = super::common::wait_at_most(&mut child, std::time::Duration::from_secs(30));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{err}");
    assert_eq!(
        err,
        "lbsim: error: invalid stdin: not a terminal, and lbsim dashboard reads its keys \
         from one (q quits); without it use `lbsim stress --tests 5`\n"
    );
}

/// 5. Output that cannot be written ends the command with exit 1 and one
///    line on stderr: help or version on a full disk, any output on a
///    stdout closed at start. A reader that went away is still no error.
///    Before: exit 0.
#[test]
fn output_that_cannot_be_written_is_exit_1() {
    use std::process::Stdio;
    let full = || Stdio::from(std::fs::File::create("/dev/full").unwrap());
    for args in [&["--help"][..], &["stress", "--help"], &["--version"]] {
        let o = bin().args(args).stdout(full()).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&o),
            "lbsim: error: <stdout>: No space left on device (os error 28)\n"
        );
    }
    let exe = env!("CARGO_BIN_EXE_lbsim");
    for args in ["stress --tests 5", "--list-schedulers", "--help"] {
        let o = std::process::Command::new("sh")
            .args(["-c", &format!("exec {exe} {args} >&-")])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args}: {}", stderr(&o));
        assert_eq!(
            stderr(&o),
            "lbsim: error: <stdout>: closed when lbsim started, so its output was lost\n"
        );
    }
    // Not closed: /dev/null open for reading and writing (as Python's
    // subprocess.DEVNULL gives) is a stdout like any other.
    let o = std::process::Command::new("sh")
        .args(["-c", &format!("exec {exe} stress --tests 5 1<>/dev/null")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = std::process::Command::new("sh")
        .args(["-c", &format!("{exe} --help | head -c 1")])
        .output()
        .unwrap();
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );
}

/// 6. Config messages name the file and the field that set the value,
///    never a field the scenario does not have. Before: `unknown scenario
///    's' (known: )`, `invalid tests: …`, and a tiny rate blamed on
///    `horizon`.
#[test]
fn config_messages_name_the_file_and_the_field() {
    let dir = temp_dir("findings-config");
    let config = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path_str(&path).to_string()
    };
    let run = |file: &str| lbsim(&["scenario", "s", "--config", file]);
    let empty = config("empty.json", r#"{"scenario_configurations": {}}"#);
    bad_input(
        &run(&empty),
        &["empty.json: scenario_configurations: unknown scenario 's' (the file defines none)"],
    );
    let churn = config(
        "churn.json",
        r#"{"scenario_configurations": {"s": {"churn": {"type": "random", "max_factor": 1e300}}}}"#,
    );
    bad_input(
        &run(&churn),
        &["churn.json: scenario_configurations.s.churn.max_factor: 1e300 lets the pool of 20 grow",
          "more than the 1000000 a run may have"],
    );
    let huge = config(
        "huge.json",
        r#"{"test_configurations": {"big": {"tests": 200000000}},
            "scenario_configurations": {"s": {"test_config": "big"}}}"#,
    );
    bad_input(
        &run(&huge),
        &["huge.json: test_configurations.big.tests: must be at most 100000000 per run"],
    );
    bad_input(
        &lbsim(&["scenario", "normal_operation", "--duration", "2e9"]),
        &["invalid --duration: must be at most 1e9 seconds"],
    );
    let rate = config(
        "rate.json",
        r#"{"scenario_configurations": {"s": {"arrivals": {"type": "poisson", "rate": 1e-300}}}}"#,
    );
    bad_input(
        &run(&rate),
        &["rate.json: scenario_configurations.s.arrivals.rate: 100 tests at this rate take about 1.000e302 s"],
    );
}

/// 6b. A run too large for memory (here 1.5 GB of address space) is blamed
///     on the test configuration's field in its file. Before: `invalid
///     tests: …`, no file.
#[test]
fn a_run_too_large_for_memory_names_the_file_and_field() {
    let dir = temp_dir("findings-memory");
    let path = dir.join("big.json");
    std::fs::write(
        &path,
        r#"{"test_configurations": {"big": {"workers": 10, "tests": 100000000, "duration": 60}},
            "scenario_configurations": {"s": {"test_config": "big"}}}"#,
    )
    .unwrap();
    let exe = env!("CARGO_BIN_EXE_lbsim");
    let o = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "ulimit -v 1500000; exec {exe} scenario s --config {}",
                path.display()
            ),
        ])
        .env_remove("LB_CONFIG_PATH")
        .output()
        .unwrap();
    bad_input(
        &o,
        &["big.json: test_configurations.big.tests: 100000000 tests on up to 10 workers need about 60.0 GB"],
    );
}

/// 7. A value holding a line break or an escape stays on the message's one
///    line, escaped, wherever it is quoted: lbsim's own errors, a file's
///    field, a flag's value refused by its parser, an unknown argument.
///    Before: the message broke at the newline (clap's, cut there).
#[test]
fn a_value_with_a_line_break_keeps_the_message_on_one_line() {
    let dir = temp_dir("findings-one-line");
    let path = dir.join("nl.json");
    std::fs::write(
        &path,
        r#"{"scenario_configurations": {"s": {"scheduler": "a\nb\u001b[31m"}}}"#,
    )
    .unwrap();
    let o = lbsim(&["scenario", "s", "--config", path_str(&path)]);
    bad_input(
        &o,
        &["scenario_configurations.s.scheduler: unknown scheduler 'a\\nb\\u{1b}[31m'"],
    );
    bad_input(
        &lbsim(&["scenario", "x\ny"]),
        &["unknown scenario 'x\\ny' (known: normal_operation"],
    );
    bad_input(
        &lbsim(&["stress", "--scheduler", "x\ny"]),
        &["invalid value 'x\\ny' for '--scheduler <NAME>': unknown scheduler 'x\\ny' (known: "],
    );
    bad_input(
        &lbsim(&["stress", "--x\ny"]),
        &["unexpected argument '--x\\ny' found (see lbsim stress --help)"],
    );
    bad_input(&lbsim(&["diff", "a\nb", "c"]), &["cannot read a\\nb: "]);
}
