//! `lbsim serve` as a user runs it: concurrent workers complete every test
//! exactly once; `kill -9` five times in a row loses nothing acknowledged;
//! auth, malformed, oversized and stale requests are refused; a silent
//! worker's tests are requeued; SIGTERM stops cleanly.

use super::common::temp_dir;
use super::serve_support::{raw, Server};
use lbsim::client::{AssignmentStatus, Client, ClientError};
use lbsim::service::api::{Heartbeat, TestRequest, TestState, WorkerRegistration};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

fn registration(name: &str) -> WorkerRegistration {
    WorkerRegistration {
        memory_gb: 16.0,
        cpu_cores: 4,
        cuda_devices: 0,
        backends: None,
        name: Some(name.into()),
        labels: vec![],
    }
}

fn tests(n: usize) -> Vec<TestRequest> {
    (0..n)
        .map(|i| TestRequest {
            priority: (i % 5) as u8 + 1,
            expected_duration_s: Some(1.0),
            ..TestRequest::default()
        })
        .collect()
}

/// Runs one lease to completion; the test id if the server acknowledged it.
fn run_one(c: &Client, worker: u64, wait_s: f64) -> Result<Option<u64>, ClientError> {
    let Some(lease) = c.get_next_assignment(worker, wait_s)? else {
        return Ok(None);
    };
    c.update_assignment_status(&lease.lease_id, AssignmentStatus::Running)?;
    let done = AssignmentStatus::Completed {
        run_time_s: 0.0,
        result: Some(serde_json::json!({"ok": true})),
    };
    c.update_assignment_status(&lease.lease_id, done)?;
    Ok(Some(lease.test_id))
}

