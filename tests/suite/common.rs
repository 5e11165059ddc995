//! Helpers shared by the integration tests: run the real binary, make temp dirs.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `lbsim` with `args`, with the LB_* variables cleared so the host
/// environment cannot change a test's meaning.
pub fn lbsim(args: &[&str]) -> Output {
    lbsim_with_env(args, &[])
}

/// The `lbsim` binary with none of the caller's LB_* variables.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lbsim"));
    for var in [
        "LB_LOG_LEVEL",
        "LB_MAX_WORKERS",
        "LB_DEFAULT_DURATION",
        "LB_CONFIG_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `lbsim` with `args` and exactly the LB_* variables in `env`.
pub fn lbsim_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = bin();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("lbsim runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lbsim-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn path_str(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Waits for `child` at most `limit` (bounded: a hung child is killed and
/// the test fails rather than hangs).
pub fn wait_at_most(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let step = std::time::Duration::from_millis(50);
    for _ in 0..(limit.as_millis() / step.as_millis()) {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(step);
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// The names of the entries of `dir`, sorted (to see what a run left).
pub fn dir_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
