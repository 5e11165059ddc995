//! A file opened for appending whole lines (rows), synced to disk at least
//! once a second: a killed process leaves whole lines behind.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Rows reach the disk at least this often.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// The results file, opened for appending whole lines.
pub(super) struct Appender {
    file: File,
    path: PathBuf,
    synced: Instant,
}

impl Appender {
    pub(super) fn open(path: &Path) -> Result<Appender> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        // Wall time only paces fsync calls; it never reaches an output.
        #[allow(clippy::disallowed_methods)]
        let synced = Instant::now();
        Ok(Appender {
            file,
            path: path.to_path_buf(),
            synced,
        })
    }

    /// One `write` per row: a killed process leaves whole rows, and the
    /// kernel has them; a power cut may tear the last one, which resume
    /// cuts off.
    pub(super) fn append(&mut self, row: &str) -> Result<()> {
        self.file
            .write_all(row.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        if self.synced.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    // Wall time only paces fsync calls; it never reaches an output.
    #[allow(clippy::disallowed_methods)]
    pub(super) fn sync(&mut self) -> Result<()> {
        self.synced = Instant::now();
        self.file.sync_data().map_err(|e| Error::io(&self.path, e))
    }
}
