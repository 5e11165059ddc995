//! The top level of the command line, and how options given before a
//! command reach it.
//!
//! Each command has its own options (its help lists exactly those). The
//! top level holds `stress`'s options, since `lbsim` alone runs `stress`;
//! given before a command, they go to the command if it takes them (the
//! reference's documents show both orders), and are refused otherwise.

use super::benchmark::BenchmarkArgs;
use super::cancel::CancelArgs;
use super::dashboard::DashboardArgs;
use super::determinism::DeterminismArgs;
use super::diff::DiffArgs;
use super::fidelity::FidelityArgs;
use super::load::LoadArgs;
use super::options::take;
use super::plan::PlanArgs;
use super::replay::ReplayArgs;
use super::scenario::ScenarioArgs;
use super::serve::ServeArgs;
use super::spike::SpikeArgs;
use super::stress::StressArgs;
use super::submit::SubmitArgs;
use super::sweep::{MergeArgs, SweepArgs};
use super::visualize::VisualizeArgs;
use super::worker::WorkerArgs;
use crate::error::{Error, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Clone, Debug, Parser)]
#[command(
    name = "lbsim",
    version,
    about = "Deterministic discrete-event simulator for an adaptive test load balancer",
    long_about = "Deterministic discrete-event simulator for an adaptive test load balancer.\n\
                  Runs the reference stress tests in simulated time: same seed, same bytes."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// List the scheduling policies, one per line, and exit
    #[arg(long)]
    pub(crate) list_schedulers: bool,
    /// List the scenarios of the config (name and description) and exit
    #[arg(long)]
    pub(crate) list_scenarios: bool,
    /// Run the named scenario of the config (same as `lbsim scenario NAME`)
    #[arg(long, value_name = "NAME")]
    pub(crate) scenario: Option<String>,
    /// Config file replacing the embedded default [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[command(
        flatten,
        next_help_heading = "Stress options (`lbsim` alone runs stress; before a command, they go to it)"
    )]
    pub(crate) run: StressArgs,
}

#[derive(Clone, Debug, Subcommand)]
pub(crate) enum Command {
    /// Run one stress test (the default command)
    Stress(StressArgs),
    /// Run a named scenario from the config
    Scenario(ScenarioArgs),
    /// Bursts, dynamic workers and a load spike, then recovery
    Spike(SpikeArgs),
    /// The benchmark grid: workers x tests, printed as a table
    Benchmark(BenchmarkArgs),
    /// Replay a recorded workload (SWF, lbsim's per-test CSV, a recording, JUnit XML reports)
    Replay(ReplayArgs),
    /// Compare two decision logs or two results files (exit 1 beyond --tolerance)
    Diff(DiffArgs),
    /// Run a stress configuration or a scenario twice and report the first difference
    CheckDeterminism(DeterminismArgs),
    /// Run a parameter grid: one CSV row per cell, in parallel, resumable
    Sweep(SweepArgs),
    /// Join sweep shard files into the file one run would write
    Merge(MergeArgs),
    /// Draw SVG charts and an HTML report from a results file
    Visualize(VisualizeArgs),
    /// Run the coordinator: the balancer core for real workers over HTTP
    Serve(ServeArgs),
    /// Fake workers for a running coordinator, or (--exec) a real agent running tests
    Worker(WorkerArgs),
    /// Send tests to a coordinator; --wait follows them (a summary, JUnit, exit 0 if all passed)
    Submit(SubmitArgs),
    /// Play a scenario against a running coordinator and measure it
    Load(LoadArgs),
    /// Cancel tests on a running coordinator
    Cancel(CancelArgs),
    /// Replay a coordinator's recording and report how well the model agrees (exit 1 beyond --tolerance)
    Fidelity(FidelityArgs),
    /// Watch a run (stress, scenario, spike, replay) or a coordinator live in the terminal
    Dashboard(DashboardArgs),
    /// Find the smallest worker pool that meets targets, per policy
    Plan(PlanArgs),
}

