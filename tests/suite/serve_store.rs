//! One owner per store: a second `lbsim serve` on the same `--db-path`
//! exits 1 naming the first one's pid; a file that is not an lbsim store is
//! refused byte for byte; a failed start leaves no store, lock or
//! recording behind; a store made unwritable under a running server is a
//! 503 and a log line, not a crash.

// Wall time is the point here: a time bound on a child process.
#![allow(clippy::disallowed_methods)]

use super::common::{bin, path_str, stderr, temp_dir};
use super::serve_support::Server;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The names in `dir`, sorted, leaving out the servers' logs.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("serve-"))
        .collect();
    names.sort();
    names
}

/// `lbsim serve ARGS` that should fail at start: (exit code, its one
/// line). One still running after 30 s is killed and the test fails.
fn failed_start(args: &[&str]) -> (i32, String) {
    let out = serve_bounded(&[&["serve", "--port", "0"], args].concat());
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    (out.status.code().expect("an exit code"), err)
}

fn serve_bounded(args: &[&str]) -> std::process::Output {
    let mut child = bin()
        .args(args)
        .env_remove("LB_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lbsim runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("lbsim {args:?} was still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn a_second_server_on_the_same_store_exits_1_naming_the_first() {
    let dir = temp_dir("serve-lock");
    let db = dir.join("x.db");
    let mut first = Server::start(&dir, &[]);
    let pid = std::fs::read_to_string(dir.join("x.db.lock")).expect("the lock file");
    let pid = pid.trim().to_string();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("serve"),
        "the lock names the running server"
    );
    let port = first.url.rsplit(':').next().unwrap().trim_end_matches('/');
    // The same command twice, port included: the lock is what it names.
    let out = serve_bounded(&["serve", "--db-path", path_str(&db), "--port", port]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(&format!("pid {pid}")) && err.contains("in use"),
        "{err}"
    );
    // The first still serves, and stopping it frees the store.
    assert!(first.client().status().is_ok());
    assert!(first.terminate().is_some_and(|s| s.success()));
    assert!(!dir.join("x.db.lock").exists(), "removed at a clean stop");
    let second = Server::start(&dir, &[]);
    assert!(second.client().status().is_ok());
}

#[test]
fn a_file_that_is_not_an_lbsim_store_is_refused_untouched() {
    let dir = temp_dir("serve-foreign");
    let db = dir.join("other.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE tests(x); INSERT INTO tests VALUES (42);")
        .unwrap();
    drop(conn);
    let text = dir.join("notes.txt");
    std::fs::write(&text, "a text file, not a database\n".repeat(200)).unwrap();
    for file in [&db, &text] {
        let before = std::fs::read(file).unwrap();
        let listing = files(&dir);
        let (code, err) = failed_start(&["--db-path", path_str(file)]);
        assert_eq!(code, 2, "bad input: {err}");
        assert!(
            err.contains("--db-path") && err.contains("not an lbsim store"),
            "{err}"
        );
        assert_eq!(std::fs::read(file).unwrap(), before, "byte for byte");
        assert_eq!(files(&dir), listing, "nothing added beside it");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "no lbsim table added");
}

#[test]
fn a_failed_start_leaves_no_store_lock_or_recording() {
    let dir = temp_dir("serve-failed-start");
    let db = dir.join("x.db");
    let db = path_str(&db);
    let record = dir.join("r.jsonl");
    let record = path_str(&record);
    let (code, err) = failed_start(&["--host", "no-such-host", "--db-path", db]);
    assert_eq!((code, files(&dir)), (2, vec![]), "{err}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = serve_bounded(&[
        "serve",
        "--port",
        &port,
        "--db-path",
        db,
        "--record",
        record,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot listen"), "{}", stderr(&out));
    assert_eq!(files(&dir), Vec::<String>::new());
    let unwritable = dir.join("missing").join("r.jsonl");
    let (code, err) = failed_start(&["--db-path", db, "--record", path_str(&unwritable)]);
    assert_eq!((code, files(&dir)), (1, vec![]), "{err}");
    // A store in use: the recording this start would have made is gone too.
    let other = temp_dir("serve-failed-start-holder");
    let _holder = Server::start(&other, &[]);
    let held = other.join("x.db");
    let (code, err) = failed_start(&["--db-path", path_str(&held), "--record", record]);
    assert_eq!((code, files(&dir)), (1, vec![]), "{err}");
}

/// `chattr +i` under a running server killed it with SIGBUS (its WAL index
/// was a mapped file); now writes are refused with 503 and reads go on.
/// Needs root and a file system with the immutable flag; says so if not.
#[test]
fn a_store_made_immutable_while_serving_is_refused_writes_not_a_crash() {
    let dir = temp_dir("serve-immutable");
    let mut server = Server::start(&dir, &[]);
    let client = server.client();
    let test = lbsim::service::api::TestRequest::default();
    client.submit_test(&test).expect("a first test is stored");
    let names: Vec<String> = files(&dir)
        .into_iter()
        .filter(|n| n.starts_with("x.db"))
        .map(|n| path_str(&dir.join(n)).to_string())
        .collect();
    let chattr = |flag: &str| {
        std::process::Command::new("chattr")
            .arg(flag)
            .args(&names)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !chattr("+i") {
        println!("chattr +i is not available here (needs root and ext4/xfs/btrfs): skipped");
        return;
    }
    let refused = (0..50)
        .filter(|_| client.submit_test(&test).is_err())
        .count();
    let alive = client.status().is_ok();
    chattr("-i");
    assert_eq!(
        refused, 50,
        "no write is acknowledged while the store cannot commit"
    );
    assert!(alive, "the server still answers reads");
    let status = server.terminate().expect("stops on SIGTERM");
    assert!(status.code().is_some(), "ended by a signal: {status:?}");
}
