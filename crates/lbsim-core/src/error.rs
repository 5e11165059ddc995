//! lbsim's error type: one enum, lowercase messages, and an exit code each.

use std::path::PathBuf;

/// Everything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or argument value is unusable (negative count, zero duration…).
    #[error("invalid {flag}: {message}")]
    InvalidInput {
        /// The flag or argument, as the user wrote it.
        flag: String,
        /// What is wrong with it.
        message: String,
    },
    /// A config, grid or trace file is unusable; `location` names the field
    /// path or the line.
    #[error("{file}: {location}: {message}")]
    BadFile {
        /// The file, as named by the user.
        file: String,
        /// The field path or line.
        location: String,
        /// What is wrong there.
        message: String,
    },
    /// A named thing (scenario, scheduler) does not exist.
    #[error("unknown {kind} '{name}' (known: {known})")]
    Unknown {
        /// What was looked up ("scenario", "scheduler").
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// The names that exist, so the user can pick one.
        known: String,
    },
    /// A safety limit (LB_MAX_WORKERS) would be exceeded.
    #[error("{0}")]
    Limit(String),
    /// An input file the user named cannot be read (missing, unreadable).
    #[error("cannot read {}: {source}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why the read or write failed.
        source: std::io::Error,
    },
    /// The run itself could not complete.
    #[error("{0}")]
    Run(String),
}

impl Error {
    /// 2 for bad input (the user can fix the command or file), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidInput { .. }
            | Error::BadFile { .. }
            | Error::Unknown { .. }
            | Error::Limit(_)
            | Error::Input { .. } => 2,
            Error::Io { .. } | Error::Run(_) => 1,
        }
    }

    /// A flag, or a field of a hand-built scenario named by its path, holds
    /// an unusable value.
    pub fn invalid(flag: impl Into<String>, message: impl Into<String>) -> Error {
        Error::InvalidInput {
            flag: flag.into(),
            message: message.into(),
        }
    }

    /// The same error found in `file`: a field error (`InvalidInput`) becomes
    /// a `BadFile` at the field's path; any other error is returned as is.
    /// Scenario checks name fields only; the config adds the file once.
    pub(crate) fn in_file(self, file: &str) -> Error {
        match self {
            Error::InvalidInput { flag, message } => Error::bad_file(file, flag, message),
            other => other,
        }
    }

    /// A file the user gave is unusable at `location` (a field path, or
    /// `line N`): the one constructor for such errors.
    pub fn bad_file(
        file: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        Error::BadFile {
            file: file.into(),
            location: location.into(),
            message: message.into(),
        }
    }

    /// `bad_file` at a line number (1-based).
    pub fn bad_line(
        file: impl Into<String>,
        line: impl std::fmt::Display,
        message: impl Into<String>,
    ) -> Error {
        Error::bad_file(file, format!("line {line}"), message)
    }

    /// A failed read or write of `path` (exit code 1).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// lbsim's result: [`Error`] unless said otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_found_in_a_file_names_the_file_and_keeps_its_exit_code() {
        let e = Error::invalid(
            "churn.join_probability",
            "2 must be a probability in [0, 1]",
        );
        assert_eq!(
            e.to_string(),
            "invalid churn.join_probability: 2 must be a probability in [0, 1]"
        );
        let e = e.in_file("c.json");
        assert_eq!(
            e.to_string(),
            "c.json: churn.join_probability: 2 must be a probability in [0, 1]"
        );
        assert_eq!(e.exit_code(), 2);
        let other = Error::Run("stopped".into()).in_file("c.json");
        assert_eq!(other.to_string(), "stopped");
    }
}
