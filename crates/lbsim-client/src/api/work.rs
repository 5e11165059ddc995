//! The fields that let a test carry real work (`name`, `command`, `env`,
//! `timeout_s`, `max_retries`, `labels`) and a run's outcome: their limits
//! and checks, kept apart from the reference's fields in `api.rs`. Every
//! limit bounds what one request can make the server store and send on.

use super::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The longest test name, bytes.
pub const MAX_NAME_BYTES: usize = 512;
/// The most argv items of a command.
pub const MAX_ARGV_ITEMS: usize = 4096;
/// The longest argv item, bytes.
pub const MAX_ARGV_ITEM_BYTES: usize = 64 * 1024;
/// The most bytes of all argv items together.
pub const MAX_ARGV_BYTES: usize = 256 * 1024;
/// The most environment variables.
pub const MAX_ENV_ENTRIES: usize = 256;
/// The most bytes of all names and values of the environment together.
pub const MAX_ENV_BYTES: usize = 64 * 1024;
/// The longest time limit: one week, seconds.
pub const MAX_TIMEOUT_S: f64 = 604_800.0;
/// The most retries of a failed run.
pub const MAX_RETRIES: u32 = 10;
/// The most labels of a test or a worker.
pub const MAX_LABELS: usize = 32;
/// The longest label, bytes.
pub const MAX_LABEL_BYTES: usize = 64;
/// The longest log tail a completion may carry, bytes.
pub const MAX_LOG_TAIL_BYTES: usize = 64 * 1024;
/// The run time a test without `expected_duration_s` and without measured
/// runs of its name is expected to take (the reference's default).
pub const DEFAULT_EXPECTED_DURATION_S: f64 = 60.0;

/// How a run ended, as its worker reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Exit code 0.
    Passed,
    /// Any other exit code, or the command could not start.
    Failed,
    /// Ran past `timeout_s` and was terminated.
    TimedOut,
    /// Terminated because the test was cancelled.
    Cancelled,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Passed => "passed",
            RunOutcome::Failed => "failed",
            RunOutcome::TimedOut => "timed_out",
            RunOutcome::Cancelled => "cancelled",
        }
    }
}

fn err(field: String, message: &str) -> FieldError {
    (field, message.to_string())
}

/// `name`: at most 512 bytes, no NUL.
pub fn check_name(at: &str, name: &Option<String>) -> Result<(), FieldError> {
    let Some(n) = name else { return Ok(()) };
    if n.len() > MAX_NAME_BYTES {
        return Err(err(format!("{at}name"), "must be at most 512 bytes"));
    }
    if n.contains('\0') {
        return Err(err(format!("{at}name"), "must not contain NUL"));
    }
    Ok(())
}

/// `command`: 1 to 4096 argv items, each at most 64 KiB without NUL, at
/// most 256 KiB in all.
pub fn check_command(at: &str, command: &Option<Vec<String>>) -> Result<(), FieldError> {
    let Some(argv) = command else { return Ok(()) };
    if argv.is_empty() || argv.len() > MAX_ARGV_ITEMS {
        return Err(err(format!("{at}command"), "must have 1 to 4096 items"));
    }
    let mut total = 0usize;
    for (i, item) in argv.iter().enumerate() {
        if item.len() > MAX_ARGV_ITEM_BYTES {
            return Err(err(format!("{at}command[{i}]"), "must be at most 64 KiB"));
        }
        if item.contains('\0') {
            return Err(err(format!("{at}command[{i}]"), "must not contain NUL"));
        }
        total += item.len();
        if total > MAX_ARGV_BYTES {
            return Err(err(
                format!("{at}command"),
                "must be at most 256 KiB in all",
            ));
        }
    }
    Ok(())
}

/// A variable name a shell would accept: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `env`: at most 256 variables with plain names, no NUL, 64 KiB in all.
pub fn check_env(at: &str, env: &Option<BTreeMap<String, String>>) -> Result<(), FieldError> {
    let Some(env) = env else { return Ok(()) };
    if env.len() > MAX_ENV_ENTRIES {
        return Err(err(format!("{at}env"), "must have at most 256 variables"));
    }
    let mut total = 0usize;
    for (name, value) in env {
        // A name that cannot be shown safely is named by its position.
        let field = if name.len() <= MAX_LABEL_BYTES && is_env_name(name) {
            format!("{at}env.{name}")
        } else {
            format!("{at}env")
        };
        if !is_env_name(name) {
            return Err(err(field, "names must match [A-Za-z_][A-Za-z0-9_]*"));
        }
        if value.contains('\0') {
            return Err(err(field, "must not contain NUL"));
        }
        total += name.len() + value.len();
        if total > MAX_ENV_BYTES {
            return Err(err(field, "env must be at most 64 KiB in all"));
        }
    }
    Ok(())
}

