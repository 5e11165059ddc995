//! `lbsim`'s entry: parse, read the environment once, run the command, map
//! the result to an exit code.

use super::args::{Action, Cli, Command};
use super::{
    benchmark, cancel, dashboard, determinism, diff, fidelity, list, load, plan, replay, scenario,
    serve, spike, stress, submit, sweep, visualize, worker,
};
use crate::console::{one_line, print_err, print_out};
use crate::error::{Error, Result};
use crate::scenario::EnvSettings;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;

/// Parses the process arguments, runs the command, and returns the exit code:
/// 0 ok, 1 run failed, 2 bad input.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            print_err(&format!(
                "lbsim: error: {}\n",
                one_line(&parser_error_line(&e))
            ));
            return e.exit_code();
        }
        Err(e) => {
            // Help and version, on stdout (exit 0 once written).
            return match print_out(&e.render().to_string()) {
                Ok(()) => e.exit_code(),
                Err(failed) => fail(&failed),
            };
        }
    };
    match run(cli) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

/// The one place a command's error is shown: one line on stderr, whatever
/// a value quoted in it held.
fn fail(e: &Error) -> i32 {
    print_err(&format!("lbsim: error: {}\n", one_line(&e.to_string())));
    e.exit_code()
}

/// A usage error in one line, as lbsim's own errors are: clap's first line
/// and where to read more (clap adds a usage block and a hint). The values
/// clap quotes are escaped first, so a line break in one cannot cut it.
fn parser_error_line(e: &clap::Error) -> String {
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a command or argument is missing (see lbsim --help)".to_string();
    }
    let text = escaped(e);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let refused = value_refused(e);
    let first = refused
        .as_deref()
        .unwrap_or_else(|| first.trim().trim_start_matches("error: "));
    let usage = text.lines().find_map(|l| l.trim().strip_prefix("Usage: "));
    let command = usage.map_or("lbsim", |u| u.split(" [").next().unwrap_or(u));
    let command = command.split(" <").next().unwrap_or(command);
    format!("{first} (see {command} --help)")
}

/// `e` rendered, with every value of its context on one line.
fn escaped(e: &clap::Error) -> String {
    let mut text = e.render().to_string();
    for (_, value) in e.context() {
        let values = match value {
            ContextValue::String(s) => std::slice::from_ref(s),
            ContextValue::Strings(v) => v.as_slice(),
            _ => &[],
        };
        for v in values.iter().filter(|v| v.contains(char::is_control)) {
            text = text.replace(v.as_str(), &one_line(v));
        }
    }
    text
}

/// A value parser's refusal as clap words it (`invalid value 'V' for
/// 'ARG': WHY`), built here because WHY may quote V, line breaks and all,
/// and clap's own rendering would split there.
fn value_refused(e: &clap::Error) -> Option<String> {
    if e.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let why = std::error::Error::source(e).map_or(String::new(), |s| format!(": {s}"));
    Some(one_line(&format!(
        "invalid value '{value}' for '{arg}'{why}"
    )))
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
    if !matches!(
        command.as_ref(),
        Command::Sweep(_)
            | Command::Serve(_)
            | Command::Worker(_)
            | Command::Load(_)
            | Command::Submit(_)
    ) {
        // Those stop gracefully on a signal; the others stop at once,
        // leaving no temporary file behind.
        crate::report::clean_up_on_signals();
    }
    match command.as_ref() {
        Command::Stress(args) => stress::run(args, &env),
        Command::Scenario(args) => scenario::run(args, &env),
        Command::Spike(args) => spike::run(args, &env),
        Command::Benchmark(args) => benchmark::run(args, &env),
        Command::Replay(args) => replay::run(args, &env),
        Command::Diff(args) => diff::run(args),
        Command::CheckDeterminism(args) => determinism::run(args, &env),
        Command::Sweep(args) => sweep::run(args, &env),
        Command::Merge(args) => sweep::merge(args, &env),
        Command::Visualize(args) => visualize::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Worker(args) => worker::run(args, &env),
        Command::Submit(args) => submit::run(args),
        Command::Load(args) => load::run(args, &env),
        Command::Cancel(args) => cancel::run(args),
        Command::Fidelity(args) => fidelity::run(args),
        Command::Dashboard(args) => dashboard::run(args, &env),
        Command::Plan(args) => plan::run(args, &env),
    }
}