/// What the command line asks for, every option in its one place.
#[derive(Clone, Debug)]
pub(super) enum Action {
    ListSchedulers,
    ListScenarios { config: Option<PathBuf> },
    Run(Box<Command>),
}

impl Cli {
    /// Resolves the top level: `--list-*` and `--scenario` (which the
    /// reference put there), the implicit `stress`, and the options given
    /// before the command, handed to it.
    pub(crate) fn into_action(self) -> Result<Action> {
        let mut before = Before {
            run: self.run,
            config: self.config,
        };
        if self.list_schedulers {
            alone(
                "--list-schedulers",
                self.list_scenarios,
                &self.scenario,
                &self.command,
            )?;
            before.finish("--list-schedulers", "it takes nothing else")?;
            return Ok(Action::ListSchedulers);
        }
        if self.list_scenarios {
            alone("--list-scenarios", false, &self.scenario, &self.command)?;
            let mut config = None;
            take("--config", &mut before.config, &mut config)?;
            before.finish("--list-scenarios", "it takes only --config")?;
            return Ok(Action::ListScenarios { config });
        }
        let (mut command, name) = match (self.scenario, self.command) {
            (None, None) => (
                Command::Stress(StressArgs::default()),
                "stress, which lbsim runs with no command,",
            ),
            (Some(name), None) => {
                let args = ScenarioArgs {
                    name,
                    ..ScenarioArgs::default()
                };
                (Command::Scenario(args), "--scenario")
            }
            (Some(name), Some(Command::CheckDeterminism(mut args))) => {
                let mut given = Some(name);
                take("--scenario", &mut given, &mut args.scenario)?;
                (Command::CheckDeterminism(args), "check-determinism")
            }
            (Some(_), Some(other)) => {
                return Err(Error::invalid(
                    "--scenario",
                    format!(
                        "runs a scenario by itself or with check-determinism, not with {}",
                        other.name()
                    ),
                ))
            }
            (None, Some(command)) => {
                let name = command.name();
                (command, name)
            }
        };
        command.absorb(&mut before)?;
        let help = format!("see lbsim {} --help", command.name());
        before.finish(name, &help)?;
        Ok(Action::Run(Box::new(command)))
    }
}

/// A `--list-*` flag takes no command and no scenario.
fn alone(
    flag: &str,
    list: bool,
    scenario: &Option<String>,
    command: &Option<Command>,
) -> Result<()> {
    let other = match (list, scenario, command) {
        (true, _, _) => Some("--list-scenarios".to_string()),
        (_, Some(_), _) => Some("--scenario".to_string()),
        (_, _, Some(c)) => Some(format!("the command {}", c.name())),
        _ => None,
    };
    match other {
        Some(other) => Err(Error::invalid(
            flag,
            format!("lists and exits; drop {other}"),
        )),
        None => Ok(()),
    }
}

