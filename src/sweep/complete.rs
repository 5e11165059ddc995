//! What `merge` checks before writing anything: every cell of the grid is
//! present exactly once, and every cell is the grid's. The grid is known
//! from `--grid` (each row's key is checked against the cell it names) or
//! from the shard records the files carry (hash, cell count and shard).
//! A missing, duplicate or foreign cell is a failed run (exit 1) naming
//! the cells: an overnight sweep must not lose cells silently.

use super::grid::Grid;
use super::record::{record_path, ShardRecord};
use super::row::ResultsFile;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// One input of a merge: its name, its rows and its shard record.
pub struct ShardFile {
    pub(crate) name: String,
    pub(crate) file: ResultsFile,
    pub(crate) record: Option<ShardRecord>,
}

/// The grid the inputs must make up.
struct Expected<'a> {
    hash: String,
    cells: usize,
    /// Where the hash came from, for messages.
    from: String,
    grid: Option<&'a Grid>,
}

/// Checks the inputs against `grid`, or against their records. Returns
/// false when neither exists (files of an older lbsim, or of unsharded
/// sweeps): nothing could be checked beyond the rows themselves.
pub fn check(inputs: &[ShardFile], grid: Option<&Grid>) -> Result<bool> {
    let expected = match grid {
        Some(g) => Expected {
            hash: g.hash(),
            cells: g.len(),
            from: format!("--grid {}", g.file()),
            grid: Some(g),
        },
        None => match from_records(inputs)? {
            Some(e) => e,
            None => return Ok(false),
        },
    };
    let mut seen: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    let mut foreign: Vec<String> = Vec::new();
    for input in inputs {
        if let Some(why) = foreign_file(input, &expected) {
            foreign.push(why);
            continue;
        }
        for row in &input.file.rows {
            match foreign_row(input, row.cell, &row.key, &expected)? {
                Some(why) => foreign.push(format!("{}: line {}: {why}", input.name, row.line_no)),
                None => seen.entry(row.cell).or_default().push(&input.name),
            }
        }
    }
    let missing: Vec<usize> = (0..expected.cells)
        .filter(|c| !seen.contains_key(c))
        .collect();
    let twice: Vec<String> = seen
        .iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(cell, files)| format!("cell {cell} in {}", files.join(" and ")))
        .collect();
    if missing.is_empty() && twice.is_empty() && foreign.is_empty() {
        return Ok(true);
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "{} of {} cells missing: {}",
            missing.len(),
            expected.cells,
            cell_list(&missing)
        ));
    }
    if !twice.is_empty() {
        parts.push(format!("{} cells twice: {}", twice.len(), capped(&twice)));
    }
    if !foreign.is_empty() {
        parts.push(format!("foreign: {}", capped(&foreign)));
    }
    Err(Error::Run(format!(
        "merge refused, no output written (grid {} from {}): {}",
        expected.hash,
        expected.from,
        parts.join("; ")
    )))
}

/// The grid all records name; a file without a record among files with
/// one cannot be checked, so it is refused.
fn from_records(inputs: &[ShardFile]) -> Result<Option<Expected<'static>>> {
    let Some((first, record)) = inputs
        .iter()
        .find_map(|i| i.record.as_ref().map(|r| (i, r)))
    else {
        return Ok(None);
    };
    if let Some(bare) = inputs.iter().find(|i| i.record.is_none()) {
        return Err(Error::invalid(
            "--grid",
            format!(
                "{} has no shard record ({}) but {} has: give --grid GRID to check its cells",
                bare.name,
                record_path(bare.name.as_ref()).display(),
                first.name
            ),
        ));
    }
    Ok(Some(Expected {
        hash: record.grid_hash.clone(),
        cells: record.cells,
        from: format!("{}'s shard record", first.name),
        grid: None,
    }))
}

/// Why a whole file is another grid's, if it is.
fn foreign_file(input: &ShardFile, expected: &Expected) -> Option<String> {
    let record = input.record.as_ref()?;
    (record.grid_hash != expected.hash || record.cells != expected.cells).then(|| {
        format!(
            "{} is grid {} ({} cells), not {} ({} cells)",
            input.name, record.grid_hash, record.cells, expected.hash, expected.cells
        )
    })
}

