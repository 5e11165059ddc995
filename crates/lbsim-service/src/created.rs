//! The files a start creates, removed again if the start fails, so a
//! failed `lbsim serve` (a bad `--host`, a port in use, an unwritable
//! `--record`, a store in use) leaves no fresh store or recording behind.

use std::path::{Path, PathBuf};

/// SQLite's companions of a database file, created beside it on demand.
const SQLITE_COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Files this start made; removed on drop unless `keep` was called.
#[derive(Default)]
pub(super) struct Created {
    paths: Vec<PathBuf>,
    kept: bool,
}

impl Created {
    /// Notes `path` as this start's if it does not exist yet.
    pub(super) fn note_if_new(&mut self, path: &Path) {
        if std::fs::symlink_metadata(path).is_err() {
            self.paths.push(path.to_path_buf());
        }
    }

    /// Notes a database file and its companions, each if not there yet.
    pub(super) fn note_store_if_new(&mut self, db: &Path) {
        if std::fs::symlink_metadata(db).is_ok() {
            return;
        }
        self.note_if_new(db);
        for suffix in SQLITE_COMPANIONS {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            self.note_if_new(Path::new(&name));
        }
    }

    /// The start succeeded: what it made stays.
    pub(super) fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        for path in self.paths.iter().rev() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_this_start_made_is_removed_and_only_on_failure() {
        let dir = std::env::temp_dir().join(format!("lbsim-created-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let old = dir.join("old.jsonl");
        std::fs::write(&old, "kept\n").unwrap();
        let new = dir.join("new.jsonl");
        let db = dir.join("x.db");
        let mut created = Created::default();
        created.note_if_new(&old);
        created.note_if_new(&new);
        created.note_store_if_new(&db);
        for path in [&new, &db, &dir.join("x.db-wal")] {
            std::fs::write(path, "made by this start").unwrap();
        }
        drop(created);
        assert!(old.exists());
        assert!(!new.exists() && !db.exists() && !dir.join("x.db-wal").exists());

        let mut created = Created::default();
        created.note_if_new(&new);
        std::fs::write(&new, "x").unwrap();
        created.keep();
        assert!(new.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
