//! `lbsim`'s entry: parse, read the environment once, run the command, map
//! the result to an exit code.

use super::args::{Action, Cli, Command};
use super::{
    benchmark, dashboard, determinism, diff, list, load, replay, scenario, serve, spike, stress,
    sweep, visualize, worker,
};
use crate::error::Result;
use crate::scenario::EnvSettings;
use clap::Parser;

/// Parses the process arguments, runs the command, and returns the exit code:
/// 0 ok, 1 run failed, 2 bad input.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage
            // errors to stderr (exit 2).
            let _ = e.print();
            return e.exit_code();
        }
    };
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lbsim: error: {e}");
            e.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let command = match cli.into_action()? {
        Action::ListSchedulers => return list::schedulers(),
        Action::ListScenarios { config } => {
            return list::scenarios(config.as_deref(), &EnvSettings::from_env()?)
        }
        Action::Run(command) => command,
    };
    // The only place lbsim reads its environment.
    let env = EnvSettings::from_env()?;
    match command.as_ref() {
        Command::Stress(args) => stress::run(args, &env),
        Command::Scenario(args) => scenario::run(args, &env),
        Command::Spike(args) => spike::run(args, &env),
        Command::Benchmark(args) => benchmark::run(args, &env),
        Command::Replay(args) => replay::run(args, &env),
        Command::Diff(args) => diff::run(args),
        Command::CheckDeterminism(args) => determinism::run(args, &env),
        Command::Sweep(args) => sweep::run(args, &env),
        Command::Merge(args) => sweep::merge(args),
        Command::Visualize(args) => visualize::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Worker(args) => worker::run(args, &env),
        Command::Load(args) => load::run(args, &env),
        Command::Dashboard(args) => dashboard::run(args, &env),
    }
}