/// Runs `n` tests to completion with `workers` concurrent fake workers, each
/// trying at most `rounds` leases; the completed test ids, sorted.
fn drain_with_workers(url: &str, n: usize, workers: usize, rounds: usize) -> Vec<u64> {
    let done = Mutex::new(Vec::new());
    let count = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for i in 0..workers {
            let (done, count) = (&done, &count);
            s.spawn(move || {
                let c = Client::new(url, None);
                let w = c.register_worker(&registration(&format!("w{i}")));
                let w = w.unwrap().worker_id;
                for _ in 0..rounds {
                    if count.load(Ordering::SeqCst) >= n {
                        break;
                    }
                    if let Some(t) = run_one(&c, w, 0.2).unwrap() {
                        done.lock().unwrap().push(t);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_unstable();
    done
}

#[test]
fn concurrent_workers_complete_every_test_exactly_once() {
    let dir = temp_dir("serve-many");
    let mut server = Server::start(&dir, &[]);
    let n = 600;
    let ids = server.client().submit_tests(tests(n)).unwrap().test_ids;
    assert_eq!(ids, (1..=n as u64).collect::<Vec<_>>());
    let done = drain_with_workers(&server.url, n, 16, 5_000);
    assert_eq!(done, ids, "every test completed exactly once");
    let all = server.client().all_tests(0).unwrap();
    assert!(all
        .iter()
        .all(|t| t.state == TestState::Completed && t.runs.len() == 1));
    assert_eq!(all[0].result, Some(serde_json::json!({"ok": true})));
    let status = server.terminate().expect("stops within 30 s");
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
}

#[test]
fn kill_nine_five_times_loses_nothing_acknowledged() {
    let dir = temp_dir("serve-kill9");
    let submitted = Mutex::new(Vec::new());
    let completed = Mutex::new(Vec::new());
    for round in 0..5u64 {
        let mut server = Server::start(&dir, &["--heartbeat-timeout", "1"]);
        let url = server.url.clone();
        std::thread::scope(|s| {
            let (submitted, completed, url) = (&submitted, &completed, &url);
            s.spawn(move || {
                let c = Client::new(url, None);
                for _ in 0..400 {
                    match c.submit_tests(tests(5)) {
                        Ok(s) => submitted.lock().unwrap().extend(s.test_ids),
                        Err(_) => break,
                    }
                }
            });
            for i in 0..4 {
                s.spawn(move || {
                    // This server stays dead: no report is sent again.
                    let c = Client::new(url, None).with_report_retry(Duration::ZERO);
                    let Ok(me) = c.register_worker(&registration(&format!("r{round}w{i}"))) else {
                        return;
                    };
                    for _ in 0..4_000 {
                        match run_one(&c, me.worker_id, 0.05) {
                            Ok(Some(t)) => completed.lock().unwrap().push(t),
                            Ok(None) => {}
                            Err(e) if e.status().is_some() => {} // a lease gone stale: fine
                            Err(_) => break,                     // the server died
                        }
                    }
                });
            }
            // Kill at a different moment each round.
            std::thread::sleep(Duration::from_millis(150 + 90 * round));
            server.kill9();
        });
    }
    let server = Server::start(&dir, &[]);
    let c = server.client();
    let all = c.all_tests(0).unwrap();
    let submitted = submitted.into_inner().unwrap();
    let completed = completed.into_inner().unwrap();
    assert!(
        submitted.len() >= 25 && !completed.is_empty(),
        "work happened"
    );
    let known: BTreeSet<u64> = all.iter().map(|t| t.test_id).collect();
    for id in &submitted {
        assert!(known.contains(id), "acknowledged submission {id} was lost");
    }
    let unique: BTreeSet<u64> = completed.iter().copied().collect();
    assert_eq!(unique.len(), completed.len(), "a test was completed twice");
    for t in &all {
        let wins = t
            .runs
            .iter()
            .filter(|r| r.outcome.as_deref() == Some("completed"))
            .count();
        assert!(wins <= 1, "test {} has {wins} completed runs", t.test_id);
        if unique.contains(&t.test_id) {
            assert_eq!(
                t.state,
                TestState::Completed,
                "acknowledged result of {} lost",
                t.test_id
            );
        }
    }
}

#[test]
fn auth_malformed_oversized_unknown_and_stale_requests_are_refused() {
    let dir = temp_dir("serve-refuse");
    let server = Server::start_with_env(&dir, &[], &[("LB_TOKEN", "s3cret")]);
    let u = |p: &str| format!("{}{p}", server.url);
    let good = [("Authorization", "Bearer s3cret")];
    assert_eq!(raw("GET", &u("/v1/status"), &[], b"").0, 401);
    assert_eq!(
        raw(
            "GET",
            &u("/v1/status"),
            &[("Authorization", "Bearer s3crex")],
            b""
        )
        .0,
        401
    );
    assert_eq!(raw("GET", &u("/v1/status"), &good, b"").0, 200);
    assert_eq!(raw("GET", &u("/healthz"), &[], b"").0, 200);
    let huge = vec![b' '; (1 << 20) + 1];
    assert_eq!(raw("POST", &u("/v1/workers"), &good, &huge).0, 413);
    // Submissions may be larger (a field over its limit is named): 8 MiB.
    let huge = vec![b' '; (8 << 20) + 1];
    assert_eq!(raw("POST", &u("/v1/tests"), &good, &huge).0, 413);
    let (code, body) = raw("POST", &u("/v1/tests"), &good, br#"{"priority": "x"}"#);
    assert_eq!(code, 400);
    assert!(body.contains("priority") && !body.contains('\n'), "{body}");
    let (code, body) = raw(
        "POST",
        &u("/v1/tests"),
        &good,
        br#"{"tests": [{}, {"priority": 7}]}"#,
    );
    assert_eq!(code, 400);
    assert!(body.contains("tests[1].priority"), "{body}");
    assert_eq!(raw("POST", &u("/v1/tests"), &good, b"{nope").0, 400);
    // A bare array is a common slip: the answer says what to send.
    let (code, body) = raw("POST", &u("/v1/tests"), &good, br#"[{"priority": 1}]"#);
    assert_eq!(code, 400);
    assert!(body.contains(r#"{\"tests\": [...]}"#), "{body}");
    assert_eq!(raw("GET", &u("/v1/tests/999"), &good, b"").0, 404);
    assert_eq!(
        raw("POST", &u("/v1/workers/77/heartbeat"), &good, b"{}").0,
        404
    );
    assert_eq!(raw("POST", &u("/v1/workers/x/lease"), &good, b"").0, 404);
    let c = Client::new(&server.url, Some("s3cret".into()));
    let w = c.register_worker(&registration("w")).unwrap().worker_id;
    c.submit_test(&TestRequest::default()).unwrap();
    let lease = c.get_next_assignment(w, 5.0).unwrap().expect("a lease");
    let done = || AssignmentStatus::Completed {
        run_time_s: 1.0,
        result: None,
    };
    c.update_assignment_status(&lease.lease_id, done()).unwrap();
    // A report sent again (its answer lost) gets the same answer.
    let again = c.update_assignment_status(&lease.lease_id, done());
    assert_eq!(again.unwrap().state, TestState::Completed);
    let complete = u(&format!("/v1/leases/{}/complete", lease.lease_id));
    for result in ["[]", "1", "\"s\"", "null"] {
        let body = format!(r#"{{"success": true, "run_time_s": 1, "result": {result}}}"#);
        let (code, text) = raw("POST", &complete, &good, body.as_bytes());
        assert_eq!(code, 400, "result {result}: {text}");
        assert!(text.contains("result: must be a JSON object"), "{text}");
    }
    let (code, text) = raw("POST", &u("/v1/tests"), &good, b"");
    assert_eq!(code, 400, "an empty submission creates nothing: {text}");
    assert!(text.contains("body: required"), "{text}");
    let (code, text) = raw(
        "POST",
        &u("/v1/tests"),
        &good,
        br#"{"priority": 1, "priority": 5}"#,
    );
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("duplicate field `priority`"), "{text}");
    let (code, text) = raw(
        "POST",
        &u("/v1/workers"),
        &good,
        br#"{"memory_gb": 1e6, "cpu_cores": 100000, "cuda_devices": 1000}"#,
    );
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("memory_gb"), "{text}");
    assert_eq!(
        c.status().unwrap()["tests"]["submitted"].as_u64(),
        Some(1),
        "no refused call left a trace"
    );
    let forged = format!("L1.1.{}", "0".repeat(32));
    assert_eq!(
        c.update_assignment_status(&forged, done())
            .unwrap_err()
            .status(),
        Some(409)
    );
    let bad_load = Heartbeat {
        cpu: 250.0,
        ..Heartbeat::default()
    };
    assert_eq!(
        c.update_worker_load(w, &bad_load).unwrap_err().status(),
        Some(400)
    );
}

#[test]
fn a_silent_worker_has_its_tests_requeued() {
    let dir = temp_dir("serve-silent");
    let server = Server::start(&dir, &["--heartbeat-timeout", "0.5"]);
    let c = server.client();
    let a = c.register_worker(&registration("a")).unwrap().worker_id;
    let id = c.submit_test(&TestRequest::default()).unwrap();
    let first = c.get_next_assignment(a, 5.0).unwrap().expect("a lease");
    let b = c.register_worker(&registration("b")).unwrap().worker_id;
    let mut second = None;
    for _ in 0..100 {
        c.update_worker_load(b, &Heartbeat::default()).unwrap();
        second = c.get_next_assignment(b, 0.1).unwrap();
        if second.is_some() {
            break;
        }
    }
    let second = second.expect("the silent worker's test came back");
    assert_eq!((second.test_id, second.attempt), (id, 2));
    let t = c.get_test(id).unwrap();
    assert_eq!((t.losses, t.runs[0].outcome.as_deref()), (1, Some("lost")));
    let late = c.update_worker_load(a, &Heartbeat::default()).unwrap_err();
    assert_eq!(late.status(), Some(409), "{late}");
    let stale = AssignmentStatus::Completed {
        run_time_s: 1.0,
        result: None,
    };
    assert_eq!(
        c.update_assignment_status(&first.lease_id, stale)
            .unwrap_err()
            .status(),
        Some(409)
    );
}

#[test]
fn metrics_parse_as_prometheus_text_and_openapi_names_every_route() {
    let dir = temp_dir("serve-metrics");
    let server = Server::start(&dir, &[]);
    let c = server.client();
    c.register_worker(&registration("m")).unwrap();
    c.submit_tests(tests(3)).unwrap();
    let (code, text) = raw("GET", &format!("{}/metrics", server.url), &[], b"");
    assert_eq!(code, 200);
    assert_eq!(text.lines().last(), Some("# EOF"));
    let mut samples = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let bare = name.split('{').next().unwrap();
        assert!(
            bare.starts_with("lbsim_")
                && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        samples += 1;
    }
    assert!(text.contains("lbsim_tests{state=\"assigned\"} 3"), "{text}");
    assert!(text.contains("lbsim_tests_submitted_total 3"), "{text}");
    assert!(
        text.contains("lbsim_scheduling_latency_seconds_count 3"),
        "{text}"
    );
    assert!(
        text.contains("route=\"/v1/tests\",method=\"POST\",code=\"201\""),
        "{text}"
    );
    assert!(samples > 20);
    let (code, doc) = raw("GET", &format!("{}/openapi.json", server.url), &[], b"");
    assert_eq!(code, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    // Every documented path and method is routed (never the fallback), and
    // the document names the 15 API calls and the 4 other routes.
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{id}", "1")
            .replace("{lease_id}", &format!("L1.1.{}", "0".repeat(32)));
        for method in item.as_object().unwrap().keys() {
            let m = method.to_uppercase();
            let (code, body) = raw_method(&m, &format!("{}{concrete}", server.url));
            assert!(!body.contains("no such route"), "{m} {path}: {code} {body}");
            assert_ne!(code, 405, "{m} {path}");
            operations += 1;
        }
    }
    assert_eq!(operations, 15 + 4, "{doc}");
    assert_eq!(raw_method("GET", &format!("{}/v1/nope", server.url)).0, 404);
    // Metrics label a request by the route it matched, ids left out.
    let (_, text) = raw("GET", &format!("{}/metrics", server.url), &[], b"");
    assert!(text.contains("route=\"/v1/workers/{id}/lease\""), "{text}");
    assert!(text.contains("route=\"other\""), "{text}");
}

/// A request with any method and an empty body: the status and body.
fn raw_method(method: &str, url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .body(())
        .expect("a request");
    let mut response = agent.run(request).expect("an answer");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn lbsim_worker_runs_tests_until_interrupted() {
    let dir = temp_dir("serve-worker");
    let server = Server::start(&dir, &[]);
    let worker = std::process::Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args([
            "worker",
            "--url",
            &server.url,
            "--workers",
            "3",
            "--time-scale",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let c = server.client();
    let mut registered = 0;
    for _ in 0..100 {
        registered = c.list_workers().unwrap().workers.len();
        if registered == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(registered, 3);
    let ids = c.submit_tests(tests(30)).unwrap().test_ids;
    let mut done = 0;
    for _ in 0..200 {
        done = c
            .all_tests(0)
            .unwrap()
            .iter()
            .filter(|t| t.state == TestState::Completed)
            .count();
        if done == ids.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = worker.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    let out = worker.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(done, 30);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("30 runs completed, 0 failed"), "{text}");
}

#[test]
fn a_load_run_is_measured_and_its_recording_replays() {
    let dir = temp_dir("serve-load");
    let rec = dir.join("rec.jsonl");
    let server = Server::start(&dir, &["--record", rec.to_str().unwrap()]);
    let live = dir.join("live.json");
    let out = super::common::lbsim(&[
        "load",
        "normal_operation",
        "--url",
        &server.url,
        "--speed",
        "20",
        "--tests",
        "40",
        "--output",
        live.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", super::common::stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&live).unwrap()).unwrap();
    assert_eq!(doc["metrics"]["total_tests"], 40);
    assert_eq!(doc["metrics"]["completed_tests"], 40);
    assert_eq!(doc["metrics"]["final_worker_count"], 20);
    assert_eq!(doc["run"]["end_reason"], "all_final");
    assert_eq!(doc["live"]["speed"], 20.0);
    let replayed = dir.join("replay.json");
    let (sim_log, live_log) = (dir.join("sim.csv"), dir.join("live.csv"));
    let out = super::common::lbsim(&[
        "replay",
        rec.to_str().unwrap(),
        "--scheduler",
        "round_robin",
        "--output",
        replayed.to_str().unwrap(),
        "--decisions",
        sim_log.to_str().unwrap(),
        "--live-decisions",
        live_log.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", super::common::stderr(&out));
    assert!(super::common::stdout(&out).contains("(recording): 40 records, 40 replayed"));
    let sim: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&replayed).unwrap()).unwrap();
    assert_eq!(sim["metrics"]["total_tests"], 40);
    assert_eq!(sim["metrics"]["completed_tests"], 40);
    assert_eq!(
        sim["configuration"]["workers"], 20,
        "the pool at the first submission"
    );
    let diff = super::common::lbsim(&[
        "diff",
        live.to_str().unwrap(),
        replayed.to_str().unwrap(),
        "--tolerance",
        "100000",
    ]);
    assert!(diff.status.success(), "{}", super::common::stderr(&diff));
    // The live decisions, named as the replay names tests and workers.
    let live_rows = std::fs::read_to_string(&live_log).unwrap();
    let mut lines = live_rows.lines();
    assert_eq!(
        lines.next(),
        Some("time,test,worker,policy,score,candidates,attempt")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() >= 40, "one row per assignment: {}", rows.len());
    assert!(rows
        .iter()
        .all(|r| r[3] == "performance_based" && r[1].starts_with("test-0000")));
    let tests: BTreeSet<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(tests.len(), 40, "every test was assigned");
    let decisions = super::common::lbsim(&[
        "diff",
        live_log.to_str().unwrap(),
        sim_log.to_str().unwrap(),
    ]);
    let code = decisions.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{}",
        super::common::stderr(&decisions)
    );
    assert!(super::common::stdout(&decisions).contains("decisions"));
}

fn sized(memory_gb: f64, priority: u8) -> TestRequest {
    TestRequest {
        memory_gb,
        priority,
        expected_duration_s: Some(1.0),
        ..TestRequest::default()
    }
}

#[test]
fn the_plain_queue_hands_each_worker_the_most_urgent_oldest_test_that_fits() {
    let dir = temp_dir("serve-plain");
    let mut server = Server::start(&dir, &["--disable-load-balancer"]);
    let c = server.client();
    // 3 GB, of which 80 % is usable: two 1 GB tests.
    let small = WorkerRegistration {
        memory_gb: 3.0,
        ..registration("small")
    };
    let small = c.register_worker(&small).unwrap().worker_id;
    let big = c.register_worker(&registration("big")).unwrap().worker_id;
    let wanted = [sized(1.0, 3), sized(8.0, 1), sized(1.0, 1), sized(1.0, 1)];
    let ids = c.submit_tests(wanted.to_vec()).unwrap().test_ids;
    let lease = |w| c.get_next_assignment(w, 0.0).unwrap().map(|l| l.test_id);
    // Test 2 is the most urgent, but only the big worker holds it.
    assert_eq!(lease(small), Some(ids[2]));
    assert_eq!(lease(small), Some(ids[3]));
    assert_eq!(lease(small), None, "its usable memory is taken");
    assert_eq!(lease(big), Some(ids[1]));
    assert_eq!(lease(big), Some(ids[0]));
    let status = c.status().unwrap();
    assert_eq!(status["scheduler"], "plain_queue");
    assert!(server.terminate().expect("stops").success());
}

#[test]
fn the_plain_queue_completes_every_test_exactly_once() {
    let dir = temp_dir("serve-plain-many");
    let mut server = Server::start(&dir, &["--disable-load-balancer"]);
    let n = 200;
    let ids = server.client().submit_tests(tests(n)).unwrap().test_ids;
    let done = drain_with_workers(&server.url, n, 8, 2_000);
    assert_eq!(done, ids, "every test completed exactly once");
    assert!(server.terminate().expect("stops").success());
}

#[test]
fn the_plain_queue_takes_no_policy() {
    let dir = temp_dir("serve-plain-policy");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args([
            "serve",
            "--port",
            "0",
            "--disable-load-balancer",
            "--scheduler",
            "random",
        ])
        .arg("--db-path")
        .arg(dir.join("db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--disable-load-balancer"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
