//! The shard record: `<output>.shard.json` beside the results file of a
//! sharded sweep, naming its grid (hash and cell count) and its shard. A
//! merge reads it to tell four shards of one grid from three, or from a
//! shard of another grid; a resumed shard reads it to refuse running a
//! different shard into the same file.

use super::grid::Grid;
use super::shard::Shard;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a sharded results file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShardRecord {
    /// The lbsim version that wrote it (cell keys include it).
    pub(crate) lbsim: String,
    /// `Grid::hash` of the grid the cells come from.
    pub(crate) grid_hash: String,
    /// Cells of the whole grid.
    pub(crate) cells: usize,
    /// `K/N`.
    pub(crate) shard: String,
    /// N of `K/N`, and K − 1: which cells belong in the file.
    pub(crate) shards: usize,
    pub(crate) index: usize,
}

/// Where the record of a results file goes: `<output>.shard.json`.
pub(crate) fn record_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".shard.json");
    PathBuf::from(name)
}

impl ShardRecord {
    pub(crate) fn new(grid: &Grid, shard: Shard) -> ShardRecord {
        ShardRecord {
            lbsim: env!("CARGO_PKG_VERSION").to_string(),
            grid_hash: grid.hash(),
            cells: grid.len(),
            shard: shard.to_string(),
            shards: shard.count(),
            index: shard.number() - 1,
        }
    }

    /// The record beside a results file, if there is one. A record that
    /// cannot be read or parsed is bad input naming it.
    pub(crate) fn read(output: &Path) -> Result<Option<ShardRecord>> {
        let path = record_path(output);
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::input::read_text(&path, crate::input::InputKind::Journal)?;
        let record: ShardRecord = serde_json::from_str(&text).map_err(|e| {
            Error::bad_file(
                path.display().to_string(),
                format!("line {} column {}", e.line(), e.column()),
                e.to_string(),
            )
        })?;
        if record.shards == 0 || record.index >= record.shards {
            return Err(Error::bad_file(
                path.display().to_string(),
                "shard",
                format!("'{}' is not K/N with 1 <= K <= N", record.shard),
            ));
        }
        Ok(Some(record))
    }

    /// Writes the record beside `output`, atomically.
    pub(crate) fn write(&self, output: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        crate::report::write_atomically(&record_path(output), text.as_bytes())
    }

    /// Whether `cell` belongs in this record's shard.
    pub(crate) fn holds(&self, cell: usize) -> bool {
        cell < self.cells && cell % self.shards == self.index
    }
}

/// Before a sharded sweep writes to `output`: a file being resumed must
/// have been this grid's and this shard's (a resubmitted task that found
/// the wrong index would otherwise mix shards in one file). Then the
/// record is (re)written, before any cell runs, so even a shard killed at
/// once tells a merge what it was meant to hold.
pub(crate) fn check_and_write(
    grid: &Grid,
    shard: Shard,
    output: &Path,
    resume: bool,
) -> Result<()> {
    let record = ShardRecord::new(grid, shard);
    if output.exists() && resume {
        if let Some(old) = ShardRecord::read(output)? {
            let file = record_path(output).display().to_string();
            if old.grid_hash != record.grid_hash {
                return Err(Error::bad_file(
                    file,
                    "grid_hash",
                    format!(
                        "{} is another grid's (this grid is {}); use another --output",
                        old.grid_hash, record.grid_hash
                    ),
                ));
            }
            if old.shard != record.shard {
                return Err(Error::invalid(
                    "--shard",
                    format!(
                        "{} is shard {} of this grid, this run is shard {}: check the array index and --shards",
                        output.display(),
                        old.shard,
                        record.shard
                    ),
                ));
            }
        }
    } else if output.exists() {
        // The sweep refuses to touch an existing file without --resume.
        return Ok(());
    }
    record.write(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::EnvSettings;

    fn grid(tests: u32) -> Grid {
        let text = format!(
            r#"{{"base": {{"stress": {{"tests": {tests}, "duration": 5}}}},
                "axes": {{"workers": [2, 3, 4]}}, "replications": 2}}"#
        );
        Grid::parse(&text, "g.json", &EnvSettings::default()).unwrap()
    }

    #[test]
    fn a_resumed_shard_must_keep_its_grid_and_its_shard() {
        let dir = std::env::temp_dir().join(format!("lbsim-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("r.csv");
        let two = Shard::parse("2/3").unwrap();
        check_and_write(&grid(20), two, &out, false).unwrap();
        let rec = ShardRecord::read(&out).unwrap().unwrap();
        assert_eq!((rec.cells, rec.shard.as_str(), rec.index), (6, "2/3", 1));
        assert!(rec.holds(4) && !rec.holds(3) && !rec.holds(7));
        std::fs::write(&out, "cell,cell_key\n").unwrap();
        check_and_write(&grid(20), two, &out, true).unwrap();
        let e = check_and_write(&grid(20), Shard::parse("1/3").unwrap(), &out, true).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .contains("is shard 2/3 of this grid, this run is shard 1/3"),
            "{e}"
        );
        let e = check_and_write(&grid(21), two, &out, true).unwrap_err();
        assert!(e.to_string().contains("another grid's"), "{e}");
        std::fs::write(record_path(&out), "{\"lbsim\": 1}").unwrap();
        let e = ShardRecord::read(&out).unwrap_err();
        assert!(e.to_string().contains("r.csv.shard.json: line 1"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
