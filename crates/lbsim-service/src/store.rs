//! The durable store: SQLite in WAL mode with `synchronous=FULL`, one
//! writer. Every state change is an `Op`; ops are applied in the order the
//! core made them, many calls' ops to one transaction (see `writer`).

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// Schema version kept in `meta`; a store of another version is refused.
const SCHEMA_VERSION: &str = "1";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workers(
    id INTEGER PRIMARY KEY,
    registration TEXT NOT NULL,
    status TEXT NOT NULL,
    joined_us INTEGER NOT NULL,
    left_us INTEGER,
    reason TEXT);
CREATE TABLE IF NOT EXISTS tests(
    id INTEGER PRIMARY KEY,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_us INTEGER NOT NULL,
    worker INTEGER,
    lease TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    losses INTEGER NOT NULL DEFAULT 0,
    first_assigned_us INTEGER,
    started_us INTEGER,
    finished_us INTEGER,
    run_time_s REAL,
    result TEXT,
    reason TEXT);
CREATE TABLE IF NOT EXISTS runs(
    test INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    worker INTEGER NOT NULL,
    assigned_us INTEGER NOT NULL,
    started_us INTEGER,
    ended_us INTEGER,
    outcome TEXT,
    PRIMARY KEY(test, attempt)) WITHOUT ROWID;
";

/// A failure of the store, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("store {what}: {source}")]
pub(crate) struct StoreError {
    pub(crate) what: &'static str,
    #[source]
    pub(crate) source: rusqlite::Error,
}

fn ctx(what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError { what, source }
}

/// One state change, as the store records it. Times are µs since the
/// store was created.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    WorkerJoined {
        id: u64,
        registration: String,
        at: u64,
    },
    WorkerStatus {
        id: u64,
        status: &'static str,
        left_at: Option<u64>,
        reason: Option<String>,
    },
    TestSubmitted {
        id: u64,
        request: String,
        at: u64,
        /// Set when the test was rejected at once.
        rejected: Option<String>,
    },
    Assigned {
        test: u64,
        attempt: u32,
        worker: u64,
        lease: String,
        at: u64,
    },
    Started {
        test: u64,
        attempt: u32,
        at: u64,
    },
    /// A run ended without ending the test: `outcome` is `lost`,
    /// `requeued` or `moved`; the test goes back to pending (unless it is
    /// also finished by a `Finished` op).
    RunEnded {
        test: u64,
        attempt: u32,
        at: u64,
        outcome: &'static str,
        losses: u32,
    },
    Finished {
        test: u64,
        attempt: u32,
        state: &'static str,
        at: u64,
        run_time_s: Option<f64>,
        result: Option<String>,
        reason: Option<String>,
        /// The lease whose report finished it (kept so a retried report
        /// gets the same answer after a restart), if any.
        lease: Option<String>,
    },
    /// What a worker reported of a run (before the run ends or is retried).
    RunReported {
        test: u64,
        attempt: u32,
        run_time_s: f64,
        exit_code: Option<i32>,
        log_tail: Option<String>,
    },
}

/// A worker row, for the rebuild.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerRow {
    pub id: u64,
    pub registration: String,
    pub status: String,
    pub(crate) joined_us: u64,
    pub(crate) left_us: Option<u64>,
    pub reason: Option<String>,
}

/// A test row, for the rebuild.
#[derive(Clone, Debug, PartialEq)]
pub struct TestRow {
    pub id: u64,
    pub request: String,
    pub state: String,
    pub(crate) submitted_us: u64,
    pub worker: Option<u64>,
    pub lease: Option<String>,
    pub attempts: u32,
    pub losses: u32,
    pub(crate) first_assigned_us: Option<u64>,
    pub(crate) started_us: Option<u64>,
    pub(crate) finished_us: Option<u64>,
    pub run_time_s: Option<f64>,
    pub result: Option<String>,
    pub reason: Option<String>,
    pub exit_code: Option<i32>,
    pub log_tail: Option<String>,
}

/// A run row, for the rebuild.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub test: u64,
    pub attempt: u32,
    pub worker: u64,
    pub(crate) assigned_us: u64,
    pub(crate) started_us: Option<u64>,
    pub(crate) ended_us: Option<u64>,
    pub outcome: Option<String>,
    pub run_time_s: Option<f64>,
    pub exit_code: Option<i32>,
}

