//! Each run's output: stdout and stderr into one local file per run, whose
//! last 64 KiB go to the coordinator with the result; the files of the
//! last runs are kept.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// The logs an agent keeps: those of its last `keep` finished runs (0:
/// all). Once that many are there, a new run's log takes over the oldest
/// one's file (renamed, emptied) rather than deleting one and creating
/// another: the folder stays bounded, and no inode is freed or allocated
/// per run. (On an ext4 without a journal, allocating one after many
/// deletes scans past the recently deleted ones: a third of the agent's
/// CPU in the 20,000-run bench.)
pub(crate) struct Kept {
    keep: usize,
    files: Mutex<Files>,
}

/// The log files an agent made: the folder holds `done` and `live` ones,
/// never more than `keep` unless more runs than that go on at once.
#[derive(Default)]
struct Files {
    /// Finished runs' logs, oldest first: the ones that may be taken over.
    done: VecDeque<PathBuf>,
    /// Logs of runs still going on.
    live: usize,
}

impl Kept {
    pub(crate) fn new(keep: usize) -> Kept {
        Kept {
            keep,
            files: Mutex::new(Files::default()),
        }
    }

    fn files(&self) -> std::sync::MutexGuard<'_, Files> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new run's log at `path`, empty: the oldest finished one's file,
    /// moved there, once the folder holds `keep` (a file gone meanwhile is
    /// created anew). Each is followed by `finished` with the same path.
    pub(crate) fn create(&self, path: &Path) -> std::io::Result<File> {
        let oldest = {
            let mut f = self.files();
            f.live += 1;
            let full = self.keep > 0 && f.done.len() + f.live > self.keep;
            full.then(|| f.done.pop_front()).flatten()
        };
        if let Some(old) = oldest {
            let _ = std::fs::rename(old, path);
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    /// A run's log is finished (its tail was read): it is kept, and may be
    /// taken over later (only a finished log ever is).
    pub(crate) fn finished(&self, path: PathBuf) {
        let mut f = self.files();
        f.live = f.live.saturating_sub(1);
        // A log that could not be made is no file to keep.
        if self.keep > 0 && path.exists() {
            f.done.push_back(path);
        }
    }
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

    /// A folder of this test's own under the temp dir, removed when
    /// dropped, so a failing test leaves nothing behind either.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("lbsim-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_tail_keeps_the_end_within_the_limit() {
        let s = "é".repeat(10);
        let t = within(s.clone(), 5);
        assert_eq!(t, "éé");
        assert_eq!(within("abc".into(), 5), "abc");
        let scratch = Scratch::new("logs");
        let dir = &scratch.0;
        let p = path(dir, 3, 2, "L3.2.abcdef0123456789");
        assert!(p.ends_with("test-3-attempt-2-abcdef01.log"));
        std::fs::write(&p, vec![b'x'; TAIL_BYTES + 10]).unwrap();
        note(&p, "timed out");
        let t = tail(&p);
        assert_eq!(t.len(), TAIL_BYTES);
        assert!(t.ends_with("lbsim worker: timed out\n"));
    }

    #[test]
    fn the_last_logs_are_kept_and_a_new_one_takes_over_the_oldest_file() {
        use std::os::unix::fs::MetadataExt;
        let scratch = Scratch::new("kept");
        let dir = &scratch.0;
        let kept = Kept::new(2);
        let mut inodes = Vec::new();
        for i in 0..5 {
            let p = dir.join(format!("run-{i}.log"));
            let mut f = kept.create(&p).unwrap();
            assert_eq!(
                f.metadata().unwrap().len(),
                0,
                "run {i}: a new log is empty"
            );
            writeln!(f, "run {i}").unwrap();
            inodes.push(f.metadata().unwrap().ino());
            kept.finished(p);
        }
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["run-3.log", "run-4.log"], "the last two");
        assert_eq!(
            std::fs::read_to_string(dir.join("run-4.log")).unwrap(),
            "run 4\n"
        );
        assert_eq!(inodes[2], inodes[0], "run 2 took over run 0's file");
        assert_eq!(inodes[3], inodes[1]);
        // A kept file someone removed: the next log is created anew.
        std::fs::remove_file(dir.join("run-3.log")).unwrap();
        kept.create(&dir.join("run-5.log")).unwrap();
        assert!(dir.join("run-5.log").exists());
    }

    #[test]
    fn keep_zero_keeps_every_log() {
        let scratch = Scratch::new("kept0");
        let dir = &scratch.0;
        let kept = Kept::new(0);
        for i in 0..4 {
            let p = dir.join(format!("run-{i}.log"));
            kept.create(&p).unwrap();
            kept.finished(p);
        }
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 4);
    }
}
