//! Where a run's results go, checked before the run starts: a typo in a
//! path costs nothing, not a long run.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The files a run writes (each whole, or not at all) and whether it
/// reports its speed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outputs {
    /// The results JSON (`--output`).
    pub results: Option<PathBuf>,
    /// One CSV row per test (`--csv`).
    pub tests_csv: Option<PathBuf>,
    /// One CSV row per assignment (`--decisions`).
    pub decisions: Option<PathBuf>,
    /// Report events, wall time and peak memory (`--stats`).
    pub stats: bool,
}

impl Outputs {
    /// Each path must name a file (not a directory) in an existing,
    /// writable directory, and no two may name the same file.
    pub fn check(&self) -> Result<()> {
        self.check_with(&[])
    }

    /// `check`, with more files a command writes beside the run's own
    /// (by flag), under the same rules.
    pub fn check_with(&self, extra: &[(&'static str, &Path)]) -> Result<()> {
        let mut seen: Vec<(&str, PathBuf)> = Vec::new();
        for (flag, path) in self.paths().chain(extra.iter().copied()) {
            let file = check_path(flag, path)?;
            if let Some((other, _)) = seen.iter().find(|(_, p)| *p == file) {
                return Err(Error::invalid(
                    flag,
                    format!("{} is also the {other} file", path.display()),
                ));
            }
            seen.push((flag, file));
        }
        Ok(())
    }

    /// The paths given, by flag.
    fn paths(&self) -> impl Iterator<Item = (&'static str, &Path)> {
        [
            ("--output", &self.results),
            ("--csv", &self.tests_csv),
            ("--decisions", &self.decisions),
        ]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| (flag, p)))
    }
}

/// Checks one output path and returns it with its directory resolved, so
/// two spellings of one file compare equal.
fn check_path(flag: &str, given: &Path) -> Result<PathBuf> {
    let bad = |message: String| Error::invalid(flag, message);
    // A symlink is written through (see `report::AtomicFile`): check the
    // file it names, so a link and its target count as one file.
    let real = crate::report::follow_links(given);
    let path = real.as_path();
    if path.is_dir() {
        return Err(bad(format!("{} is a directory", path.display())));
    }
    let Some(name) = path.file_name() else {
        return Err(bad(format!("{} names no file", path.display())));
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let resolved = dir
        .canonicalize()
        .ok()
        .filter(|d| d.is_dir())
        .ok_or_else(|| bad(format!("directory {} does not exist", dir.display())))?;
    // A device or pipe is written in place, not beside: nothing to probe.
    if crate::report::is_special(path) {
        return Ok(resolved.join(name));
    }
    // Permissions say too little (ACLs, read-only mounts, root): try.
    let probe = resolved.join(format!(
        ".{}.lbsim-check-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        // A probe left by a killed process: someone could write here.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(bad(format!("cannot write in {}: {e}", dir.display()))),
    }
    Ok(resolved.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lbsim-outputs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn good_paths_pass_and_leave_nothing_behind() {
        let dir = temp_dir("good");
        let outputs = Outputs {
            results: Some(dir.join("r.json")),
            tests_csv: Some(dir.join("t.csv")),
            decisions: None,
            stats: true,
        };
        outputs.check().unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directories_directories_and_shared_paths_are_refused() {
        let dir = temp_dir("bad");
        let check = |results: PathBuf, csv: Option<PathBuf>| {
            let outputs = Outputs {
                results: Some(results),
                tests_csv: csv,
                ..Default::default()
            };
            let err = outputs.check().unwrap_err();
            assert_eq!(err.exit_code(), 2);
            err.to_string()
        };
        let err = check(dir.join("nope").join("r.json"), None);
        assert!(err.starts_with("invalid --output: directory "), "{err}");
        assert!(err.ends_with("nope does not exist"), "{err}");
        let err = check(dir.clone(), None);
        assert!(err.ends_with("is a directory"), "{err}");
        let same = dir.join("r.json");
        let again = dir.join(".").join("r.json");
        let err = check(same, Some(again));
        assert!(err.starts_with("invalid --csv: "), "{err}");
        assert!(err.ends_with("is also the --output file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
    /// Regression: `--csv link --decisions target` wrote one file twice.
    #[test]
    fn a_symlink_and_its_target_are_one_file() {
        let dir = temp_dir("link");
        std::fs::write(dir.join("real.csv"), b"x").unwrap();
        std::os::unix::fs::symlink("real.csv", dir.join("link.csv")).unwrap();
        let outputs = Outputs {
            tests_csv: Some(dir.join("link.csv")),
            decisions: Some(dir.join("real.csv")),
            ..Default::default()
        };
        let err = outputs.check().unwrap_err().to_string();
        assert!(err.starts_with("invalid --decisions: "), "{err}");
        assert!(err.ends_with("is also the --csv file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
