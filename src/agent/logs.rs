//! Each run's output: stdout and stderr into one local file per run, whose
//! last 64 KiB go to the coordinator with the result.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The most of a log the coordinator keeps.
pub(crate) const TAIL_BYTES: usize = 64 * 1024;

/// Where logs go unless `--log-dir` says: a folder of this process's own
/// under the temp dir (`$TMPDIR/lbsim-worker-PID`).
pub(crate) fn default_dir() -> PathBuf {
    std::env::temp_dir().join(format!("lbsim-worker-{}", std::process::id()))
}

/// A run's log file: test, attempt, and the lease's first secret digits
/// (two servers may hand out the same test id).
pub(crate) fn path(dir: &Path, test: u64, attempt: u32, lease: &str) -> PathBuf {
    let secret = lease.rsplit('.').next().unwrap_or("");
    let short: String = secret
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    dir.join(format!("test-{test}-attempt-{attempt}-{short}.log"))
}

/// Appends one line of the agent's own (`lbsim worker: ...`) to a log.
pub(crate) fn note(path: &Path, line: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        let _ = writeln!(f, "lbsim worker: {line}");
    }
}

/// The last `TAIL_BYTES` of a log, as text (invalid UTF-8 replaced; cut
/// at a character so it stays within the limit).
pub(crate) fn tail(path: &Path) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let from = len.saturating_sub(TAIL_BYTES as u64);
    let mut bytes = Vec::new();
    if f.seek(SeekFrom::Start(from)).is_err()
        || f.take(TAIL_BYTES as u64).read_to_end(&mut bytes).is_err()
    {
        return String::new();
    }
    within(String::from_utf8_lossy(&bytes).into_owned(), TAIL_BYTES)
}

/// `text`'s end, at most `max` bytes, cut at a character boundary.
pub(crate) fn within(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut at = text.len() - max;
    while !text.is_char_boundary(at) {
        at += 1;
    }
    text[at..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_keeps_the_end_within_the_limit() {
        let s = "é".repeat(10);
        let t = within(s.clone(), 5);
        assert_eq!(t, "éé");
        assert_eq!(within("abc".into(), 5), "abc");
        let dir = std::env::temp_dir().join(format!("lbsim-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = path(&dir, 3, 2, "L3.2.abcdef0123456789");
        assert!(p.ends_with("test-3-attempt-2-abcdef01.log"));
        std::fs::write(&p, vec![b'x'; TAIL_BYTES + 10]).unwrap();
        note(&p, "timed out");
        let t = tail(&p);
        assert_eq!(t.len(), TAIL_BYTES);
        assert!(t.ends_with("lbsim worker: timed out\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
