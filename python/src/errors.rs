//! lbsim's errors as Python exceptions: bad input is `ValueError` naming
//! the field (a flag `--foo-bar` becomes the keyword `foo_bar`), a failed
//! run `RuntimeError`, and a panic never crosses into Python.

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A command-line flag as the Python keyword that sets it.
pub(crate) fn keyword(flag: &str) -> String {
    flag.trim_start_matches("--").replace('-', "_")
}

/// `ValueError("field: message")`.
pub(crate) fn invalid(field: &str, message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{field}: {message}"))
}

/// The Python exception for an lbsim error.
pub(crate) fn to_py(e: lbsim::Error) -> PyErr {
    use lbsim::Error as E;
    match e {
        E::InvalidInput { flag, message } => invalid(&keyword(&flag), message),
        E::Io { ref source, .. } | E::Input { ref source, .. }
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            PyFileNotFoundError::new_err(e.to_string())
        }
        E::Io { .. } => PyOSError::new_err(e.to_string()),
        E::Run(_) => PyRuntimeError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// Runs `f`, turning a panic into `RuntimeError` (a bug, but never a crash
/// or a `PanicException` through the user's code).
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, PyErr>) -> Result<T, PyErr> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(PyRuntimeError::new_err(format!(
                "lbsim internal error (please report): {what}"
            )))
        }
    }
}