/// Everything the store holds, read at start-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Unix time (µs) at which the store was created: its time zero.
    pub(crate) epoch_unix_us: u64,
    /// The latest time any row records (µs since the epoch).
    pub(crate) last_us: u64,
    pub workers: Vec<WorkerRow>,
    pub tests: Vec<TestRow>,
    pub runs: Vec<RunRow>,
}

/// The open database.
pub(crate) struct Store {
    conn: Connection,
}

/// lbsim's mark in the SQLite header (`PRAGMA application_id`, "lbsm"):
/// a file without it is not written into (see `Store::open`).
pub(crate) const APPLICATION_ID: i32 = 0x6C62_736D;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    /// The file is not an lbsim store; it was left as it was.
    #[error("not an lbsim store ({0}); it was left untouched")]
    Foreign(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `recognise` found in the file.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Carries lbsim's application id.
    Stamped,
    /// A store from before the application id: its `meta` names a schema.
    Unstamped,
    /// No tables at all (a new or empty file).
    Empty,
}

/// The connection settings, before anything is read. EXCLUSIVE locking
/// keeps WAL's index in heap memory instead of a mapped `-shm` file and
/// `mmap_size=0` keeps the database itself unmapped: a file that turns
/// unwritable or vanishes under a mapping kills the process with SIGBUS,
/// where read and write calls fail with an error the server reports.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(ctx("set locking_mode=EXCLUSIVE"))?;
    conn.pragma_update(None, "mmap_size", 0)
        .map_err(ctx("set mmap_size=0"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(ctx("set busy timeout"))
}

/// Whether the file is an lbsim store, reading only.
fn recognise(conn: &Connection) -> Result<Kind, OpenError> {
    let id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(foreign_or("read the application id"))?;
    if id == APPLICATION_ID {
        return Ok(Kind::Stamped);
    }
    if id != 0 {
        return Err(OpenError::Foreign(format!(
            "its application id is {id:#x}, lbsim's is {APPLICATION_ID:#x}"
        )));
    }
    let mut names: Vec<String> = Vec::new();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .map_err(foreign_or("read the schema"))?;
    let rows = stmt
        .query_map([], |r| r.get(0))
        .map_err(foreign_or("read the schema"))?;
    for name in rows {
        names.push(name.map_err(foreign_or("read the schema"))?);
    }
    if names.is_empty() {
        return Ok(Kind::Empty);
    }
    let version: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .unwrap_or(None);
    match version {
        Some(_) => Ok(Kind::Unstamped),
        None => Err(OpenError::Foreign(format!(
            "no lbsim application id and no lbsim meta table; it holds {}",
            names.join(", ")
        ))),
    }
}

/// A file SQLite cannot read as a database is foreign; other failures
/// (permissions, I/O) are the store's.
fn foreign_or(what: &'static str) -> impl Fn(rusqlite::Error) -> OpenError {
    move |e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => OpenError::Foreign(e.to_string()),
        _ => OpenError::Store(StoreError { what, source: e }),
    }
}

#[cfg(test)]
mod open_tests {
    use super::*;

    fn temp_db(name: &str) -> crate::test_dir::TempDb {
        crate::test_dir::TempDb::new("open", name)
    }

    fn pragma(store: &Store, name: &str) -> String {
        store
            .conn
            .pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| format!("{v:?}"))
            .unwrap()
    }

    #[test]
    fn the_store_is_unmapped_exclusive_and_marked() {
        let path = temp_db("pragmas");
        let store = Store::open(&path, 1).unwrap();
        assert_eq!(pragma(&store, "mmap_size"), "Integer(0)");
        assert_eq!(pragma(&store, "locking_mode"), "Text(\"exclusive\")");
        assert_eq!(pragma(&store, "journal_mode"), "Text(\"wal\")");
        assert_eq!(
            pragma(&store, "application_id"),
            format!("Integer({APPLICATION_ID})")
        );
        drop(store);
        assert!(
            !path.with_extension("db-shm").exists(),
            "no mapped wal-index"
        );
    }

    #[test]
    fn a_foreign_database_or_file_is_refused_byte_for_byte() {
        let path = temp_db("foreign");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE tests(x); INSERT INTO tests VALUES (1);")
            .unwrap();
        drop(conn);
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path, 1).err().expect("refused");
        assert!(matches!(err, OpenError::Foreign(_)), "{err}");
        assert!(err.to_string().contains("tests"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);

        let text = temp_db("text");
        std::fs::write(&text, "not a database at all, just some text\n".repeat(100)).unwrap();
        let before = std::fs::read(&text).unwrap();
        let err = Store::open(&text, 1).err().expect("refused");
        assert!(matches!(err, OpenError::Foreign(_)), "{err}");
        assert_eq!(std::fs::read(&text).unwrap(), before);
    }

    #[test]
    fn a_store_from_before_the_application_id_opens_and_is_stamped() {
        let path = temp_db("legacy");
        drop(Store::open(&path, 7).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", 0).unwrap();
        drop(conn);
        let store = Store::open(&path, 99).expect("a landed store opens");
        assert_eq!(
            pragma(&store, "application_id"),
            format!("Integer({APPLICATION_ID})")
        );
        assert_eq!(store.snapshot().unwrap().epoch_unix_us, 7);
    }
}

