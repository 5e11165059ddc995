//! Columns added to the store after schema 1, added in place when an older
//! store opens (`ALTER TABLE ... ADD COLUMN`, each nullable): such a store
//! keeps opening, and an older lbsim, which names its columns, still reads
//! a newer store.

use super::store::StoreError;
use rusqlite::Connection;

/// `(table, column, type)` of every column added since schema 1.
pub(super) const ADDED_COLUMNS: [(&str, &str, &str); 4] = [
    // A run's measured time and exit code (real work, issue 26).
    ("runs", "run_time_s", "REAL"),
    ("runs", "exit_code", "INTEGER"),
    // The last reported exit code and log tail of a test.
    ("tests", "exit_code", "INTEGER"),
    ("tests", "log_tail", "TEXT"),
];

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>, StoreError> {
    let ctx = |source| StoreError {
        what: "read the schema",
        source,
    };
    let mut st = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .map_err(ctx)?;
    let names = st
        .query_map([], |r| r.get::<_, String>(1))
        .and_then(|rows| rows.collect())
        .map_err(ctx);
    names
}

/// Adds the columns an older store lacks.
pub(super) fn add_columns(conn: &Connection) -> Result<(), StoreError> {
    for (table, column, kind) in ADDED_COLUMNS {
        if columns(conn, table)?.iter().any(|c| c == column) {
            continue;
        }
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))
            .map_err(|source| StoreError {
                what: "add a column to an older store",
                source,
            })?;
    }
    Ok(())
}
