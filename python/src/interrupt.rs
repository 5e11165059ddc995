//! Long work without the GIL, stoppable by Ctrl-C: the work runs on a
//! scoped thread while the calling thread, detached from the interpreter,
//! wakes every 50 ms to let Python run its signal handlers. A
//! `KeyboardInterrupt` (or any exception a handler raises) sets the stop
//! flag the work checks, waits for it to stop, and is raised.

use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often the caller looks for a pending signal.
const POLL: Duration = Duration::from_millis(50);

/// Runs `work(stop)` off the GIL; `Err` is the signal handler's exception.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&AtomicBool) -> T + Send,
) -> PyResult<T> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        let stop_ref = &stop;
        scope.spawn(move || {
            // A panic is caught here, so the scope never re-raises it.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(stop_ref)));
            let _ = tx.send(out);
        });
        let mut rx = rx;
        loop {
            // The receiver is `Send`, not `Sync`: moved in and back out.
            let (back, got) = py.detach(move || {
                let got = rx.recv_timeout(POLL);
                (rx, got)
            });
            rx = back;
            match got {
                Ok(Ok(out)) => return Ok(out),
                Ok(Err(_)) => {
                    return Err(pyo3::exceptions::PyRuntimeError::new_err(
                        "lbsim internal error (please report): the run panicked",
                    ))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(pyo3::exceptions::PyRuntimeError::new_err(
                        "lbsim internal error: the run's thread ended without a result",
                    ))
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(e) = py.check_signals() {
                        stop.store(true, Ordering::SeqCst);
                        // Wait for the work to notice, without the GIL.
                        let _ = py.detach(move || rx.recv());
                        return Err(e);
                    }
                }
            }
        }
    })
}
