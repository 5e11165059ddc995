//! Whole files or nothing: write to a temporary file beside the target, then
//! rename. A crash or an error never leaves a half-written output, and a run
//! stopped by SIGINT, SIGTERM or SIGHUP removes its temporary files.
//!
//! Only regular files are replaced that way. A symlink is followed, so the
//! file it names is replaced and the link stays; anything that exists and
//! is not a regular file or a directory (`/dev/null`, a FIFO, a terminal)
//! is written in place, since a rename would replace the device or the pipe
//! itself.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The temporary files being written now, for the signal handler.
static LIVE_TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Symlinks followed at most this deep (Linux's own limit).
const MAX_LINKS: usize = 40;

/// A file being written; it appears at its path only on `commit`.
pub(crate) struct AtomicFile {
    target: PathBuf,
    /// `None`: a device or pipe, written in place.
    temp: Option<PathBuf>,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `target` through a temporary file beside it (nothing appears at `target` until [`AtomicFile::commit`]).
    pub(crate) fn create(target: &Path) -> Result<AtomicFile> {
        let real = follow_links(target);
        if is_special(&real) {
            let file = File::options()
                .write(true)
                .open(&real)
                .map_err(|e| Error::io(target, e))?;
            return Ok(AtomicFile {
                target: real,
                temp: None,
                writer: Some(BufWriter::new(file)),
            });
        }
        let temp = temp_path(&real, std::process::id());
        remove_stale_temps(&real);
        register(&temp);
        let file = File::create(&temp).map_err(|e| {
            unregister(&temp);
            Error::io(target, e)
        })?;
        Ok(AtomicFile {
            target: real,
            temp: Some(temp),
            writer: Some(BufWriter::new(file)),
        })
    }

    /// Where to write the contents.
    pub(crate) fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer
            .as_mut()
            .expect("writer is present until commit")
    }

    /// Flushes, syncs and renames the file into place; on failure the
    /// temporary file is removed (by `drop`).
    pub(crate) fn commit(mut self) -> Result<()> {
        let writer = self.writer.take().expect("commit once");
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&self.target, e.into_error()))?;
        let Some(temp) = self.temp.clone() else {
            return Ok(());
        };
        file.sync_all().map_err(|e| Error::io(&self.target, e))?;
        std::fs::rename(&temp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        unregister(&temp);
        self.temp = None;
        Ok(())
    }

    /// The file this will become.
    pub(crate) fn path(&self) -> &Path {
        &self.target
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        self.writer = None;
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(&temp);
            unregister(&temp);
        }
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.writer()
        .write_all(bytes)
        .map_err(|e| Error::io(path, e))?;
    f.commit()
}

/// The path a symlink chain ends at (the path itself if it is no link, a
/// dangling link's target if the chain breaks).
pub(crate) fn follow_links(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        let Some(next) = is_link.then(|| std::fs::read_link(&path).ok()).flatten() else {
            break;
        };
        path = match path.parent() {
            Some(dir) if next.is_relative() => dir.join(next),
            _ => next,
        };
    }
    path
}

/// True when `path` exists and is neither a regular file nor a directory.
pub(crate) fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

fn temp_path(target: &Path, pid: u32) -> PathBuf {
    target.with_file_name(format!("{}{pid}", temp_prefix(target)))
}

fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// Removes this target's temporary files left by killed processes (a
/// SIGKILL leaves no chance to clean up): those whose process is gone.
fn remove_stale_temps(target: &Path) {
    let proc_dir = Path::new("/proc");
    if !proc_dir.join("self").exists() {
        return;
    }
    let prefix = temp_prefix(target);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(&prefix)
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !proc_dir.join(pid.to_string()).exists()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn live_temps() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE_TEMPS.lock().unwrap_or_else(|e| e.into_inner())
}

fn register(temp: &Path) {
    live_temps().push(temp.to_path_buf());
}

fn unregister(temp: &Path) {
    live_temps().retain(|p| p != temp);
}

/// Removes every temporary file being written now (a run interrupted).
pub fn remove_live_temps() {
    for temp in live_temps().drain(..) {
        let _ = std::fs::remove_file(temp);
    }
}

/// On SIGINT, SIGTERM or SIGHUP: remove the temporary files, say so, and
/// exit 130. For commands without a handler of their own (`sweep` and
/// `worker` stop gracefully instead; they call `remove_live_temps`).
pub fn clean_up_on_signals() {
    // `set_handler`, not `try_set_handler`: the latter refuses when a
    // signal is ignored, as SIGINT is for a job started with `&`.
    let _ = ctrlc::set_handler(|| {
        remove_live_temps();
        crate::console::print_err("lbsim: interrupted; no output file written\n");
        std::process::exit(130);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lbsim-atomic-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn nothing_appears_until_commit_and_an_abandoned_file_leaves_no_trace() {
        let dir = temp_dir("abandon");
        let target = dir.join("out.json");
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.writer().write_all(b"half").unwrap();
            assert!(!target.exists());
        }
        assert!(!target.exists());
        assert!(names(&dir).is_empty(), "temp file left behind");
        write_atomically(&target, b"whole").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        assert!(live_temps().iter().all(|p| !p.starts_with(&dir)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unwritable_path_is_an_io_error() {
        let err = write_atomically(Path::new("/nonexistent-dir/x.json"), b"x").unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(
            err.to_string().starts_with("/nonexistent-dir/x.json"),
            "{err}"
        );
    }

    /// Regression: `commit` took the writer before renaming, so a failed
    /// rename (the target a directory) left `.x.tmp-PID` behind.
    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = temp_dir("rename");
        let target = dir.join("taken");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"x").unwrap();
        let err = write_atomically(&target, b"whole").unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert_eq!(names(&dir), ["taken"]);
        assert!(live_temps().iter().all(|p| !p.starts_with(&dir)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Regression: a symlink was replaced by a regular file.
    #[test]
    fn a_symlink_is_followed_and_its_target_replaced() {
        let dir = temp_dir("link");
        std::fs::write(dir.join("real.json"), b"old").unwrap();
        std::os::unix::fs::symlink("real.json", dir.join("link.json")).unwrap();
        write_atomically(&dir.join("link.json"), b"new").unwrap();
        let meta = std::fs::symlink_metadata(dir.join("link.json")).unwrap();
        assert!(meta.file_type().is_symlink());
        assert_eq!(std::fs::read(dir.join("real.json")).unwrap(), b"new");
        assert_eq!(names(&dir), ["link.json", "real.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temps_of_dead_processes_are_swept_up_and_live_ones_kept() {
        let dir = temp_dir("stale");
        let target = dir.join("out.csv");
        // PIDs above the kernel's limit (4194304) never run.
        std::fs::write(temp_path(&target, 4_194_999), b"x").unwrap();
        std::fs::write(temp_path(&dir.join("other.csv"), 4_194_999), b"x").unwrap();
        let mine = temp_path(&target, std::process::id());
        std::fs::write(&mine, b"x").unwrap();
        remove_stale_temps(&target);
        let left = names(&dir);
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(mine.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
