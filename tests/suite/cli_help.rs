//! Each command's `--help` lists exactly the options it takes, with the
//! defaults it really uses; the lists are pinned here, so a new or lost
//! option is a visible change.

use super::common::{lbsim, stderr, stdout};

/// The stress options: what `lbsim` alone and `lbsim stress` take.
const STRESS: &[&str] = &[
    "--workers",
    "--tests",
    "--duration",
    "--burst",
    "--dynamic",
    "--seed",
    "--scheduler",
    "--composite-weights",
    "--work-stealing",
    "--concurrency-keys",
    "--load-view",
    "--output",
    "--csv",
    "--decisions",
    "--stats",
];

/// Each command (empty: the top level) and its options, in help order.
fn expected() -> Vec<(&'static str, Vec<&'static str>)> {
    let with_help = |flags: &[&'static str]| [flags, &["--help"]].concat();
    let top = [
        &[
            "--list-schedulers",
            "--list-scenarios",
            "--scenario",
            "--config",
            "--help",
            "--version",
        ][..],
        STRESS,
    ]
    .concat();
    let scenario = [&STRESS[..3], &STRESS[5..], &["--config", "--help"]].concat();
    let spike = with_help(&[&STRESS[..3], &STRESS[5..]].concat());
    let determinism = with_help(&[&STRESS[..11], &["--config"]].concat());
    let replay = with_help(&[
        "--format",
        "--requirements",
        "--arrivals",
        "--time-scale",
        "--load-factor",
        "--workers",
        "--cluster",
        "--config",
        "--seed",
        "--scheduler",
        "--composite-weights",
        "--work-stealing",
        "--output",
        "--csv",
        "--decisions",
        "--stats",
        "--live-decisions",
    ]);
    vec![
        ("", top),
        ("stress", with_help(STRESS)),
        ("scenario", scenario),
        ("spike", spike),
        (
            "benchmark",
            with_help(&[
                "--full",
                "--seed",
                "--scheduler",
                "--output",
                "--jobs",
                "--shard",
                "--resume",
            ]),
        ),
        ("replay", replay),
        ("diff", with_help(&["--tolerance"])),
        ("check-determinism", determinism),
        (
            "sweep",
            with_help(&[
                "--output",
                "--jobs",
                "--replications",
                "--shard",
                "--shards",
                "--shard-index",
                "--resume",
            ]),
        ),
        ("merge", with_help(&["--output", "--grid", "--baseline"])),
        ("visualize", with_help(&["--output-dir", "--type"])),
        (
            "serve",
            with_help(&[
                "--host",
                "--port",
                "--db-path",
                "--disable-load-balancer",
                "--log-level",
                "--heartbeat-timeout",
                "--token",
                "--record",
                "--seed",
                "--scheduler",
                "--composite-weights",
                "--work-stealing",
            ]),
        ),
        (
            "worker",
            vec![
                "--workers",
                "--seed",
                "--config",
                "--url",
                "--profile",
                "--time-scale",
                "--fail-rate",
                "--token",
                "--help",
                "--exec",
                "--slots",
                "--cores",
                "--memory-gb",
                "--cuda-devices",
                "--labels",
                "--name",
                "--allow-test-commands",
                "--grace",
                "--log-dir",
                "--keep-logs",
            ],
        ),
        (
            "submit",
            vec![
                "--url",
                "--token",
                "--file",
                "--wait",
                "--junit",
                "--help",
                "--name",
                "--priority",
                "--memory-gb",
                "--cuda",
                "--cores",
                "--timeout",
                "--retries",
                "--labels",
                "--env",
                "--expected-duration",
            ],
        ),
        (
            "plan",
            with_help(&[
                "--target",
                "--scheduler",
                "--replications",
                "--seed",
                "--min",
                "--max",
                "--profile",
                "--cluster",
                "--config",
                "--format",
                "--requirements",
                "--arrivals",
                "--tests",
                "--duration",
                "--json",
                "--chart",
                "--jobs",
            ]),
        ),
        (
            "load",
            with_help(&[
                "--url",
                "--speed",
                "--no-workers",
                "--fleet-time-scale",
                "--token",
                "--workers",
                "--tests",
                "--duration",
                "--seed",
                "--output",
                "--prediction",
                "--config",
            ]),
        ),
        ("cancel", with_help(&["--url", "--token"])),
        (
            "fidelity",
            with_help(&[
                "--scheduler",
                "--tolerance",
                "--json",
                "--run-time",
                "--seed",
            ]),
        ),
    ]
}

/// The `--help` text of a command.
fn help(command: &str) -> String {
    let args: Vec<&str> = [command, "--help"]
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
    let out = lbsim(&args);
    assert_eq!(out.status.code(), Some(0), "{command}: {}", stderr(&out));
    stdout(&out)
}

/// The long options an help text lists, in order.
fn options(help: &str) -> Vec<String> {
    help.lines()
        .map(str::trim_start)
        .filter_map(|l| {
            // `--name <V>` or `-n, --name <V>`; not a `- value:` list item.
            let mut words = l.split_whitespace();
            let first = words.next()?;
            let long = if first.len() == 3 && first.ends_with(',') {
                words.next()?
            } else {
                first
            };
            long.starts_with("--").then(|| long.to_string())
        })
        .collect()
}

#[test]
fn every_command_lists_exactly_its_own_options() {
    for (command, flags) in expected() {
        assert_eq!(options(&help(command)), flags, "lbsim {command} --help");
    }
}

#[test]
fn help_texts_show_the_defaults_each_command_uses() {
    let scenario = help("scenario");
    assert!(!scenario.contains("[default: 20]"), "{scenario}");
    assert!(!scenario.contains("[default: 42]"), "{scenario}");
    assert!(scenario.contains("[default: the scenario's]"), "{scenario}");
    let stress = help("stress");
    for default in [
        "[default: 20]",
        "[default: 100]",
        "else 60]",
        "[default: 42]",
    ] {
        assert!(stress.contains(default), "{default} missing: {stress}");
    }
    let sweep = help("sweep");
    assert!(sweep.contains("Write the results CSV here"), "{sweep}");
    assert!(!sweep.contains("results JSON"), "{sweep}");
    assert!(help("replay").contains("[default: 1 for SWF, 20"));
}
