//! Command output on stdout: a reader that went away (`lbsim … | head`)
//! ends the output quietly instead of panicking.

use crate::error::Result;

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

/// Writes to stdout. A broken pipe is not an error and must not panic.
pub(crate) fn print_out(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(crate::Error::io("<stdout>", e))
        }
        _ => Ok(()),
    }
}

/// A run's `--stats` line, on stderr (never in an output file).
pub(crate) fn print_stats(stats: Option<&str>) {
    if let Some(line) = stats {
        eprint!("{line}");
    }
}
