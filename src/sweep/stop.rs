//! How a sweep stops on a signal. The first SIGINT (Ctrl-C), SIGTERM
//! (`scancel`, a requeue, a time limit, a pod deleted) or SIGHUP starts no
//! new cell: the cells in flight finish and their rows are written, so the
//! results file holds only whole rows and `--resume` continues it. If the
//! scheduler's SIGKILL comes first (Slurm's KillWait, 30 s by default), the
//! file is still whole rows. A second signal quits at once.
//!
//! Exit codes: 1 after Ctrl-C (as before), 128 + the signal after SIGTERM
//! (143) or SIGHUP (129): a batch system can tell "stopped, resumable" from
//! "failed" (a Kubernetes podFailurePolicy can ignore 143).

use crate::console::print_err;
use crate::error::Error;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Set by the first signal: no new cell starts.
static STOP: AtomicBool = AtomicBool::new(false);
/// The first signal's number (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The flag `sweep::run` checks before each cell.
pub(crate) fn stop_flag() -> &'static AtomicBool {
    &STOP
}

/// The signal that stopped the sweep (2, 15 or 1), if one did.
pub(crate) fn stopped_by() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    }
}

/// The exit code of a sweep stopped by `signal`.
pub fn exit_code(signal: i32) -> i32 {
    if signal == 2 {
        Error::Run(String::new()).exit_code()
    } else {
        128 + signal
    }
}

/// Called for each signal: the first sets the stop flag, the second quits.
fn on_signal(signal: i32, name: &str) {
    if SIGNAL
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        crate::report::remove_live_temps();
        std::process::exit(128 + signal);
    }
    STOP.store(true, Ordering::SeqCst);
    print_err(&format!(
        "\nlbsim: {name}: stopping after the cells in progress (a second signal quits now)\n"
    ));
}

/// Installs the handlers: SIGINT, SIGTERM and SIGHUP are registered before
/// this returns (a signal a moment later is handled), then awaited on a
/// thread of their own. Fails silently only where signals cannot be
/// registered; the sweep then stops as the signal's default says.
#[cfg(unix)]
pub(crate) fn stop_on_signals() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        return;
    };
    let registered = {
        let _guard = rt.enter();
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        )
    };
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = registered else {
        return;
    };
    std::thread::spawn(move || {
        rt.block_on(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => on_signal(2, "interrupted (SIGINT)"),
                    _ = term.recv() => on_signal(15, "SIGTERM"),
                    _ = hup.recv() => on_signal(1, "SIGHUP"),
                }
            }
        })
    });
}

/// Elsewhere Ctrl-C is the only signal.
#[cfg(not(unix))]
pub(crate) fn stop_on_signals() {
    let _ = ctrlc::set_handler(|| on_signal(2, "interrupted"));
}
