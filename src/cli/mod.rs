//! The command line: clap types, and one small function per command. Every
//! function turns flags into library options, runs, and reports; no logic a
//! test could not reach through the library lives here.

/// `println!` for command output: a reader that went away (`lbsim … | head`)
/// ends the output quietly instead of panicking. Only in functions that
/// return `Result`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::print_out(&format!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` with the same care as `outln!`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::print_out(&format!($($arg)*))?
    };
}

mod args;
mod balancing;
mod benchmark;
mod determinism;
mod diff;
mod load;
mod replay;
mod scenario;
mod serve;
mod spike;
mod stress;
mod sweep;
mod visualize;
mod worker;

pub use args::{Cli, Command, CommonArgs};

use crate::error::Result;
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
    match dispatch(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lbsim: error: {e}");
            e.exit_code()
        }
    }
}

/// Writes to stdout. A reader that went away (`lbsim stress | head`) is not
/// an error and must not panic, so a broken pipe ends output quietly.
pub fn print_out(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(crate::Error::io("<stdout>", e))
        }
        _ => Ok(()),
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    if cli.list_schedulers {
        let list: String = crate::balancer::policy::SCHEDULERS
            .iter()
            .map(|s| format!("{:<22} {}\n", s.id, s.description))
            .collect();
        return print_out(&list);
    }
    let env = crate::scenario::EnvSettings::from_env()?;
    // The reference: --list-scenarios and --scenario win over a command.
    if cli.list_scenarios {
        return scenario::list(&cli, &env);
    }
    if let Some(name) = &cli.scenario {
        // check-determinism checks the named scenario rather than giving way.
        if let Some(Command::CheckDeterminism(args)) = &cli.command {
            return determinism::run(&cli, args, Some(name), &env);
        }
        return scenario::run(name, &cli, &env);
    }
    match cli.command.clone() {
        Some(Command::Stress(args)) => stress::run(&cli.common, &args),
        Some(Command::Visualize(args)) => visualize::run(&args),
        Some(Command::Replay(args)) => replay::run(&cli.common, &args, cli.config.as_deref()),
        Some(Command::Diff(args)) => diff::run(&args),
        Some(Command::CheckDeterminism(args)) => {
            determinism::run(&cli, &args, args.scenario.as_deref(), &env)
        }
        Some(Command::Sweep(args)) => sweep::run(&cli.common, &args),
        Some(Command::Merge(args)) => sweep::merge(&cli.common, &args),
        Some(Command::Scenario(args)) => scenario::run(&args.name, &cli, &env),
        Some(Command::Spike) => spike::run(&cli.common, &env),
        Some(Command::Benchmark(args)) => benchmark::run(&cli.common, &args, &env),
        Some(Command::Serve(args)) => serve::run(&cli.common, &args),
        Some(Command::Worker(args)) => worker::run(&cli.common, &args, cli.config.as_deref()),
        Some(Command::Load(args)) => load::run(&cli.common, &args, cli.config.as_deref()),
        None => stress::run(&cli.common, &args::StressArgs::default()),
    }
}
