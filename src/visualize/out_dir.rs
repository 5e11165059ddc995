//! The directory `visualize` writes into (`--output-dir`): checked before
//! anything is written, as the run commands check `--output` (a bad path
//! is bad input, exit 2, naming the flag); created at its last level only,
//! so a typo never builds a tree of directories; and removed again, with
//! whatever was written into it, when the command fails after creating it.

use crate::error::{Error, Result};
use crate::report::write_atomically;
use std::path::{Path, PathBuf};

/// Extensions that say a path names a file, not a directory to fill.
const FILE_EXTENSIONS: [&str; 6] = ["json", "csv", "html", "svg", "jsonl", "txt"];

/// A checked output directory and the files written into it so far.
pub(super) struct OutputDir {
    path: PathBuf,
    /// This command made the directory: a failure removes it.
    created: bool,
    written: Vec<PathBuf>,
    done: bool,
}

impl OutputDir {
    /// Checks `path` (given as `flag`) and creates it if it is missing and
    /// its parent exists.
    pub(super) fn prepare(flag: &'static str, path: &Path) -> Result<OutputDir> {
        let created = !check(flag, path)?;
        if created {
            std::fs::create_dir(path).map_err(|e| {
                Error::invalid(flag, format!("cannot create {}: {e}", path.display()))
            })?;
        }
        Ok(OutputDir {
            path: path.to_path_buf(),
            created,
            written: Vec::new(),
            done: false,
        })
    }

    /// Writes `name` into the directory (whole, or not at all); a failure
    /// here (a full disk) is a failed run, exit 1.
    pub(super) fn write(&mut self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let file = self.path.join(name);
        write_atomically(&file, bytes)?;
        self.written.push(file.clone());
        Ok(file)
    }

    /// Keeps what was written.
    pub(super) fn finish(mut self) {
        self.done = true;
    }
}

impl Drop for OutputDir {
    /// A command that failed leaves no directory it created.
    fn drop(&mut self) {
        if self.done || !self.created {
            return;
        }
        for file in &self.written {
            let _ = std::fs::remove_file(file);
        }
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Checks `path` (given as `flag`) without creating anything: an existing
/// directory must be writable, a new one must be makeable. Returns whether
/// the directory exists.
pub(super) fn check(flag: &'static str, path: &Path) -> Result<bool> {
    let bad = |message: String| Error::invalid(flag, message);
    let shown = path.display();
    if path.as_os_str().is_empty() {
        return Err(bad("names no directory".into()));
    }
    if path.is_dir() {
        probe(path).map_err(|e| bad(format!("cannot write in {shown}: {e}")))?;
        Ok(true)
    } else if path.exists() || path.is_symlink() {
        Err(bad(format!("{shown} exists and is not a directory")))
    } else {
        check_new(path).map_err(bad)?;
        Ok(false)
    }
}

/// A directory to be made must sit in an existing one and not look like a
/// file's name.
fn check_new(path: &Path) -> std::result::Result<(), String> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "{} looks like a file name; give the directory to write the charts and index.html into",
            path.display()
        ));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(format!(
            "directory {} does not exist (only the last level of {} is created)",
            parent.display(),
            path.display()
        ));
    }
    Ok(())
}

/// Whether a file can be made in `dir` (permissions say too little:
/// read-only mounts, ACLs, root).
fn probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".lbsim-check-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => std::fs::remove_file(&probe),
        // A probe left by a killed process: someone could write here.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lbsim-outdir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn refused(path: &Path) -> String {
        let err = OutputDir::prepare("--output-dir", path).err().unwrap();
        assert_eq!(err.exit_code(), 2);
        err.to_string()
    }

    #[test]
    fn only_the_last_level_is_made_and_a_failure_removes_it() {
        let dir = temp_dir("levels");
        let deep = dir.join("a").join("b");
        assert!(refused(&deep).starts_with("invalid --output-dir: directory "));
        assert!(refused(&dir.join("x.json")).contains("looks like a file name"));
        std::fs::write(dir.join("f"), b"").unwrap();
        assert!(refused(&dir.join("f")).contains("is not a directory"));
        assert!(refused(&dir.join("f").join("sub")).contains("does not exist"));
        let mut out = OutputDir::prepare("--output-dir", &dir.join("a")).unwrap();
        out.write("one.svg", b"<svg/>").unwrap();
        drop(out);
        assert!(
            !dir.join("a").exists(),
            "a failed command removes its directory"
        );
        let mut out = OutputDir::prepare("--output-dir", &dir.join("a")).unwrap();
        out.write("one.svg", b"<svg/>").unwrap();
        out.finish();
        assert!(dir.join("a").join("one.svg").is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
