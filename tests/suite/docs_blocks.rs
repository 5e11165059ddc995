//! The docs' console blocks, parsed and run: every ```console block of
//! README.md and docs/ is a shell session whose `$ ` lines run, in order, in
//! one scratch directory per file that looks like a fresh clone's root, and
//! whose other lines are the output they print. A line `...` stands for any
//! number of lines. `LBSIM_DOCS_UPDATE=1` rewrites the outputs in place
//! (keeping each step's elision) instead of failing.

use super::common::{path_str, temp_dir, wait_at_most};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Printed between steps, so one shell can run a whole file.
const MARK: &str = "@@lbsim-docs-step@@";

/// The repository's root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every markdown file under docs/, sorted, as (relative
/// path, text).
pub fn docs() -> Vec<(String, String)> {
    let mut paths = vec![root().join("README.md")];
    collect_md(&root().join("docs"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&p).expect("doc file");
            (rel, text)
        })
        .collect()
}

fn collect_md(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("docs/") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_md(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// One fenced block: its language, and the line indices of its body.
pub struct Block {
    pub lang: String,
    pub lines: std::ops::Range<usize>,
}

/// The fenced blocks of a markdown text.
pub fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if !trimmed.starts_with("```") {
            continue;
        }
        match open.take() {
            None => open = Some((trimmed[3..].trim().to_string(), i + 1)),
            Some((lang, start)) => out.push(Block {
                lang,
                lines: start..i,
            }),
        }
    }
    assert!(open.is_none(), "an unclosed ``` block");
    out
}

/// One command of a console block and the output the doc shows for it.
pub struct Step {
    /// The doc line of the `$ ` line (0-based).
    pub line: usize,
    pub command: String,
    /// Line indices of the shown output.
    pub output: std::ops::Range<usize>,
}

/// The steps of every console block of a doc, in order.
pub fn steps(lines: &[&str]) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for block in blocks(lines).into_iter().filter(|b| b.lang == "console") {
        let mut i = block.lines.start;
        assert!(
            lines.get(i).is_some_and(|l| l.starts_with("$ ")),
            "console block at line {} does not open with a `$ ` line",
            i + 1
        );
        while i < block.lines.end {
            let start = i;
            let mut command = lines[i][2..].to_string();
            while command.ends_with('\\') && i + 1 < block.lines.end {
                i += 1;
                command.push('\n');
                command.push_str(lines[i]);
            }
            i += 1;
            let first = i;
            while i < block.lines.end && !lines[i].starts_with("$ ") {
                i += 1;
            }
            out.push(Step {
                line: start,
                command,
                output: first..i,
            });
        }
    }
    out
}

fn is_elision(line: &str) -> bool {
    matches!(line.trim(), "..." | "…")
}

/// Whether `actual` is what `shown` shows, `...` lines standing for any
/// number of lines (trailing spaces ignored).
pub fn matches(shown: &[&str], actual: &[&str]) -> bool {
    let parts: Vec<Vec<&str>> = shown
        .split(|l| is_elision(l))
        .map(|p| p.iter().map(|l| l.trim_end()).collect())
        .collect();
    let actual: Vec<&str> = actual.iter().map(|l| l.trim_end()).collect();
    if parts.len() == 1 {
        return parts[0] == actual;
    }
    let (first, last) = (&parts[0], &parts[parts.len() - 1]);
    if actual.len() < first.len() + last.len()
        || !actual.starts_with(first)
        || !actual.ends_with(last)
    {
        return false;
    }
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.windows(part.len()).position(|w| w == part.as_slice()) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// What an update writes for a step: the actual output, cut the way the
/// shown output was cut when it has one elision (its head and tail kept).
pub fn rewrite(shown: &[&str], actual: &[&str]) -> Vec<String> {
    let marks: Vec<usize> = (0..shown.len()).filter(|&i| is_elision(shown[i])).collect();
    if marks.len() != 1 {
        return actual.iter().map(|l| l.to_string()).collect();
    }
    let (head, tail) = (marks[0], shown.len() - marks[0] - 1);
    if head + tail >= actual.len() {
        return actual.iter().map(|l| l.to_string()).collect();
    }
    let mut out: Vec<String> = actual[..head].iter().map(|l| l.to_string()).collect();
    out.push(shown[marks[0]].to_string());
    out.extend(actual[actual.len() - tail..].iter().map(|l| l.to_string()));
    out
}

/// A scratch directory that looks like a fresh clone's root: the input
/// folders the docs' commands name, linked in.
fn clone_root(name: &str) -> PathBuf {
    let dir = temp_dir(&format!("docs-{}", name.replace('/', "-")));
    for entry in ["scenarios", "traces", "tests", "golden"] {
        std::os::unix::fs::symlink(root().join(entry), dir.join(entry)).expect("symlink");
    }
    dir
}

/// The shell script that runs `steps` in order, each step's output (stdout
/// and stderr as one stream) followed by MARK, `$?` carried over.
fn script(steps: &[Step]) -> String {
    let mut s = String::new();
    for step in steps {
        s.push_str(&format!(
            "{{\n{}\n}} 2>&1\n__s=$?; printf '\\n{MARK}\\n'; (exit $__s)\n",
            step.command
        ));
    }
    s
}

/// Runs a doc's steps in a scratch root with `lbsim` on the PATH; the
/// outputs, one per step.
pub fn run_steps(name: &str, steps: &[Step]) -> Vec<String> {
    let dir = clone_root(name);
    let bin = Path::new(env!("CARGO_BIN_EXE_lbsim")).parent().unwrap();
    let path = format!(
        "{}:{}",
        path_str(bin),
        std::env::var("PATH").unwrap_or_default()
    );
    let out_file = dir.join(".docs-output");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script(steps))
        .current_dir(&dir)
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(Stdio::inherit());
    for var in [
        "LB_LOG_LEVEL",
        "LB_MAX_WORKERS",
        "LB_DEFAULT_DURATION",
        "LB_CONFIG_PATH",
        "LB_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().expect("sh runs");
    let status = wait_at_most(&mut child, Duration::from_secs(600));
    assert!(
        status.is_some(),
        "{name}: its console blocks ran over 600 s"
    );
    let text = std::fs::read_to_string(&out_file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut outputs: Vec<String> = text
        .split(&format!("\n{MARK}\n"))
        .map(|s| s.strip_suffix('\n').unwrap_or(s).to_string())
        .collect();
    outputs.pop(); // after the last mark
    assert_eq!(outputs.len(), steps.len(), "{name}: a step's output lost");
    outputs
}
