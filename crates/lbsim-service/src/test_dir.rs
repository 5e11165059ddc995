//! A store file in a directory of its own for one unit test, removed with
//! everything in it when the test is over (passed or failed), so the
//! suite leaves nothing behind in the temporary directory.

use std::ops::Deref;
use std::path::PathBuf;

/// `x.db` in `$TMPDIR/lbsim-{what}-{pid}-{name}`; derefs to its path.
pub(crate) struct TempDb(PathBuf);

impl TempDb {
    /// A fresh, empty directory (one left by an earlier run is emptied).
    pub(crate) fn new(what: &str, name: &str) -> TempDb {
        let dir = std::env::temp_dir().join(format!("lbsim-{what}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDb(dir.join("x.db"))
    }
}

impl Deref for TempDb {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl AsRef<std::path::Path> for TempDb {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}