impl Command {
    /// The command's name, as typed.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Stress(_) => "stress",
            Command::Scenario(_) => "scenario",
            Command::Spike(_) => "spike",
            Command::Benchmark(_) => "benchmark",
            Command::Replay(_) => "replay",
            Command::Diff(_) => "diff",
            Command::CheckDeterminism(_) => "check-determinism",
            Command::Sweep(_) => "sweep",
            Command::Merge(_) => "merge",
            Command::Visualize(_) => "visualize",
            Command::Serve(_) => "serve",
            Command::Worker(_) => "worker",
            Command::Submit(_) => "submit",
            Command::Load(_) => "load",
            Command::Cancel(_) => "cancel",
            Command::Fidelity(_) => "fidelity",
            Command::Dashboard(_) => "dashboard",
            Command::Plan(_) => "plan",
        }
    }

    /// Takes, from the options given before the command, those it takes.
    fn absorb(&mut self, b: &mut Before) -> Result<()> {
        let r = &mut b.run;
        match self {
            Command::Stress(a) => {
                a.workload.absorb(&mut r.workload)?;
                a.mode.absorb(&mut r.mode);
                a.policy.absorb(&mut r.policy)?;
                a.keys.absorb(&mut r.keys)?;
                a.outputs.absorb(&mut r.outputs)
            }
            Command::Scenario(a) => {
                a.workload.absorb(&mut r.workload)?;
                a.policy.absorb(&mut r.policy)?;
                a.keys.absorb(&mut r.keys)?;
                a.outputs.absorb(&mut r.outputs)?;
                take("--config", &mut b.config, &mut a.config)
            }
            Command::Spike(a) => {
                a.workload.absorb(&mut r.workload)?;
                a.policy.absorb(&mut r.policy)?;
                a.keys.absorb(&mut r.keys)?;
                a.outputs.absorb(&mut r.outputs)
            }
            Command::Benchmark(a) => {
                take("--seed", &mut r.policy.seed, &mut a.seed)?;
                take("--scheduler", &mut r.policy.scheduler, &mut a.scheduler)?;
                take("--output", &mut r.outputs.output, &mut a.output)
            }
            Command::Replay(a) => {
                take("--workers", &mut r.workload.workers, &mut a.workers)?;
                a.policy.absorb(&mut r.policy)?;
                a.outputs.absorb(&mut r.outputs)?;
                take("--config", &mut b.config, &mut a.config)
            }
            Command::CheckDeterminism(a) => {
                a.workload.absorb(&mut r.workload)?;
                a.mode.absorb(&mut r.mode);
                a.policy.absorb(&mut r.policy)?;
                a.keys.absorb(&mut r.keys)?;
                take("--config", &mut b.config, &mut a.config)
            }
            Command::Sweep(a) => take("--output", &mut r.outputs.output, &mut a.output),
            Command::Merge(a) => take("--output", &mut r.outputs.output, &mut a.output),
            Command::Serve(a) => a.policy.absorb(&mut r.policy),
            Command::Worker(a) => {
                take("--workers", &mut r.workload.workers, &mut a.workers)?;
                take("--seed", &mut r.policy.seed, &mut a.seed)?;
                take("--config", &mut b.config, &mut a.config)
            }
            Command::Load(a) => {
                take("--workers", &mut r.workload.workers, &mut a.workers)?;
                take("--tests", &mut r.workload.tests, &mut a.tests)?;
                take("--duration", &mut r.workload.duration, &mut a.duration)?;
                take("--seed", &mut r.policy.seed, &mut a.seed)?;
                take("--output", &mut r.outputs.output, &mut a.output)?;
                take("--config", &mut b.config, &mut a.config)
            }
            Command::Plan(a) => {
                take("--seed", &mut r.policy.seed, &mut a.seed)?;
                take("--config", &mut b.config, &mut a.config)
            }
            Command::Diff(_)
            | Command::Visualize(_)
            | Command::Dashboard(_)
            | Command::Submit(_)
            | Command::Fidelity(_) => Ok(()),
            Command::Cancel(_) => Ok(()),
        }
    }
}

/// The options given before the command, until the command takes them.
struct Before {
    run: StressArgs,
    config: Option<PathBuf>,
}

impl Before {
    /// Fails naming the first option left: `what` does not take it.
    fn finish(self, what: &str, hint: &str) -> Result<()> {
        let r = &self.run;
        let left = r
            .workload
            .first_given()
            .or_else(|| r.mode.first_given())
            .or_else(|| r.policy.first_given())
            .or_else(|| r.keys.first_given())
            .or_else(|| r.outputs.first_given())
            .or_else(|| self.config.as_ref().map(|_| "--config"));
        match left {
            Some(flag) => Err(Error::invalid(
                flag,
                format!("{what} does not take it ({hint})"),
            )),
            None => Ok(()),
        }
    }
}
