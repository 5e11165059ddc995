//! The live dashboard's loop run headless (an off-screen terminal and a
//! script of keys, through the very `watch_run` the command uses): the
//! files it writes are the batch command's byte for byte, whatever keys
//! were pressed; quitting early writes nothing; and the command refuses to
//! run without a terminal, naming the batch command.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lbsim::balancer::policy::SchedulerName;
use lbsim::dashboard::driver::{watch_run, Watched};
use lbsim::dashboard::render::buffer_text;
use lbsim::dashboard::screen::ScriptedScreen;
use lbsim::dashboard::Speed;
use lbsim::run::{Outputs, Overrides, RunRequest, Source, TraceSource};
use lbsim::scenario::EnvSettings;

use super::common::{lbsim, path_str, stderr, stdout, temp_dir};

const FILES: [&str; 3] = ["results.json", "tests.csv", "decisions.csv"];

fn outputs(dir: &Path) -> Outputs {
    Outputs {
        results: Some(dir.join(FILES[0])),
        tests_csv: Some(dir.join(FILES[1])),
        decisions: Some(dir.join(FILES[2])),
        stats: false,
    }
}

/// The batch command's flags for the same files in `dir`.
fn output_flags(dir: &Path) -> Vec<String> {
    let flags = ["--output", "--csv", "--decisions"];
    flags
        .iter()
        .zip(FILES)
        .flat_map(|(flag, file)| [flag.to_string(), path_str(&dir.join(file)).to_string()])
        .collect()
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

/// Watches `request` headless from `speed` with `keys`, then a `q` once
/// the summary shows; returns the last screen's text.
fn watch(request: &RunRequest, label: &str, speed: Speed, keys: &str) -> (Watched, String) {
    let prepared = request.prepare(&EnvSettings::default()).unwrap();
    let mut screen = ScriptedScreen::new(120, 40, keys.chars().map(key));
    let watched = watch_run(&prepared, label, speed, &mut screen).unwrap();
    assert!(screen.frames > 1, "only {} frame(s)", screen.frames);
    (watched, buffer_text(screen.buffer()))
}

/// Runs the batch command into `batch/` and the dashboard into `live/`,
/// and compares every file byte for byte.
fn same_files_as_batch(name: &str, batch_args: &[&str], request: impl Fn(&Path) -> RunRequest) {
    let dir = temp_dir(name);
    let (batch, live) = (dir.join("batch"), dir.join("live"));
    std::fs::create_dir_all(&batch).unwrap();
    std::fs::create_dir_all(&live).unwrap();
    let mut args: Vec<String> = batch_args.iter().map(|s| s.to_string()).collect();
    args.extend(output_flags(&batch));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = lbsim(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // From the fastest step: pause, two single events, one simulated
    // second, faster (max), resume. None of it may change the run.
    let (watched, screen) = watch(&request(&live), name, Speed::Times(10000.0), " ssn+ ");
    let Watched::Finished(report) = watched else {
        panic!("the run did not finish: {watched:?}")
    };
    assert!(screen.contains("FINISHED"), "{screen}");
    let summary = lbsim::report::summary(&report.output);
    let first = summary.lines().next().unwrap();
    assert!(stdout(&out).contains(first), "{first}");
    for file in FILES {
        let a = std::fs::read(batch.join(file)).unwrap();
        let b = std::fs::read(live.join(file)).unwrap();
        let lines = a.iter().filter(|&&b| b == b'\n').count();
        assert!(lines > 2, "{file} has {lines} line(s)");
        assert!(a == b, "{name}: {file} differs from the batch command's");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_watched_stress_run_writes_the_batch_commands_files() {
    same_files_as_batch(
        "dash-stress",
        &[
            "stress",
            "--workers",
            "12",
            "--tests",
            "400",
            "--dynamic",
            "--seed",
            "9",
            "--scheduler",
            "least_loaded",
        ],
        |dir| RunRequest {
            source: Source::Stress {
                burst: false,
                dynamic: true,
            },
            overrides: Overrides {
                workers: Some(12),
                tests: Some(400),
                seed: Some(9),
                scheduler: Some(SchedulerName::LeastLoaded),
                ..Default::default()
            },
            outputs: outputs(dir),
        },
    );
}

#[test]
fn a_watched_scenario_writes_the_batch_commands_files() {
    same_files_as_batch(
        "dash-scenario",
        &["scenario", "spike_and_recovery", "--tests", "300"],
        |dir| RunRequest {
            source: Source::Scenario {
                name: "spike_and_recovery".into(),
                config: None,
            },
            overrides: Overrides {
                tests: Some(300),
                ..Default::default()
            },
            outputs: outputs(dir),
        },
    );
}

#[test]
fn a_watched_replay_writes_the_batch_commands_files() {
    // A trace of lbsim's own per-test CSV, written by a stress run.
    let dir = temp_dir("dash-replay-trace");
    let trace = dir.join("trace.csv");
    let out = lbsim(&["stress", "--tests", "200", "--csv", path_str(&trace)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    same_files_as_batch(
        "dash-replay",
        &["replay", path_str(&trace), "--workers", "4"],
        |dir| RunRequest {
            source: Source::Trace(TraceSource::new(trace.clone())),
            overrides: Overrides {
                workers: Some(4),
                ..Default::default()
            },
            outputs: outputs(dir),
        },
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quitting_before_the_end_writes_no_file() {
    let dir = temp_dir("dash-quit");
    let request = RunRequest {
        source: Source::Stress {
            burst: false,
            dynamic: false,
        },
        overrides: Overrides {
            tests: Some(5000),
            ..Default::default()
        },
        outputs: outputs(&dir),
    };
    // Slow enough that the first frame cannot end the run.
    let (watched, screen) = watch(&request, "stress", Speed::Times(0.1), " nq");
    let Watched::Quit { at_s } = watched else {
        panic!("the run was not stopped: {watched:?}")
    };
    assert!((1.0..60.0).contains(&at_s), "{at_s}");
    assert!(screen.contains("|| PAUSED"), "{screen}");
    let left: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_a_terminal_the_command_exits_2_naming_the_batch_command() {
    // The test harness's stdout is a pipe, never a terminal.
    let out = lbsim(&["dashboard", "stress", "--workers", "5", "--speed", "max"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("not a terminal") && err.contains("`lbsim stress --workers 5`"),
        "{err}"
    );
    let out = lbsim(&["dashboard", "monitor", "--url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("curl -s http://127.0.0.1:9/v1/status"));
    // Bad flags are bad input too, before the terminal matters.
    let out = lbsim(&["dashboard", "stress", "--speed", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--speed"), "{}", stderr(&out));
}

/// Each mode's help lists its batch command's options plus `--speed`.
#[test]
fn every_mode_has_its_own_help() {
    let help = |mode: &str| {
        let out = lbsim(&["dashboard", mode, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{mode}: {}", stderr(&out));
        stdout(&out)
    };
    for mode in ["stress", "scenario", "spike", "replay"] {
        let text = help(mode);
        for flag in ["--seed", "--scheduler", "--output", "--csv", "--speed"] {
            assert!(text.contains(flag), "dashboard {mode} --help lacks {flag}");
        }
    }
    assert!(help("stress").contains("--dynamic"));
    let monitor = help("monitor");
    for flag in ["--url", "--token", "--interval"] {
        assert!(monitor.contains(flag), "{flag}");
    }
    assert!(!monitor.contains("--speed"));
}
