//! Issue 24's command-line findings, one regression test each, through the
//! real binary: input files capped by kind, `--output-dir` checked before
//! anything is made, durations below the simulator's microsecond refused,
//! a dashboard without a keyboard refused, output that cannot be written
//! is exit 1, config messages name the file and field, and a user's value
//! never breaks the one-line message.

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

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
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
    bad_input(&lbsim(&["replay", d]), &[d, "is a directory, not a trace"]);
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
