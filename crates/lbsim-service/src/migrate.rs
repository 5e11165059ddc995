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

#[cfg(test)]
mod tests {
    use super::super::store::Store;
    use rusqlite::Connection;

    /// A store as lbsim wrote it before runs carried work.
    const OLD: &str = "
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1'), ('epoch_unix_us', '5');
        CREATE TABLE workers(id INTEGER PRIMARY KEY, registration TEXT NOT NULL,
            status TEXT NOT NULL, joined_us INTEGER NOT NULL, left_us INTEGER, reason TEXT);
        CREATE TABLE tests(id INTEGER PRIMARY KEY, request TEXT NOT NULL, state TEXT NOT NULL,
            submitted_us INTEGER NOT NULL, worker INTEGER, lease TEXT,
            attempts INTEGER NOT NULL DEFAULT 0, losses INTEGER NOT NULL DEFAULT 0,
            first_assigned_us INTEGER, started_us INTEGER, finished_us INTEGER,
            run_time_s REAL, result TEXT, reason TEXT);
        CREATE TABLE runs(test INTEGER NOT NULL, attempt INTEGER NOT NULL,
            worker INTEGER NOT NULL, assigned_us INTEGER NOT NULL, started_us INTEGER,
            ended_us INTEGER, outcome TEXT, PRIMARY KEY(test, attempt)) WITHOUT ROWID;
        INSERT INTO tests(id, request, state, submitted_us) VALUES (1, '{}', 'pending', 9);
        INSERT INTO runs VALUES (1, 1, 1, 10, NULL, 11, 'lost');
    ";

    #[test]
    fn an_older_store_opens_with_the_new_columns_and_keeps_its_rows() {
        let dir = std::env::temp_dir().join(format!("lbsim-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.db");
        Connection::open(&path).unwrap().execute_batch(OLD).unwrap();
        let snap = Store::open(&path, 99).unwrap().snapshot().unwrap();
        assert_eq!((snap.epoch_unix_us, snap.tests.len()), (5, 1));
        assert_eq!(snap.tests[0].log_tail, None);
        assert_eq!(snap.runs[0].outcome.as_deref(), Some("lost"));
        assert_eq!(snap.runs[0].run_time_s, None);
        // Opening again finds the columns there.
        assert_eq!(Store::open(&path, 99).unwrap().snapshot().unwrap(), snap);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
