//! The benchmark suite's journal: one JSON line per finished cell, so a
//! killed `lbsim benchmark` resumes where it stopped and shards can be
//! joined. Each line names its cell and the cell's key (`cell_key`), so a
//! journal from another grid, seed or lbsim version is refused.
//!
//! Floats are written as their exact bits (`"f64:<hex>"`): serde_json's
//! reader may round a 17-digit decimal one unit in the last place, and a
//! resumed suite must write the same bytes as one that never stopped.

use crate::error::{Error, Result};
use crate::report::BenchmarkRow;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The prefix of a float written as bits.
const BITS: &str = "f64:";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    cell: usize,
    key: String,
    row: Value,
}

/// One journal line (with its newline) for a finished cell.
pub(super) fn line(cell: usize, key: &str, row: &BenchmarkRow) -> String {
    let row = encode(serde_json::to_value(row).unwrap_or(Value::Null));
    let entry = Entry {
        cell,
        key: key.to_string(),
        row,
    };
    let mut text = serde_json::to_string(&entry).unwrap_or_default();
    text.push('\n');
    text
}

/// The rows of a journal by cell. `keys[i]` is cell i's key; a line whose
/// cell is not in the grid or whose key differs is bad input naming the
/// line. A torn last line (no newline: the process died mid-write) is left
/// out. The same cell twice (shards joined twice) must agree.
pub(super) fn read(path: &Path, keys: &[String]) -> Result<BTreeMap<usize, BenchmarkRow>> {
    let text = crate::input::read_text(path, crate::input::InputKind::Journal)?;
    let name = path.display().to_string();
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    let mut rows = BTreeMap::new();
    for (i, l) in whole
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |why: String| Error::bad_line(name.clone(), i + 1, why);
        let entry: Entry = serde_json::from_str(l).map_err(|e| bad(e.to_string()))?;
        if keys.get(entry.cell) != Some(&entry.key) {
            return Err(bad(format!(
                "cell {} is not this grid's (grid, seed or lbsim version changed?)",
                entry.cell
            )));
        }
        let row: BenchmarkRow = serde_json::from_value(decode(entry.row))
            .map_err(|e| bad(format!("row of cell {}: {e}", entry.cell)))?;
        if rows.get(&entry.cell).is_some_and(|r| *r != row) {
            return Err(bad(format!("cell {} is here twice, different", entry.cell)));
        }
        rows.insert(entry.cell, row);
    }
    Ok(rows)
}

fn encode(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(0.0);
            Value::String(format!("{BITS}{:016x}", x.to_bits()))
        }
        Value::Array(a) => Value::Array(a.into_iter().map(encode).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, encode(v))).collect()),
        other => other,
    }
}

fn decode(v: Value) -> Value {
    match v {
        Value::String(s) if s.starts_with(BITS) => u64::from_str_radix(&s[BITS.len()..], 16)
            .ok()
            .and_then(|bits| Number::from_f64(f64::from_bits(bits)))
            .map_or(Value::String(s), Value::Number),
        Value::Array(a) => Value::Array(a.into_iter().map(decode).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, decode(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first cell of the reference grid, run, with `x` in two floats.
    fn row(x: f64) -> BenchmarkRow {
        let cells = crate::run::benchmark(
            false,
            &crate::run::Overrides::default(),
            &crate::scenario::EnvSettings::default(),
        )
        .unwrap();
        let mut row = super::super::suite::run_row(&cells[0]).unwrap();
        row.metrics.avg_latency = x;
        row.metrics.latency.p99 = x / 3.0;
        row
    }

    #[test]
    fn rows_come_back_bit_for_bit_and_foreign_cells_are_refused() {
        let dir = std::env::temp_dir().join(format!("lbsim-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.jsonl");
        // Values whose shortest decimal has 17 digits.
        let (a, b) = (row(0.1 + 0.2), row(1.0 / 3.0 + 1e-17));
        let keys = vec!["k0".to_string(), "k1".to_string()];
        let text = line(1, "k1", &b) + &line(0, "k0", &a) + &line(1, "k1", &b) + "{\"cell\"";
        std::fs::write(&path, text).unwrap();
        let rows = read(&path, &keys).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[&0].metrics.avg_latency.to_bits(),
            (0.1 + 0.2f64).to_bits()
        );
        assert_eq!(rows[&1], b);
        std::fs::write(&path, line(0, "other", &a)).unwrap();
        let err = read(&path, &keys).unwrap_err().to_string();
        assert!(
            err.contains("line 1") && err.contains("not this grid's"),
            "{err}"
        );
        std::fs::write(&path, line(0, "k0", &a) + &line(0, "k0", &b)).unwrap();
        assert!(read(&path, &keys)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