/// Why one row does not belong, if it does not.
fn foreign_row(
    input: &ShardFile,
    cell: usize,
    key: &str,
    expected: &Expected,
) -> Result<Option<String>> {
    if cell >= expected.cells {
        return Ok(Some(format!(
            "cell {cell} is past the grid's {} cells",
            expected.cells
        )));
    }
    if let Some(record) = input.record.as_ref().filter(|r| !r.holds(cell)) {
        return Ok(Some(format!(
            "cell {cell} is not of shard {}",
            record.shard
        )));
    }
    if let Some(grid) = expected.grid {
        if grid.cell(cell)?.key != key {
            return Ok(Some(format!(
                "cell {cell} has key {key}, not the grid's (another grid, seed or lbsim version)"
            )));
        }
    }
    Ok(None)
}

/// Cells as ranges (`3, 7-9`), the first 20 ranges then a count.
fn cell_list(cells: &[usize]) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &c in cells {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == c => *end = c,
            _ => ranges.push((c, c)),
        }
    }
    let text: Vec<String> = ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    capped(&text)
}

/// The first 20 items joined, then how many more.
fn capped(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = items[..items.len().min(SHOWN)].join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(", and {} more", items.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hash: &str, cells: usize, k: usize, n: usize) -> ShardRecord {
        ShardRecord {
            lbsim: "x".into(),
            grid_hash: hash.into(),
            cells,
            shard: format!("{}/{n}", k + 1),
            shards: n,
            index: k,
        }
    }

    fn input(name: &str, cells: &[usize], record: Option<ShardRecord>) -> ShardFile {
        let mut text = "cell,cell_key\n".to_string();
        for c in cells {
            text.push_str(&format!("{c},k{c}\n"));
        }
        ShardFile {
            name: name.into(),
            file: ResultsFile::parse(&text, name).unwrap(),
            record,
        }
    }

    #[test]
    fn complete_shards_pass_and_files_without_records_are_unchecked() {
        let a = input("a", &[0, 2, 4], Some(record("h", 6, 0, 2)));
        let b = input("b", &[1, 3, 5], Some(record("h", 6, 1, 2)));
        assert!(check(&[a, b], None).unwrap());
        assert!(!check(&[input("a", &[0, 1], None)], None).unwrap());
    }

    #[test]
    fn missing_twice_and_foreign_cells_are_named() {
        let refused = |inputs: &[ShardFile]| {
            let e = check(inputs, None).unwrap_err();
            assert_eq!(e.exit_code(), 1);
            e.to_string()
        };
        // Three of four shards, and a shard without its last row.
        let shards = |last: &[usize]| {
            vec![
                input("s1", &[0, 4, 8], Some(record("h", 12, 0, 4))),
                input("s2", &[1, 5, 9], Some(record("h", 12, 1, 4))),
                input("s4", last, Some(record("h", 12, 3, 4))),
            ]
        };
        let e = refused(&shards(&[3, 7, 11]));
        assert!(e.ends_with("3 of 12 cells missing: 2, 6, 10"), "{e}");
        let mut all = shards(&[3, 7]);
        all.push(input("s3", &[2, 6, 10], Some(record("h", 12, 2, 4))));
        assert!(refused(&all).ends_with("1 of 12 cells missing: 11"));
        all.push(input("again", &[2], Some(record("h", 12, 2, 4))));
        all.push(input("other", &[1], Some(record("g", 12, 1, 4))));
        all.push(input("odd", &[3], Some(record("h", 12, 0, 4))));
        let e = refused(&all);
        assert!(e.contains("1 cells twice: cell 2 in s3 and again"), "{e}");
        assert!(
            e.contains("other is grid g (12 cells), not h (12 cells)"),
            "{e}"
        );
        assert!(e.contains("odd: line 2: cell 3 is not of shard 1/4"), "{e}");
        let e = check(
            &[
                input("a", &[0], Some(record("h", 2, 0, 2))),
                input("b", &[1], None),
            ],
            None,
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .contains("b has no shard record (b.shard.json)"),
            "{e}"
        );
    }

    #[test]
    fn cell_lists_are_ranges_and_capped() {
        assert_eq!(cell_list(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
        let many: Vec<usize> = (0..50).map(|i| i * 2).collect();
        assert!(cell_list(&many).ends_with("38, and 30 more"));
    }
}
