//! The `--record` file as part of the store's commit. Facts are appended
//! and synced before the transaction that holds their ops commits; the
//! transaction stores the file's new length. So after any crash the file
//! holds at least what the store holds: a longer file is cut back to the
//! stored length at start-up (its tail was never committed), and a shorter
//! one (truncated or replaced by hand) is named.

use super::store::Store;
use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The open recording and the length its last commit left.
pub(super) struct Recording {
    file: File,
    path: PathBuf,
    /// Bytes the store knows of.
    committed: u64,
    /// Bytes written by the commit in progress.
    written: u64,
}

impl Recording {
    /// Appends the lines and syncs them; returns the file's new length.
    pub(super) fn append<'a>(
        &mut self,
        lines: impl Iterator<Item = &'a String>,
    ) -> std::io::Result<u64> {
        let mut text = String::new();
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        if text.is_empty() {
            self.written = self.committed;
            return Ok(self.committed);
        }
        let result = self
            .file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data());
        if let Err(e) = result {
            self.undo();
            return Err(e);
        }
        self.written = self.committed + text.len() as u64;
        Ok(self.written)
    }

    /// The commit failed: cut off what it wrote.
    pub(super) fn undo(&mut self) {
        if let Err(e) = self.file.set_len(self.committed) {
            tracing::error!(
                "--record {}: cannot cut back an unsaved commit: {e}",
                self.path.display()
            );
        }
        self.written = self.committed;
    }

    /// The commit succeeded.
    pub(super) fn keep(&mut self) {
        self.committed = self.written;
    }
}

/// Opens the recording for appending and squares it with the store: the
/// tail a crash left past the last commit is cut off; a file shorter than
/// the store knows is named on stderr (its facts are gone). Returns the
/// recording and what was done, for the start-up line.
pub(super) fn open(store: &mut Store, path: &Path) -> Result<(Recording, Option<String>)> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let key = std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string();
    let known = store
        .recording_meta()
        .map_err(|e| Error::Run(format!("{}: {e}", path.display())))?;
    let mut note = None;
    let committed = match known {
        Some((p, stored)) if p == key && len > stored => {
            file.set_len(stored).map_err(|e| Error::io(path, e))?;
            note = Some(format!(
                "--record {}: cut {} bytes a crash left past the store's last commit",
                path.display(),
                len - stored
            ));
            stored
        }
        Some((p, stored)) if p == key && len < stored => {
            note = Some(format!(
                "--record {}: {} bytes shorter than the store's last commit recorded (truncated by hand?); the facts in between are missing",
                path.display(),
                stored - len
            ));
            len
        }
        _ => len,
    };
    file.flush().map_err(|e| Error::io(path, e))?;
    store
        .set_recording_meta(&key, committed)
        .map_err(|e| Error::Run(format!("{}: {e}", path.display())))?;
    let rec = Recording {
        file,
        path: path.to_path_buf(),
        committed,
        written: committed,
    };
    Ok((rec, note))
}

#[cfg(test)]
mod tests {
    use super::open;
    use crate::store::Store;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("lbsim-rec-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_tail_past_the_last_commit_is_cut_and_a_short_file_is_named() {
        let d = dir("cut");
        let (db, rec) = (d.join("s.db"), d.join("r.jsonl"));
        let mut store = Store::open(&db, 0).unwrap();
        let (mut r, note) = open(&mut store, &rec).unwrap();
        assert_eq!(note, None, "a new recording");
        let lines = ["{\"a\":1}".to_string(), "{\"b\":2}".to_string()];
        let len = r.append(lines[..1].iter()).unwrap();
        store.apply(std::iter::empty(), Some(len)).unwrap();
        r.keep();
        // A crash after the facts were written, before their commit.
        r.append(lines[1..].iter()).unwrap();
        drop(r);
        let (_, note) = open(&mut store, &rec).unwrap();
        assert!(note.unwrap().contains("cut 8 bytes"));
        assert_eq!(std::fs::read_to_string(&rec).unwrap(), "{\"a\":1}\n");
        // Truncated by hand: named, not repaired.
        std::fs::write(&rec, "").unwrap();
        let (_, note) = open(&mut store, &rec).unwrap();
        assert!(note.unwrap().contains("8 bytes shorter"));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_failed_commit_takes_its_facts_back_out() {
        let d = dir("undo");
        let (db, rec) = (d.join("s.db"), d.join("r.jsonl"));
        let mut store = Store::open(&db, 0).unwrap();
        let (mut r, _) = open(&mut store, &rec).unwrap();
        r.append(["{\"x\":1}".to_string()].iter()).unwrap();
        r.undo();
        assert_eq!(std::fs::read_to_string(&rec).unwrap(), "");
        let _ = std::fs::remove_dir_all(&d);
    }
}
