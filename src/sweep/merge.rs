//! `lbsim merge`: joins shard files into the file one run would write.
//!
//! Rows are sorted by their `cell` index; a cell found in two files must be
//! the same bytes in both. Rows are kept as the exact lines read, so the
//! result is byte-identical to a single run's.

use super::row::ResultsFile;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Joined results: the file's text and the cells missing below the
/// highest one (a shard not run yet, or interrupted).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Merged {
    pub(crate) text: String,
    pub(crate) rows: usize,
    pub(crate) missing: Vec<usize>,
}

/// Joins read files (each named for errors) into one, rows in grid order.
pub(crate) fn merge(inputs: &[(String, ResultsFile)]) -> Result<Merged> {
    let mut header: Option<&str> = None;
    let mut rows: BTreeMap<usize, &str> = BTreeMap::new();
    for (name, file) in inputs {
        let bad =
            |location: String, message: String| Error::bad_file(name.clone(), location, message);
        let Some(h) = file.header.as_deref() else {
            continue;
        };
        match header {
            Some(first) if first != h => {
                return Err(bad(
                    "line 1".into(),
                    format!("its columns differ from {}'s", inputs[0].0),
                ))
            }
            _ => header = Some(h),
        }
        for row in &file.rows {
            match rows.get(&row.cell) {
                Some(line) if *line != row.line => {
                    return Err(bad(
                        format!("line {}", row.line_no),
                        format!(
                            "cell {} differs from the same cell in another file",
                            row.cell
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    rows.insert(row.cell, &row.line);
                }
            }
        }
    }
    let Some(header) = header else {
        return Err(Error::invalid("merge", "no input file has a header row"));
    };
    let mut text = format!("{header}\n");
    for line in rows.values() {
        text.push_str(line);
        text.push('\n');
    }
    let top = rows.keys().next_back().map_or(0, |c| c + 1);
    let missing = (0..top).filter(|c| !rows.contains_key(c)).collect();
    Ok(Merged {
        text,
        rows: rows.len(),
        missing,
    })
}

/// The merged text alone.
pub(super) fn join(inputs: &[(String, ResultsFile)]) -> Result<String> {
    merge(inputs).map(|m| m.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (String, ResultsFile) {
        ("f.csv".into(), ResultsFile::parse(text, "f.csv").unwrap())
    }

    #[test]
    fn rows_are_sorted_by_cell_and_duplicates_kept_once() {
        let a = file("cell,cell_key\n0,a\n2,c\n");
        let b = file("cell,cell_key\n1,b\n3,d\n2,c\n");
        let m = merge(&[a, b]).unwrap();
        assert_eq!(m.text, "cell,cell_key\n0,a\n1,b\n2,c\n3,d\n");
        assert!(m.missing.is_empty());
    }

    #[test]
    fn gaps_are_reported_and_conflicts_refused() {
        let m = merge(&[file("cell,cell_key\n0,a\n3,d\n")]).unwrap();
        assert_eq!(m.missing, vec![1, 2]);
        let e = merge(&[file("cell,cell_key\n0,a\n"), file("cell,cell_key\n0,b\n")]).unwrap_err();
        assert!(e.to_string().contains("cell 0 differs"), "{e}");
        let e = merge(&[file("cell,cell_key\n"), file("cell,x,cell_key\n")]).unwrap_err();
        assert!(e.to_string().contains("columns differ"), "{e}");
    }
}
