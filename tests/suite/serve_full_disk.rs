//! A store that cannot commit (its files held at a size limit: the
//! process's `RLIMIT_FSIZE`, set from outside with `prlimit`, as a full
//! disk would): every change is refused with 503 and leaves no trace in any
//! answer, count or lease; reads go on; lease calls answer at once; and the
//! server takes changes again once the files may grow.

// Wall time is the point here: liveness bounds on real processes.
#![allow(clippy::disallowed_methods)]

use super::common::{path_str, temp_dir};
use super::serve_support::{raw, Server};
use lbsim::client::Client;
use lbsim::service::api::{TestRequest, WorkerRegistration};
use std::time::{Duration, Instant};

/// Sets the server's file-size limit (bytes) from outside.
fn limit_file_size(pid: u32, bytes: u64) {
    let lim = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit only reads `lim`; the old value is not asked for.
    let rc = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &lim,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Submits batches until 20 are refused (bounded: 60 s); the number of
/// tests acknowledged.
fn fill(c: &Client, test: &TestRequest) -> u64 {
    let (mut acked, mut refused) = (0u64, 0u64);
    let start = Instant::now();
    while refused < 20 && start.elapsed() < Duration::from_secs(60) {
        match c.submit_tests(vec![test.clone(); 20]) {
            Ok(s) => acked += s.test_ids.len() as u64,
            Err(e) => {
                assert_eq!(e.status(), Some(503), "{e}");
                refused += 1;
            }
        }
    }
    assert_eq!(
        refused, 20,
        "the limit was reached ({acked} tests acknowledged)"
    );
    acked
}

/// No refused change shows: counts, single tests, workers; a lease call
/// answers at once.
fn check_no_trace(server: &Server, acked: u64, worker: u64) {
    let c = server.client();
    let status = c.status().unwrap();
    assert_eq!(
        status["tests"]["submitted"].as_u64(),
        Some(acked),
        "{status}"
    );
    let u = |p: &str| format!("{}{p}", server.url);
    assert_eq!(
        raw("GET", &u(&format!("/v1/tests/{}", acked + 1)), &[], b"").0,
        404
    );
    let (code, _) = raw("POST", &u("/v1/workers"), &[], br#"{"memory_gb": 2}"#);
    assert_eq!(code, 503, "a registration is a change");
    assert_eq!(c.list_workers().unwrap().workers.len(), 1);
    for _ in 0..2 {
        let t = Instant::now();
        let lease = u(&format!("/v1/workers/{worker}/lease?wait_s=0"));
        let (code, _) = raw("POST", &lease, &[], b"");
        assert!(code == 503 || code == 200 || code == 204, "{code}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "a lease call answered at once"
        );
    }
}

#[test]
fn a_store_that_cannot_commit_refuses_changes_without_a_trace_and_recovers() {
    let dir = temp_dir("full-disk");
    let rec = dir.join("rec.jsonl");
    let server = Server::start(&dir, &["--record", path_str(&rec)]);
    let c = server.client();
    let registration = WorkerRegistration {
        memory_gb: 1.0,
        cpu_cores: 1,
        cuda_devices: 0,
        backends: None,
        name: Some("w".into()),
        labels: vec![],
    };
    let w = c.register_worker(&registration).unwrap().worker_id;
    // The files may grow a little, then no more.
    let (db, wal) = (dir.join("x.db"), dir.join("x.db-wal"));
    let cap = size(&db).max(size(&wal)).max(size(&rec)) + 64 * 1024;
    limit_file_size(server.pid(), cap);
    let test = TestRequest {
        test_type: Some("x".repeat(150)),
        ..TestRequest::default()
    };
    let acked = fill(&c, &test);
    check_no_trace(&server, acked, w);
    // The disk is back: changes are taken again within a few probes.
    limit_file_size(server.pid(), libc::RLIM_INFINITY);
    let back = Instant::now();
    let id = loop {
        match c.submit_test(&test) {
            Ok(id) => break id,
            Err(e) if back.elapsed() < Duration::from_secs(30) => {
                assert_eq!(e.status(), Some(503), "{e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("the server did not recover: {e}"),
        }
    };
    assert_eq!(id, acked + 1, "no id was used by a refused change");
    drop(server);
    // After a restart the store holds what was acknowledged, and the
    // recording a submit for each and no more.
    let server = Server::start(&dir, &["--record", path_str(&rec)]);
    let status = server.client().status().unwrap();
    assert_eq!(status["tests"]["submitted"].as_u64(), Some(acked + 1));
    let text = std::fs::read_to_string(&rec).unwrap();
    let submits = text
        .lines()
        .filter(|l| l.contains(r#""fact":"submit""#))
        .count();
    assert_eq!(
        submits as u64,
        acked + 1,
        "the recording holds the store, no more"
    );
}
