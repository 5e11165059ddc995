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

/// A run's `--stats` line, on stderr (never in an output file).
pub(crate) fn print_stats(stats: Option<&str>) {
    if let Some(line) = stats {
        crate::console::print_err(line);
    }
}
