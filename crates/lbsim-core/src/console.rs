//! Writing to the terminal without panicking: the library's commands and
//! the service print through here, so a reader that went away (`lbsim … |
//! head`) ends output quietly and an unwritable stderr never aborts a run.
//! Output that cannot be written (a full disk, a stdout closed at start) is
//! an error the command ends on (exit 1). Messages are kept to one line:
//! [`one_line`] escapes what a user's value could bring into them.

use crate::error::{Error, Result};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first broken pipe on stdout.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Set when the process started with no stdout at all (`lbsim >&-`).
static STDOUT_MISSING: AtomicBool = AtomicBool::new(false);

/// Records that the process started with file descriptor 1 closed. The
/// binary calls this before Rust's runtime quietly puts `/dev/null` there,
/// after which the two look the same.
pub fn note_stdout_missing() {
    STDOUT_MISSING.store(true, Ordering::Relaxed);
}

/// Writes to stdout and flushes. A broken pipe is not an error (the reader
/// has what it wanted; `is_stdout_closed` tells a long job to stop); any
/// other failure is, and so is a stdout that was closed at start.
pub fn print_out(text: &str) -> Result<()> {
    if STDOUT_MISSING.load(Ordering::Relaxed) {
        let closed = std::io::Error::other("closed when lbsim started, so its output was lost");
        return Err(Error::io("<stdout>", closed));
    }
    if is_stdout_closed() {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Error::io("<stdout>", e)),
        Ok(()) => Ok(()),
    }
}

/// True once stdout's reader has gone away (`lbsim benchmark | head -1`):
/// a job that only prints can stop.
pub fn is_stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Writes to stderr, ignoring failure: a message that cannot be shown must
/// not turn into a panic (`eprint!` panics on a full or closed stderr).
pub fn print_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// `text` on one line: line breaks and other control characters are
/// written as escapes (`\n`, `\u{1b}`), so a value a user typed or a
/// file held cannot split a message or drive the terminal.
pub fn one_line(text: &str) -> String {
    if !text.contains(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(one_line("plain 'é' text"), "plain 'é' text");
        assert_eq!(one_line("a\nb\r\tc\u{1b}[31m"), "a\\nb\\r\\tc\\u{1b}[31m");
    }
}
