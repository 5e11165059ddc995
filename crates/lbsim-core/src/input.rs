//! Reading the files a user names, bounded: every config, grid, results
//! file, decision log, journal and trace lbsim reads comes through here, so
//! `/dev/zero` or a runaway file is refused at a size cap of its kind
//! instead of being read until memory runs out, and a directory, a missing
//! or an unreadable file is bad input (exit 2) naming the file.
//!
//! The caps (binary units), chosen well above what lbsim itself writes:
//!
//! | kind | cap | why |
//! |---|---|---|
//! | config, grid | 16 MiB | the embedded default is 6 KiB |
//! | results (JSON, sweep CSV), journal | 256 MiB | 100,000 tests give 0.7 MB of results JSON |
//! | what `diff` compares (decision log or results) | 1 GiB | 27 bytes an assignment: about 40 million |
//! | trace, recording | 4 GiB | streamed; its lines are capped on their own |

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

const MIB: u64 = 1 << 20;

/// What a file is read as: its cap and how messages call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A scenario config (`--config`, `LB_CONFIG_PATH`).
    Config,
    /// A sweep's grid.
    Grid,
    /// A results file: results JSON (stress, scenario, spike, benchmark)
    /// or a sweep CSV.
    Results,
    /// A benchmark's or sweep's cell journal (`FILE.cells.jsonl`).
    Journal,
    /// A file `diff` compares: a decision log (`--decisions`) or a results
    /// file, told apart once read.
    Compared,
    /// A trace to replay: SWF, lbsim's per-test CSV, or a recording.
    Trace,
}

impl InputKind {
    /// The largest file of this kind read, in bytes.
    pub(crate) fn cap_bytes(self) -> u64 {
        match self {
            InputKind::Config | InputKind::Grid => 16 * MIB,
            InputKind::Results | InputKind::Journal => 256 * MIB,
            InputKind::Compared => 1024 * MIB,
            InputKind::Trace => 4096 * MIB,
        }
    }

    /// The kind as messages name it.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            InputKind::Config => "a config file",
            InputKind::Grid => "a grid file",
            InputKind::Results => "a results file",
            InputKind::Journal => "a cell journal",
            InputKind::Compared => "a decision log or results file",
            InputKind::Trace => "a trace",
        }
    }

    /// `larger than the 256 MiB limit for a results file`.
    fn too_large(self) -> std::io::Error {
        let cap = self.cap_bytes();
        let gib = 1024 * MIB;
        let size = if cap >= gib && cap.is_multiple_of(gib) {
            format!("{} GiB", cap / gib)
        } else {
            format!("{} MiB", cap / MIB)
        };
        std::io::Error::new(
            ErrorKind::FileTooLarge,
            format!("larger than the {size} limit for {}", self.noun()),
        )
    }
}

/// An input that cannot be used as `kind` (exit 2, naming the file).
fn refused(path: &Path, source: std::io::Error) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens `path` for reading as `kind`: a directory is refused, and a file
/// whose size is known to be over the cap is refused before any read.
fn open_file(path: &Path, kind: InputKind) -> Result<File> {
    let file = File::open(path).map_err(|e| refused(path, e))?;
    let meta = file.metadata().map_err(|e| refused(path, e))?;
    if meta.is_dir() {
        let why = format!("is a directory, not {}", kind.noun());
        return Err(refused(
            path,
            std::io::Error::new(ErrorKind::IsADirectory, why),
        ));
    }
    if meta.is_file() && meta.len() > kind.cap_bytes() {
        return Err(refused(path, kind.too_large()));
    }
    Ok(file)
}

/// Reads the whole file at `path` as `kind`, at most its cap: a device
/// or pipe (`/dev/zero`, `<(cmd)`) is read up to the cap and refused
/// beyond it.
pub fn read(path: &Path, kind: InputKind) -> Result<Vec<u8>> {
    let file = open_file(path, kind)?;
    let cap = kind.cap_bytes();
    let hint = file.metadata().map_or(0, |m| m.len()).min(cap);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refused(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(refused(path, kind.too_large()));
    }
    Ok(bytes)
}

/// `read` as UTF-8 text; text that is not UTF-8 is bad input naming the
/// line of the first bad byte.
pub fn read_text(path: &Path, kind: InputKind) -> Result<String> {
    let bytes = read(path, kind)?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        Error::bad_line(path.display().to_string(), line, "not UTF-8 text")
    })
}

/// Opens `path` to be streamed as `kind`: reads past the cap fail with
/// the cap's message (an `io::Error` of kind `FileTooLarge`, which the
/// caller reports at the line it was reading).
pub fn open(path: &Path, kind: InputKind) -> Result<Capped<File>> {
    Ok(Capped {
        inner: open_file(path, kind)?,
        left: kind.cap_bytes(),
        kind,
    })
}

/// A reader that fails once more than its kind's cap was read.
#[derive(Debug)]
pub struct Capped<R> {
    inner: R,
    left: u64,
    kind: InputKind,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // One byte more than the cap tells "exactly the cap" from "over".
        let room = usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(self.kind.too_large());
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("lbsim-input-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_endless_device_is_refused_at_the_cap_naming_file_and_cap() {
        let err = read(Path::new("/dev/zero"), InputKind::Config).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            "cannot read /dev/zero: larger than the 16 MiB limit for a config file"
        );
        let mut streamed = open(Path::new("/dev/zero"), InputKind::Config).unwrap();
        let e = std::io::copy(&mut streamed, &mut std::io::sink()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileTooLarge);
        assert_eq!(
            InputKind::Trace.too_large().to_string(),
            "larger than the 4 GiB limit for a trace"
        );
    }

    #[test]
    fn a_directory_or_a_missing_file_is_bad_input_naming_it() {
        let dir = temp_dir("dir");
        let err = read(&dir, InputKind::Results).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string()
                .ends_with("is a directory, not a results file"),
            "{err}"
        );
        let err = open(&dir.join("nope"), InputKind::Trace).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("nope"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_at_the_cap_is_read_whole_and_text_names_a_bad_line() {
        let dir = temp_dir("text");
        let file = dir.join("c.json");
        std::fs::write(&file, b"{\n\"a\": 1,\n\xff}").unwrap();
        let err = read_text(&file, InputKind::Config).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().ends_with(": line 3: not UTF-8 text"),
            "{err}"
        );
        let mut capped = Capped {
            inner: &b"12345"[..],
            left: 5,
            kind: InputKind::Config,
        };
        let mut out = Vec::new();
        capped.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"12345");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
