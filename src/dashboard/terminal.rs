//! The terminal's lifecycle: raw mode and the alternate screen on entry,
//! and the terminal restored on every way out (drop, error, panic), so a
//! crash never leaves a user's shell unusable.

use std::io::{self, IsTerminal, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// True between entering raw mode and restoring: restoring twice (drop
/// after a panic hook) or without entering writes nothing.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// The terminal the dashboard draws on.
pub(crate) type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Stdout or stdin is not a terminal: the dashboard cannot run (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("lbsim dashboard needs a terminal on {stream}; for a run without one use `{batch}`")]
pub(crate) struct NotATerminal {
    /// `stdout` (nothing to draw on) or `stdin` (no keys: a finished run
    /// would wait for a `q` that never comes).
    pub(crate) stream: &'static str,
    /// The batch command that does the same run.
    pub(crate) batch: String,
}

/// Fails when stdout or stdin is not a terminal, naming `batch`, the
/// command to use instead (`lbsim stress --workers 20 …`).
pub(crate) fn require_terminal(batch: &str) -> Result<(), NotATerminal> {
    check_terminal(io::stdout().is_terminal(), batch)?;
    check_keyboard(io::stdin().is_terminal(), batch)
}

/// The stdout half of `require_terminal`, with the answer given (for tests).
pub(crate) fn check_terminal(is_terminal: bool, batch: &str) -> Result<(), NotATerminal> {
    check("stdout", is_terminal, batch)
}

/// The stdin half of `require_terminal`, with the answer given.
pub(crate) fn check_keyboard(is_terminal: bool, batch: &str) -> Result<(), NotATerminal> {
    check("stdin", is_terminal, batch)
}

fn check(stream: &'static str, is_terminal: bool, batch: &str) -> Result<(), NotATerminal> {
    if is_terminal {
        Ok(())
    } else {
        Err(NotATerminal {
            stream,
            batch: batch.to_owned(),
        })
    }
}

/// Owns the terminal while the dashboard runs; restores it when dropped,
/// on any path out, unwinding included.
pub struct TerminalGuard {
    terminal: Option<Tui>,
}

impl TerminalGuard {
    /// Installs the panic hook, enters raw mode and the alternate screen.
    /// If a step fails, what was done is undone before the error returns.
    pub(crate) fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut guard = TerminalGuard { terminal: None };
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
        guard.terminal = Some(Terminal::new(CrosstermBackend::new(io::stdout()))?);
        Ok(guard)
    }

    pub(crate) fn terminal(&mut self) -> &mut Tui {
        self.terminal.as_mut().expect("entered")
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = restore();
    }
}

/// Leaves the alternate screen, shows the cursor and leaves raw mode, once;
/// a no-op when the terminal is not held.
pub(crate) fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let screen = execute!(io::stdout(), LeaveAlternateScreen, Show);
    let raw = disable_raw_mode();
    screen.and(raw)
}

/// A panic restores the terminal first, so the panic message lands on the
/// normal screen, then runs the hook that was there before.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = restore();
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_terminal_names_the_batch_command() {
        let err = check_terminal(false, "lbsim stress --workers 5").unwrap_err();
        assert_eq!(
            err.to_string(),
            "lbsim dashboard needs a terminal on stdout; for a run without one use `lbsim stress --workers 5`"
        );
        assert!(check_terminal(true, "lbsim stress").is_ok());
        let err = check_keyboard(false, "lbsim stress").unwrap_err();
        assert_eq!(err.stream, "stdin");
        assert!(check_keyboard(true, "lbsim stress").is_ok());
    }

    #[test]
    fn restoring_a_terminal_that_was_never_entered_does_nothing() {
        assert!(restore().is_ok());
        assert!(!ACTIVE.load(Ordering::SeqCst));
    }
}
