//! One owner per store: `lbsim serve` holds an exclusive `flock` on
//! `<store>.lock`, a file holding its pid, for as long as it runs, so a
//! second server on the same `--db-path` stops at once and names the first.
//! The kernel drops the lock when the holder dies (even by `kill -9`), so a
//! stale file left by a crash is simply taken over.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file of `db`: its name with `.lock` added.
pub(super) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The held lock; dropping it removes the file and releases the lock.
pub(super) struct StoreLock {
    path: PathBuf,
    file: Option<File>,
}

/// How often to retry when the lock file was replaced under us (another
/// server removed it as it stopped) before giving up.
const ATTEMPTS: usize = 5;

impl StoreLock {
    /// Takes the lock on `db`, or says which process holds it (exit 1).
    pub(super) fn acquire(db: &Path) -> Result<StoreLock> {
        let path = lock_path(db);
        for _ in 0..ATTEMPTS {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            if !try_lock(&file).map_err(|e| Error::io(&path, e))? {
                return Err(held_by(db, &path, &mut file));
            }
            // A holder that stopped between our open and our lock removed
            // the file: the lock we hold is on a name nobody sees. Retry.
            if !same_file(&file, &path) {
                continue;
            }
            write_pid(&mut file).map_err(|e| Error::io(&path, e))?;
            return Ok(StoreLock {
                path,
                file: Some(file),
            });
        }
        Err(Error::Run(format!(
            "{}: the lock file kept changing under this server; try again",
            path.display()
        )))
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // Removed while still locked, so a server starting now either
        // sees the lock or makes a fresh file (checked by `same_file`).
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

/// The one-line refusal, naming the holder's pid.
fn held_by(db: &Path, path: &Path, file: &mut File) -> Error {
    let mut text = String::new();
    let _ = file.take(32).read_to_string(&mut text);
    let pid = match text.trim().parse::<u32>() {
        Ok(pid) => format!("pid {pid}"),
        Err(_) => "pid not yet written".to_string(),
    };
    Error::Run(format!(
        "{}: the store is in use by another lbsim serve ({pid}, lock {}); stop it or choose another --db-path",
        db.display(),
        path.display()
    ))
}

fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())?;
    file.flush()
}

/// Whether `file` is still the file named `path`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// An exclusive, non-blocking lock: `Ok(false)` when another holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Off Unix the pid file is written but not locked (lbsim serves from Unix).
#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> crate::test_dir::TempDb {
        crate::test_dir::TempDb::new("lock", name)
    }

    #[test]
    fn a_second_lock_names_the_holder_and_the_file_goes_with_the_holder() {
        let db = temp_db("second");
        let held = StoreLock::acquire(&db).expect("the first lock");
        let text = std::fs::read_to_string(lock_path(&db)).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        // flock locks belong to the open file, so a second open in this
        // process conflicts just as another process would.
        let err = StoreLock::acquire(&db)
            .err()
            .expect("the second is refused");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())) && msg.contains("--db-path"),
            "{msg}"
        );
        assert_eq!(err.exit_code(), 1);
        drop(held);
        assert!(!lock_path(&db).exists());
        let again = StoreLock::acquire(&db).expect("free again");
        drop(again);
    }

    #[test]
    fn a_stale_lock_file_is_taken_over() {
        let db = temp_db("stale");
        std::fs::write(lock_path(&db), "999999999\n").unwrap();
        let held = StoreLock::acquire(&db).expect("nobody holds it");
        let text = std::fs::read_to_string(lock_path(&db)).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        drop(held);
    }
}