impl Store {
    /// Opens (or creates) the store; `now_unix_us` becomes the epoch of a
    /// new one. A file that is not an lbsim store is refused before any
    /// write; a store from before the application id is stamped with it.
    pub(crate) fn open(path: &Path, now_unix_us: u64) -> Result<Store, OpenError> {
        let conn = Connection::open(path).map_err(ctx("open"))?;
        configure(&conn)?;
        let kind = recognise(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(ctx("set WAL mode"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(ctx("set synchronous=FULL"))?;
        conn.execute_batch(SCHEMA).map_err(ctx("create schema"))?;
        super::migrate::add_columns(&conn)?;
        if kind != Kind::Stamped {
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(ctx("set the application id"))?;
        }
        let store = Store { conn };
        match store.meta("schema_version")? {
            None => {
                store.set_meta("schema_version", SCHEMA_VERSION)?;
                store.set_meta("epoch_unix_us", &now_unix_us.to_string())?;
            }
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) => {
                return Err(StoreError {
                    what: "check schema version",
                    source: rusqlite::Error::InvalidParameterName(format!(
                        "schema version {v}, expected {SCHEMA_VERSION}"
                    )),
                }
                .into())
            }
        }
        Ok(store)
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(ctx("read meta"))
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
                [key, value],
            )
            .map(|_| ())
            .map_err(ctx("write meta"))
    }

    /// Reads the whole store.
    pub(crate) fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let epoch = self
            .meta("epoch_unix_us")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let last_us: i64 = self
            .conn
            .query_row(
                "SELECT MAX(COALESCE((SELECT MAX(MAX(submitted_us, COALESCE(finished_us, 0),
                   COALESCE(started_us, 0), COALESCE(first_assigned_us, 0))) FROM tests), 0),
                   COALESCE((SELECT MAX(MAX(joined_us, COALESCE(left_us, 0))) FROM workers), 0),
                   COALESCE((SELECT MAX(MAX(assigned_us, COALESCE(ended_us, 0))) FROM runs), 0))",
                [],
                |r| r.get(0),
            )
            .map_err(ctx("read the latest time"))?;
        Ok(Snapshot {
            epoch_unix_us: epoch,
            last_us: last_us.max(0) as u64,
            workers: self.workers()?,
            tests: self.tests()?,
            runs: self.runs()?,
        })
    }

    fn workers(&self) -> Result<Vec<WorkerRow>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id, registration, status, joined_us, left_us, reason FROM workers ORDER BY id")
            .map_err(ctx("read workers"))?;
        let rows = st
            .query_map([], |r| {
                Ok(WorkerRow {
                    id: r.get(0)?,
                    registration: r.get(1)?,
                    status: r.get(2)?,
                    joined_us: r.get(3)?,
                    left_us: r.get(4)?,
                    reason: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(ctx("read workers"));
        rows
    }

    fn tests(&self) -> Result<Vec<TestRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, request, state, submitted_us, worker, lease, attempts, losses,
                 first_assigned_us, started_us, finished_us, run_time_s, result, reason,
                 exit_code, log_tail
                 FROM tests ORDER BY id",
            )
            .map_err(ctx("read tests"))?;
        let rows = st
            .query_map([], |r| {
                Ok(TestRow {
                    id: r.get(0)?,
                    request: r.get(1)?,
                    state: r.get(2)?,
                    submitted_us: r.get(3)?,
                    worker: r.get(4)?,
                    lease: r.get(5)?,
                    attempts: r.get(6)?,
                    losses: r.get(7)?,
                    first_assigned_us: r.get(8)?,
                    started_us: r.get(9)?,
                    finished_us: r.get(10)?,
                    run_time_s: r.get(11)?,
                    result: r.get(12)?,
                    reason: r.get(13)?,
                    exit_code: r.get(14)?,
                    log_tail: r.get(15)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(ctx("read tests"));
        rows
    }

    fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT test, attempt, worker, assigned_us, started_us, ended_us, outcome,
                 run_time_s, exit_code
                 FROM runs ORDER BY test, attempt",
            )
            .map_err(ctx("read runs"))?;
        let rows = st
            .query_map([], |r| {
                Ok(RunRow {
                    test: r.get(0)?,
                    attempt: r.get(1)?,
                    worker: r.get(2)?,
                    assigned_us: r.get(3)?,
                    started_us: r.get(4)?,
                    ended_us: r.get(5)?,
                    outcome: r.get(6)?,
                    run_time_s: r.get(7)?,
                    exit_code: r.get(8)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(ctx("read runs"));
        rows
    }

    /// Applies ops in order in one transaction, committed before it
    /// returns; `record_len` is the `--record` file's length after this
    /// commit's facts, kept in the same transaction.
    pub(crate) fn apply<'a>(
        &mut self,
        ops: impl Iterator<Item = &'a Op>,
        record_len: Option<u64>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(ctx("begin"))?;
        for op in ops {
            apply_one(&tx, op)?;
        }
        if let Some(len) = record_len {
            tx.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('record_len', ?1)",
                [len.to_string()],
            )
            .map_err(ctx("write meta"))?;
        }
        tx.commit().map_err(ctx("commit"))
    }

    /// One trivial committed write: does the store take writes (again)?
    pub(crate) fn probe(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(ctx("begin"))?;
        tx.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('probe', 'ok')",
            [],
        )
        .map_err(ctx("write meta"))?;
        tx.commit().map_err(ctx("commit"))
    }

    /// The recording this store last wrote to and its committed length.
    pub(crate) fn recording_meta(&self) -> Result<Option<(String, u64)>, StoreError> {
        let path = self.meta("record_path")?;
        let len = self.meta("record_len")?.and_then(|v| v.parse().ok());
        Ok(path.zip(len))
    }

    /// Starts keeping `path`'s length with every commit.
    pub(crate) fn set_recording_meta(&self, path: &str, len: u64) -> Result<(), StoreError> {
        self.set_meta("record_path", path)?;
        self.set_meta("record_len", &len.to_string())
    }
}

/// A statement runner over one transaction.
type Run<'a> = dyn Fn(&str, &[&dyn rusqlite::ToSql]) -> Result<(), StoreError> + 'a;

fn apply_one(tx: &rusqlite::Transaction, op: &Op) -> Result<(), StoreError> {
    let run = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<(), StoreError> {
        tx.prepare_cached(sql)
            .and_then(|mut st| st.execute(p))
            .map(|_| ())
            .map_err(ctx("write"))
    };
    match op {
        Op::WorkerJoined {
            id,
            registration,
            at,
        } => run(
            "INSERT INTO workers(id, registration, status, joined_us) VALUES (?1, ?2, 'active', ?3)",
            params![id, registration, at],
        ),
        Op::WorkerStatus {
            id,
            status,
            left_at,
            reason,
        } => run(
            "UPDATE workers SET status = ?2, left_us = ?3, reason = ?4 WHERE id = ?1",
            params![id, status, left_at, reason],
        ),
        Op::TestSubmitted {
            id,
            request,
            at,
            rejected,
        } => {
            let state = if rejected.is_some() { "rejected" } else { "pending" };
            let finished = rejected.as_ref().map(|_| *at);
            run(
                "INSERT INTO tests(id, request, state, submitted_us, finished_us, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, request, state, at, finished, rejected],
            )
        }
        Op::Finished {
            test,
            attempt,
            state,
            at,
            run_time_s,
            result,
            reason,
            lease,
        } => {
            // Only a live test can finish: a test is never completed twice.
            run(
                "UPDATE tests SET state = ?2, finished_us = ?3, run_time_s = ?4, result = ?5,
                 reason = ?6, lease = ?7
                 WHERE id = ?1 AND state IN ('pending', 'assigned', 'running')",
                params![test, state, at, run_time_s, result, reason, lease],
            )?;
            // The run ends as its test: completed, failed, timed_out or cancelled.
            let outcome = *state;
            run(
                "UPDATE runs SET ended_us = ?3, outcome = ?4
                 WHERE test = ?1 AND attempt = ?2 AND outcome IS NULL",
                params![test, attempt, at, outcome],
            )
        }
        _ => apply_run_op(&run, op),
    }
}

/// The ops of one run of a test: its assignment, start and end.
fn apply_run_op(run: &Run<'_>, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::Assigned {
            test,
            attempt,
            worker,
            lease,
            at,
        } => {
            run(
                "UPDATE tests SET state = 'assigned', worker = ?2, lease = ?3, attempts = ?4,
                 first_assigned_us = COALESCE(first_assigned_us, ?5), started_us = NULL
                 WHERE id = ?1",
                params![test, worker, lease, attempt, at],
            )?;
            run(
                "INSERT INTO runs(test, attempt, worker, assigned_us) VALUES (?1, ?2, ?3, ?4)",
                params![test, attempt, worker, at],
            )
        }
        Op::Started { test, attempt, at } => {
            run(
                "UPDATE tests SET state = 'running', started_us = ?2 WHERE id = ?1",
                params![test, at],
            )?;
            run(
                "UPDATE runs SET started_us = ?3 WHERE test = ?1 AND attempt = ?2",
                params![test, attempt, at],
            )
        }
        Op::RunEnded {
            test,
            attempt,
            at,
            outcome,
            losses,
        } => {
            run(
                "UPDATE tests SET state = 'pending', worker = NULL, lease = NULL,
                 started_us = NULL, losses = ?2 WHERE id = ?1",
                params![test, losses],
            )?;
            run(
                "UPDATE runs SET ended_us = ?3, outcome = ?4 WHERE test = ?1 AND attempt = ?2",
                params![test, attempt, at, outcome],
            )
        }
        Op::RunReported {
            test,
            attempt,
            run_time_s,
            exit_code,
            log_tail,
        } => {
            run(
                "UPDATE tests SET exit_code = ?2, log_tail = COALESCE(?3, log_tail) WHERE id = ?1",
                params![test, exit_code, log_tail],
            )?;
            run(
                "UPDATE runs SET run_time_s = ?3, exit_code = ?4 WHERE test = ?1 AND attempt = ?2",
                params![test, attempt, run_time_s, exit_code],
            )
        }
        Op::WorkerJoined { .. }
        | Op::WorkerStatus { .. }
        | Op::TestSubmitted { .. }
        | Op::Finished { .. } => {
            unreachable!("applied by apply_one")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> crate::test_dir::TempDb {
        crate::test_dir::TempDb::new("store", name)
    }

    #[test]
    fn ops_survive_a_reopen_and_a_test_finishes_once() {
        let path = temp_db("reopen");
        let mut s = Store::open(&path, 1_000).unwrap();
        let ops = [
            Op::WorkerJoined {
                id: 1,
                registration: "{}".into(),
                at: 5,
            },
            Op::TestSubmitted {
                id: 1,
                request: "{}".into(),
                at: 6,
                rejected: None,
            },
            Op::Assigned {
                test: 1,
                attempt: 1,
                worker: 1,
                lease: "abc".into(),
                at: 7,
            },
            Op::Finished {
                test: 1,
                attempt: 1,
                state: "completed",
                at: 9,
                run_time_s: Some(1.5),
                result: None,
                reason: None,
                lease: None,
            },
            Op::Finished {
                test: 1,
                attempt: 1,
                state: "failed",
                at: 10,
                run_time_s: None,
                result: None,
                reason: Some("late".into()),
                lease: None,
            },
        ];
        s.apply(ops.iter(), None).unwrap();
        drop(s);
        let snap = Store::open(&path, 99).unwrap().snapshot().unwrap();
        assert_eq!(snap.epoch_unix_us, 1_000);
        assert_eq!(snap.last_us, 9);
        assert_eq!(snap.tests[0].state, "completed");
        assert_eq!(snap.runs[0].outcome.as_deref(), Some("completed"));
        assert_eq!(snap.workers[0].status, "active");
    }
}
