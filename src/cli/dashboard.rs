//! `lbsim dashboard stress|scenario|spike|replay|monitor`: the batch
//! commands' runs watched live in the terminal, or a running coordinator.
//! A run takes exactly its batch command's flags (and writes the same
//! files), plus `--speed`.

use super::options::seconds_within;
use super::replay::ReplayArgs;
use super::scenario::ScenarioArgs;
use super::spike::SpikeArgs;
use super::stress::StressArgs;
use crate::client::Client;
use crate::dashboard::driver::{watch_run, Watched};
use crate::dashboard::monitor::watch_coordinator;
use crate::dashboard::pacing::{default_speed, parse_speed};
use crate::dashboard::screen::TerminalScreen;
use crate::dashboard::terminal::{require_terminal, NotATerminal};
use crate::dashboard::{Speed, Theme};
use crate::error::{Error, Result};
use crate::report;
use crate::run::RunRequest;
use crate::scenario::EnvSettings;
use clap::{Args, Subcommand};
use std::time::Duration;

/// Options of `dashboard`: what to watch.
#[derive(Clone, Debug, Args)]
pub(crate) struct DashboardArgs {
    #[command(subcommand)]
    pub(crate) view: View,
}

#[derive(Clone, Debug, Subcommand)]
pub(crate) enum View {
    /// Watch a stress test (the flags of `lbsim stress`)
    Stress(WatchStress),
    /// Watch a named scenario of the config (the flags of `lbsim scenario`)
    Scenario(WatchScenario),
    /// Watch the spike run (the flags of `lbsim spike`)
    Spike(WatchSpike),
    /// Watch a trace's replay (the flags of `lbsim replay`)
    Replay(WatchReplay),
    /// Watch a running coordinator (`lbsim serve`) through GET /v1/status
    Monitor(MonitorArgs),
}

/// How fast a simulated run plays.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct PaceArgs {
    /// Simulated seconds per wall second, or `max` (as fast as it draws)
    /// [default: the whole run in about 30 s]
    #[arg(long, value_name = "X|max", value_parser = parse_speed)]
    pub(crate) speed: Option<Speed>,
}

#[derive(Clone, Debug, Args)]
pub(crate) struct WatchStress {
    #[command(flatten)]
    pub(crate) run: StressArgs,
    #[command(flatten)]
    pub(crate) pace: PaceArgs,
}

#[derive(Clone, Debug, Args)]
pub(crate) struct WatchScenario {
    #[command(flatten)]
    pub(crate) run: ScenarioArgs,
    #[command(flatten)]
    pub(crate) pace: PaceArgs,
}

#[derive(Clone, Debug, Args)]
pub(crate) struct WatchSpike {
    #[command(flatten)]
    pub(crate) run: SpikeArgs,
    #[command(flatten)]
    pub(crate) pace: PaceArgs,
}

#[derive(Clone, Debug, Args)]
pub(crate) struct WatchReplay {
    #[command(flatten)]
    pub(crate) run: ReplayArgs,
    #[command(flatten)]
    pub(crate) pace: PaceArgs,
}

/// Options of `dashboard monitor`.
#[derive(Clone, Debug, Args)]
pub(crate) struct MonitorArgs {
    /// The coordinator's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// The coordinator's bearer token
    #[arg(long, env = "LB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Seconds between two polls (0.1 to 3600)
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0, value_parser = poll_interval)]
    pub(crate) interval: f64,
}

/// `--interval`: a poll loop faster than ten a second would load the
/// coordinator for nothing the screen can show.
fn poll_interval(s: &str) -> std::result::Result<f64, String> {
    seconds_within(s, 0.1, 3600.0)
}

pub(crate) fn run(args: &DashboardArgs, env: &EnvSettings) -> Result<()> {
    let (request, label, pace) = match &args.view {
        View::Stress(a) => (a.run.request(), "stress".to_string(), &a.pace),
        View::Scenario(a) => (a.run.request(), format!("scenario {}", a.run.name), &a.pace),
        View::Spike(a) => (a.run.request(), "spike".to_string(), &a.pace),
        View::Replay(a) => (
            a.run.request()?,
            format!("replay {}", a.run.trace.display()),
            &a.pace,
        ),
        View::Monitor(a) => return monitor(a),
    };
    require_terminal(&batch_command()).map_err(not_a_terminal)?;
    watch(&request, &label, pace, env)
}

/// Prepares the run (every flag checked before the screen changes), then
/// watches it; once the terminal is back, prints what the batch command
/// prints.
fn watch(request: &RunRequest, label: &str, pace: &PaceArgs, env: &EnvSettings) -> Result<()> {
    let prepared = request.prepare(env)?;
    let speed = pace
        .speed
        .unwrap_or_else(|| default_speed(prepared.scenario().duration_s));
    let watched = {
        let mut screen = TerminalScreen::enter(Theme::from_env())?;
        watch_run(&prepared, label, speed, &mut screen)?
    };
    match watched {
        Watched::Finished(report) => {
            if let Some(line) = report.stats.as_deref() {
                crate::console::print_err(line);
            }
            out!("{}", report::summary(&report.output));
        }
        Watched::Quit { at_s } => {
            let unwritten = if request.outputs.results.is_some()
                || request.outputs.tests_csv.is_some()
                || request.outputs.decisions.is_some()
            {
                "; no output file was written"
            } else {
                ""
            };
            crate::console::print_err(&format!(
                "lbsim: dashboard quit at simulated {at_s:.1} s, before the run's end{unwritten}\n"
            ));
        }
    }
    Ok(())
}

fn monitor(args: &MonitorArgs) -> Result<()> {
    let url = args.url.trim_end_matches('/');
    require_terminal(&format!("curl -s {url}/v1/status")).map_err(not_a_terminal)?;
    let client = Client::new(url, args.token.clone());
    let mut screen = TerminalScreen::enter(Theme::from_env())?;
    watch_coordinator(client, Duration::from_secs_f64(args.interval), &mut screen)
}

/// Exit 2, naming the stream and the command that works without a
/// terminal.
fn not_a_terminal(e: NotATerminal) -> Error {
    let does = match e.stream {
        "stdin" => "reads its keys from one (q quits)",
        _ => "draws on one",
    };
    Error::invalid(
        e.stream,
        format!(
            "not a terminal, and lbsim dashboard {does}; without it use `{}`",
            e.batch
        ),
    )
}

/// The batch command that does the same run: this command line without
/// `dashboard` and `--speed`.
fn batch_command() -> String {
    let mut words: Vec<String> = vec!["lbsim".into()];
    let mut args = std::env::args().skip(1);
    let mut dropped_dashboard = false;
    while let Some(arg) = args.next() {
        if arg == "dashboard" && !dropped_dashboard {
            dropped_dashboard = true;
        } else if arg == "--speed" {
            args.next();
        } else if !arg.starts_with("--speed=") {
            words.push(quoted(&arg));
        }
    }
    words.join(" ")
}

/// A word as a shell reads it back.
fn quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
