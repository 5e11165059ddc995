//! `lbsim benchmark` on the sweep machinery: the same table and JSON for
//! any --jobs, shards whose journals join into the whole, resume after a
//! partial run, and journals that are refused.

use super::common::{lbsim, path_str, stderr, stdout, temp_dir};
use std::path::Path;

/// Runs the reference grid (15 cells, seed 3) with `extra` flags into
/// `out`; returns stdout, asserting success.
fn bench(out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["benchmark", "--seed", "3", "--output", path_str(out)];
    args.extend_from_slice(extra);
    let o = lbsim(&args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn any_jobs_give_the_same_table_and_bytes_and_no_journal_is_left() {
    let dir = temp_dir("bench-jobs");
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    let table_a = bench(&a, &["--jobs", "1"]);
    let table_b = bench(&b, &["--jobs", "3"]);
    assert_eq!(table_a, table_b);
    assert_eq!(table_a.lines().count(), 16);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(!dir.join("a.json.cells.jsonl").exists());
}

#[test]
fn shards_join_into_the_whole_and_a_partial_run_resumes() {
    let dir = temp_dir("bench-shards");
    let whole = dir.join("whole.json");
    let table = bench(&whole, &["--jobs", "2"]);
    // Two shards, each journaling its cells; the journals joined (in
    // either order) and resumed run nothing and write the same document.
    let (s1, s2) = (dir.join("s1.json"), dir.join("s2.json"));
    let note = bench(&s1, &["--shard", "1/2"]);
    assert!(
        note.contains("shard 1/2: 8 cells (8 run, 0 already done)"),
        "{note}"
    );
    bench(&s2, &["--shard", "2/2"]);
    assert!(!s1.exists(), "a shard writes no document");
    let journal =
        |p: &Path| std::fs::read_to_string(format!("{}.cells.jsonl", p.display())).unwrap();
    let joined = dir.join("joined.json");
    std::fs::write(
        dir.join("joined.json.cells.jsonl"),
        journal(&s2) + &journal(&s1),
    )
    .unwrap();
    assert_eq!(bench(&joined, &["--resume"]), table);
    assert_eq!(
        std::fs::read(&joined).unwrap(),
        std::fs::read(&whole).unwrap()
    );
    // A shard's journal resumed whole: the other cells run now.
    let resumed = bench(&s1, &["--resume", "--jobs", "2"]);
    assert_eq!(resumed, table);
    assert_eq!(std::fs::read(&s1).unwrap(), std::fs::read(&whole).unwrap());
}

#[test]
fn a_journal_is_continued_only_with_resume_and_only_from_this_grid() {
    let dir = temp_dir("bench-refuse");
    let out = dir.join("r.json");
    bench(&out, &["--shard", "1/3"]);
    let o = lbsim(&["benchmark", "--seed", "3", "--output", path_str(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid --output") && stderr(&o).contains("add --resume"),
        "{}",
        stderr(&o)
    );
    let o = lbsim(&[
        "benchmark",
        "--seed",
        "4",
        "--output",
        path_str(&out),
        "--resume",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("r.json.cells.jsonl")
            && stderr(&o).contains("line 1")
            && stderr(&o).contains("not this grid's"),
        "{}",
        stderr(&o)
    );
    let o = lbsim(&["benchmark", "--resume"]);
    assert_eq!(o.status.code(), Some(2), "--resume needs --output");
}