/// `timeout_s`: seconds in (0, 604800].
pub fn check_timeout(at: &str, timeout_s: Option<f64>) -> Result<(), FieldError> {
    match timeout_s {
        Some(t) if !(t.is_finite() && t > 0.0 && t <= MAX_TIMEOUT_S) => Err(err(
            format!("{at}timeout_s"),
            "must be seconds in (0, 604800]",
        )),
        _ => Ok(()),
    }
}

/// `max_retries`: 0 to 10.
pub fn check_retries(at: &str, max_retries: u32) -> Result<(), FieldError> {
    if max_retries > MAX_RETRIES {
        return Err(err(format!("{at}max_retries"), "must be 0 to 10"));
    }
    Ok(())
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_.:/=-".contains(&b)
}

/// `labels`: at most 32, each 1 to 64 bytes of `[A-Za-z0-9_.:/=-]`.
pub fn check_labels(at: &str, labels: &[String]) -> Result<(), FieldError> {
    if labels.len() > MAX_LABELS {
        return Err(err(format!("{at}labels"), "must have at most 32 labels"));
    }
    for (i, l) in labels.iter().enumerate() {
        if l.is_empty() || l.len() > MAX_LABEL_BYTES || !l.bytes().all(is_label_byte) {
            return Err(err(
                format!("{at}labels[{i}]"),
                "must be 1 to 64 bytes of [A-Za-z0-9_.:/=-]",
            ));
        }
    }
    Ok(())
}

/// `log_tail`: at most 64 KiB.
pub fn check_log_tail(log_tail: &Option<String>) -> Result<(), FieldError> {
    if log_tail
        .as_ref()
        .is_some_and(|l| l.len() > MAX_LOG_TAIL_BYTES)
    {
        return Err(err("log_tail".into(), "must be at most 64 KiB"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_bounded_item_by_item_and_in_all() {
        assert!(check_command("", &None).is_ok());
        assert_eq!(check_command("", &Some(vec![])).unwrap_err().0, "command");
        let many = Some(vec!["x".to_string(); 10_000]);
        assert_eq!(check_command("", &many).unwrap_err().0, "command");
        let nul = Some(vec!["a".into(), "b".into(), "c".into(), "d\0".into()]);
        assert_eq!(check_command("t.", &nul).unwrap_err().0, "t.command[3]");
        let big = Some(vec!["y".repeat(60 * 1024); 5]);
        assert_eq!(check_command("", &big).unwrap_err().0, "command");
        let ok = Some(vec!["sh".into(), "-c".into(), "exit 3".into()]);
        assert!(check_command("", &ok).is_ok());
    }

    #[test]
    fn env_names_values_and_size_are_checked() {
        let env = |pairs: &[(&str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        assert!(check_env("", &env(&[("FOO", "1"), ("_x9", "")])).is_ok());
        assert_eq!(check_env("", &env(&[("9A", "1")])).unwrap_err().0, "env");
        assert_eq!(
            check_env("", &env(&[("FOO", "a\0")])).unwrap_err().0,
            "env.FOO"
        );
        let huge = "z".repeat(2 << 20);
        assert_eq!(
            check_env("", &env(&[("BIG", &huge)])).unwrap_err().0,
            "env.BIG"
        );
    }

    #[test]
    fn labels_timeouts_and_retries_have_limits() {
        assert!(check_labels("", &["gpu:a100".into(), "os=linux".into()]).is_ok());
        assert_eq!(
            check_labels("", &["a\0".into()]).unwrap_err().0,
            "labels[0]"
        );
        assert_eq!(check_labels("", &["".into()]).unwrap_err().0, "labels[0]");
        assert_eq!(
            check_labels("", &vec!["a".into(); 33]).unwrap_err().0,
            "labels"
        );
        assert!(check_timeout("", Some(604_800.0)).is_ok());
        for t in [0.0, -1.0, f64::NAN, 604_801.0] {
            assert_eq!(check_timeout("", Some(t)).unwrap_err().0, "timeout_s");
        }
        assert!(check_retries("", 10).is_ok());
        assert_eq!(check_retries("", 11).unwrap_err().0, "max_retries");
        assert_eq!(
            check_name("", &Some("n".repeat(513))).unwrap_err().0,
            "name"
        );
    }
}
