//! Command output on stdout: a reader that went away (`lbsim … | head`)
//! ends the output quietly instead of panicking.

/// `println!` for command output; only in functions that return `Result`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output::print_out(&format!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` with the same care as `outln!`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::print_out(&format!($($arg)*))?
    };
}

pub(crate) use crate::console::print_out;
use crate::engine::NoObserver;
use crate::error::Result;
use crate::report;
use crate::run::{PreparedRun, RunReport};

/// A run's `--stats` line, on stderr (never in an output file).
pub(crate) fn print_stats(stats: Option<&str>) {
    if let Some(line) = stats {
        crate::console::print_err(line);
    }
}

/// The one body of the four run commands (stress, spike, scenario, replay):
/// run with no observer, the `--stats` line, `before` (replay's trace line,
/// which reads the report), the summary, then `after` (spike's windows).
/// A new run command adds its own lines here instead of a fifth copy.
pub(crate) fn run_and_print(
    prepared: &PreparedRun,
    before: impl FnOnce(&RunReport) -> Result<()>,
    after: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let report = prepared.run(&mut NoObserver)?;
    print_stats(report.stats.as_deref());
    before(&report)?;
    out!("{}", report::summary(&report.output));
    after()
}
