//! Reading a file named to `merge`: bounded, so `/dev/zero` or a stray
//! binary is refused after a bounded read instead of filling memory; and
//! everything that is no results file is bad input (exit 2).

use super::row::ResultsFile;
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Largest input: a million-cell grid (the grid limit) at 1 KiB a row.
pub(crate) const MAX_INPUT_BYTES: usize = 1 << 30;
/// Longest line: far above any row, far below memory.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// Reads and parses a results file, checking its values.
pub(crate) fn read_results(path: &Path) -> Result<ResultsFile> {
    let name = path.display().to_string();
    let text = read_capped(path, MAX_INPUT_BYTES, MAX_LINE_BYTES)?;
    let file = ResultsFile::parse(&text, &name)?;
    file.check_values(&name)?;
    Ok(file)
}

/// Reads at most `max` bytes with no line over `max_line`; more is bad
/// input naming the size, or the line.
pub(super) fn read_capped(path: &Path, max: usize, max_line: usize) -> Result<String> {
    let name = path.display().to_string();
    let input = |source| Error::Input {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        return Err(Error::invalid(
            "merge",
            format!("{name} is a directory, not a results file"),
        ));
    }
    let mut file = std::fs::File::open(path).map_err(input)?;
    let mut bytes: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut line_start = 0;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(input(e)),
        };
        if bytes.len() + n > max {
            return Err(Error::bad_file(
                name,
                "size",
                format!("larger than {} MiB: not a results file", max >> 20),
            ));
        }
        let old = bytes.len();
        bytes.extend_from_slice(&buf[..n]);
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            line_start = old + i + 1;
        }
        if bytes.len() - line_start > max_line {
            let line = bytes[..line_start].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(Error::bad_line(
                name,
                line,
                format!("longer than {} MiB: not a results file", max_line >> 20),
            ));
        }
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        Error::bad_line(name, line, "not UTF-8 text")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_and_oversized_input_is_refused_after_a_bounded_read() {
        let e = read_capped(Path::new("/dev/zero"), 1 << 22, 1 << 20).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "/dev/zero: line 1: longer than 1 MiB: not a results file"
        );
        let dir = std::env::temp_dir().join(format!("lbsim-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.csv");
        std::fs::write(&big, "a,b\n".repeat(3 << 18)).unwrap();
        let e = read_capped(&big, 2 << 20, 1 << 20).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("big.csv: size: larger than 2 MiB: not a results file"),
            "{e}"
        );
        assert!(read_capped(&big, 4 << 20, 1 << 20).is_ok());
        let e = read_capped(&dir, 4 << 20, 1 << 20).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("is a directory"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
