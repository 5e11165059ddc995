//! Writing to the terminal without panicking: the library's commands and
//! the service print through here, so a reader that went away (`lbsim … |
//! head`) ends output quietly and an unwritable stderr never aborts a run.

use crate::error::{Error, Result};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first broken pipe on stdout.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to stdout and flushes. A broken pipe is not an error (the reader
/// has what it wanted; `is_stdout_closed` tells a long job to stop); any
/// other failure is.
pub fn print_out(text: &str) -> Result<()> {
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
