//! Tests that carry work through `lbsim serve`: every new field stored and
//! shown, each bad one refused naming it, labels in placement, retries,
//! cancellation (pending and running), log tails, learned durations, a
//! restart that keeps it all, and recordings old and new replayed with
//! the measured run times. Workers are played by the test through the
//! client's lease calls.

use super::common::{lbsim, path_str, stderr, stdout, temp_dir};
use super::serve_support::Server;
use lbsim::client::{AssignmentStatus, Client};
use lbsim::service::api::{
    Completion, Heartbeat, Lease, RunOutcome, TestRequest, TestState, WorkerRegistration,
};
use std::collections::BTreeMap;

fn worker(name: &str, labels: &[&str]) -> WorkerRegistration {
    WorkerRegistration {
        memory_gb: 16.0,
        cpu_cores: 4,
        cuda_devices: 0,
        backends: None,
        name: Some(name.into()),
        labels: labels.iter().map(|l| l.to_string()).collect(),
    }
}

fn named(name: &str) -> TestRequest {
    TestRequest {
        name: Some(name.into()),
        ..TestRequest::default()
    }
}

/// The worker's next lease, which must come within a few seconds.
fn lease(c: &Client, w: u64) -> Lease {
    c.get_next_assignment(w, 5.0)
        .unwrap()
        .expect("a lease within 5 s")
}

fn report(outcome: RunOutcome, run_time_s: f64, exit_code: Option<i32>) -> Completion {
    Completion {
        outcome: Some(outcome),
        exit_code,
        log_tail: Some(format!("ran {run_time_s}s: {}\n", outcome.as_str())),
        ..Completion::new(outcome == RunOutcome::Passed, run_time_s)
    }
}

/// Leases, starts and reports one run.
fn run_once(c: &Client, w: u64, outcome: RunOutcome, run_time_s: f64) -> Lease {
    let l = lease(c, w);
    c.update_assignment_status(&l.lease_id, AssignmentStatus::Running)
        .unwrap();
    let code = match outcome {
        RunOutcome::Passed => Some(0),
        RunOutcome::Failed => Some(3),
        _ => None,
    };
    c.complete_lease(&l.lease_id, &report(outcome, run_time_s, code))
        .unwrap();
    l
}

fn refusal(c: &Client, t: TestRequest) -> (Option<u16>, String) {
    let e = c.submit_test(&t).expect_err("refused");
    (e.status(), e.to_string())
}

#[test]
fn every_work_field_is_kept_and_every_bad_one_is_refused_by_name() {
    let dir = temp_dir("serve-work-fields");
    let server = Server::start(&dir, &[]);
    let c = server.client();
    let env: BTreeMap<String, String> = [("FOO".to_string(), "bar baz".to_string())].into();
    let full = TestRequest {
        name: Some("tests/test_bert.py::test_fp16".into()),
        command: Some(vec!["sh".into(), "-c".into(), "echo $FOO; exit 3".into()]),
        env: Some(env),
        timeout_s: Some(30.0),
        max_retries: 2,
        labels: vec!["gpu:a100".into(), "os=linux".into()],
        expected_duration_s: Some(12.5),
        ..TestRequest::default()
    };
    let id = c.submit_test(&full).unwrap();
    let view = c.get_test(id).unwrap();
    assert_eq!(view.requirements, full);

    let big_env = TestRequest {
        env: Some([("BIG".to_string(), "x".repeat(2 << 20))].into()),
        ..TestRequest::default()
    };
    let (status, msg) = refusal(&c, big_env);
    assert_eq!(status, Some(400), "{msg}");
    assert!(msg.contains("env.BIG: "), "{msg}");
    let many = TestRequest {
        command: Some(vec!["x".into(); 10_000]),
        ..TestRequest::default()
    };
    let (status, msg) = refusal(&c, many);
    assert_eq!(status, Some(400), "{msg}");
    assert!(msg.contains(": command: "), "{msg}");
    let nul = TestRequest {
        labels: vec!["ok".into(), "bad\0label".into()],
        ..TestRequest::default()
    };
    let (status, msg) = refusal(&c, nul);
    assert_eq!(status, Some(400), "{msg}");
    assert!(msg.contains("labels[1]: "), "{msg}");
    for (t, field) in [
        (
            TestRequest {
                timeout_s: Some(0.0),
                ..TestRequest::default()
            },
            "timeout_s: ",
        ),
        (
            TestRequest {
                max_retries: 11,
                ..TestRequest::default()
            },
            "max_retries: ",
        ),
        (
            TestRequest {
                name: Some("n".repeat(513)),
                ..TestRequest::default()
            },
            "name: ",
        ),
    ] {
        let (status, msg) = refusal(&c, t);
        assert_eq!(status, Some(400), "{msg}");
        assert!(msg.contains(field), "{msg}");
    }
    let bad_worker = c.register_worker(&worker("w", &["no spaces allowed"]));
    let e = bad_worker.expect_err("refused");
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("labels[0]: "), "{e}");
}

#[test]
fn a_test_runs_only_on_a_worker_carrying_all_its_labels() {
    let dir = temp_dir("serve-work-labels");
    let server = Server::start(&dir, &[]);
    let c = server.client();
    let plain = c.register_worker(&worker("plain", &[])).unwrap().worker_id;
    let gpu = c
        .register_worker(&worker("gpu", &["gpu:a100", "os=linux"]))
        .unwrap()
        .worker_id;
    let labelled = TestRequest {
        labels: vec!["gpu:a100".into()],
        ..TestRequest::default()
    };
    let ids = c.submit_tests(vec![labelled; 3]).unwrap().test_ids;
    assert_eq!(c.get_next_assignment(plain, 0.2).unwrap(), None);
    let mut leased: Vec<u64> = (0..3).map(|_| lease(&c, gpu).test_id).collect();
    leased.sort();
    assert_eq!(leased, ids);
    // An unlabelled test may run anywhere; a label nobody carries, nowhere.
    let free = c.submit_test(&TestRequest::default()).unwrap();
    assert_eq!(lease(&c, plain).test_id, free);
    let nobody = TestRequest {
        labels: vec!["tpu".into()],
        ..TestRequest::default()
    };
    let answer = c.submit_tests(vec![nobody]).unwrap();
    assert_eq!(answer.rejected.len(), 1, "{answer:?}");
    assert!(answer.rejected[0].reason.contains("labels"), "{answer:?}");
}

#[test]
fn a_report_hands_its_worker_the_next_lease_when_asked() {
    let dir = temp_dir("serve-work-next");
    let server = Server::start(&dir, &[]);
    let c = server.client();
    let w = c.register_worker(&worker("w", &[])).unwrap().worker_id;
    let ids = c.submit_tests(vec![named("t"); 3]).unwrap().test_ids;
    let unnamed = Completion {
        next: true,
        ..report(RunOutcome::Passed, 0.1, Some(0))
    };
    let mut held = lease(&c, w);
    let e = c.complete_lease(&held.lease_id, &unnamed).unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(e.to_string().contains("next: needs worker_id"), "{e}");
    let ask = Completion {
        worker_id: Some(w),
        ..unnamed
    };
    let mut ran = vec![held.test_id];
    for _ in 0..ids.len() {
        let ack = c.complete_lease(&held.lease_id, &ask).unwrap();
        assert_eq!(ack.state, TestState::Completed);
        match ack.next {
            Some(next) => {
                ran.push(next.test_id);
                held = next;
            }
            None => break,
        }
    }
    ran.sort();
    assert_eq!(ran, ids, "one report per test, each handing on the next");
    for id in ids {
        let t = c.get_test(id).unwrap();
        assert_eq!((t.state, t.worker_id), (TestState::Completed, Some(w)));
    }
    assert_eq!(c.get_next_assignment(w, 0.1).unwrap(), None);
}

#[test]
fn failed_runs_are_retried_up_to_max_retries_each_recorded() {
    let dir = temp_dir("serve-work-retries");
    let server = Server::start(&dir, &[]);
    let c = server.client();
    let w = c.register_worker(&worker("w", &[])).unwrap().worker_id;
    let flaky = TestRequest {
        max_retries: 2,
        ..named("flaky")
    };
    let id = c.submit_test(&flaky).unwrap();
    run_once(&c, w, RunOutcome::Failed, 1.0);
    // Pending again, and at once placed on the idle worker.
    let view = c.get_test(id).unwrap();
    assert!(!view.state.is_final(), "{view:?}");
    assert_eq!(view.runs[0].outcome.as_deref(), Some("failed"));
    let second = run_once(&c, w, RunOutcome::TimedOut, 2.0);
    assert_eq!(second.attempt, 2);
    // A report sent again (its answer lost) is answered, not refused.
    let again = c
        .complete_lease(&second.lease_id, &report(RunOutcome::TimedOut, 2.0, None))
        .unwrap();
    assert_eq!(again.test_id, id);
    run_once(&c, w, RunOutcome::Passed, 3.0);
    let view = c.get_test(id).unwrap();
    assert_eq!((view.state, view.attempts), (TestState::Completed, 3));
    let outcomes: Vec<_> = view.runs.iter().map(|r| r.outcome.clone()).collect();
    let want = ["failed", "timed_out", "completed"].map(|s| Some(s.to_string()));
    assert_eq!(outcomes, want);
    let times: Vec<_> = view.runs.iter().map(|r| r.run_time_s).collect();
    assert_eq!(times, [Some(1.0), Some(2.0), Some(3.0)]);
    assert_eq!(view.runs[0].exit_code, Some(3));
    assert_eq!(view.exit_code, Some(0));

    // Out of retries: the last outcome is final.
    let once = TestRequest {
        max_retries: 1,
        ..named("slow")
    };
    let id = c.submit_test(&once).unwrap();
    run_once(&c, w, RunOutcome::Failed, 1.0);
    run_once(&c, w, RunOutcome::TimedOut, 1.0);
    let view = c.get_test(id).unwrap();
    assert_eq!((view.state, view.runs.len()), (TestState::TimedOut, 2));
    let id = c.submit_test(&named("plain")).unwrap();
    run_once(&c, w, RunOutcome::Failed, 1.0);
    assert_eq!(c.get_test(id).unwrap().state, TestState::Failed);
}

#[test]
fn cancel_ends_a_pending_test_at_once_and_a_running_one_through_its_worker() {
    let dir = temp_dir("serve-work-cancel");
    let server = Server::start(&dir, &[]);
    let c = server.client();
    let pending = c.submit_test(&named("waits")).unwrap();
    let view = c.cancel_test(pending).unwrap();
    assert_eq!(view.state, TestState::Cancelled);
    let e = c.cancel_test(pending).expect_err("final already");
    assert_eq!(e.status(), Some(409), "{e}");
    assert_eq!(
        c.cancel_test(999).expect_err("no such test").status(),
        Some(404)
    );

    let w = c.register_worker(&worker("w", &[])).unwrap().worker_id;
    let running = c.submit_test(&named("runs")).unwrap();
    let l = lease(&c, w);
    assert_eq!(l.test_id, running);
    c.update_assignment_status(&l.lease_id, AssignmentStatus::Running)
        .unwrap();
    assert_eq!(c.cancel_test(running).unwrap().state, TestState::Cancelled);
    let beat = Heartbeat {
        leases: Some(vec![l.lease_id.clone()]),
        ..Heartbeat::default()
    };
    let reply = c.update_worker_load(w, &beat).unwrap();
    assert_eq!(reply.cancel, vec![l.lease_id.clone()]);
    let e = c
        .update_assignment_status(&l.lease_id, AssignmentStatus::Running)
        .expect_err("cancelled");
    assert_eq!(e.status(), Some(409));
    assert!(e.to_string().contains("test cancelled"), "{e}");
    let e = c
        .complete_lease(&l.lease_id, &report(RunOutcome::Passed, 1.0, Some(0)))
        .expect_err("cancelled");
    assert_eq!(e.status(), Some(409));
    let stopped = report(RunOutcome::Cancelled, 0.7, None);
    for _ in 0..2 {
        let ack = c.complete_lease(&l.lease_id, &stopped).unwrap();
        assert_eq!(ack.state, TestState::Cancelled);
    }
    let view = c.get_test(running).unwrap();
    assert_eq!(view.runs[0].outcome.as_deref(), Some("cancelled"));
    assert_eq!(view.runs[0].run_time_s, Some(0.7));
    assert!(c.test_log(running).unwrap().contains("cancelled"));
    // The worker is free again: the next test goes to it.
    let next = c.submit_test(&named("next")).unwrap();
    assert_eq!(lease(&c, w).test_id, next);
    let status = c.status().unwrap();
    assert_eq!(status["tests"]["cancelled"], 2, "{status}");
    let out = lbsim(&["cancel", "--url", &server.url, &next.to_string(), "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("test {next}: cancelled")), "{text}");
    assert!(text.contains("test 1: not cancelled"), "{text}");
}

#[test]
fn logs_learned_durations_and_new_fields_survive_a_restart() {
    let dir = temp_dir("serve-work-restart");
    let mut server = Server::start(&dir, &[]);
    let c = server.client();
    let w = c
        .register_worker(&worker("w", &["os=linux"]))
        .unwrap()
        .worker_id;
    let mut last = 0;
    for run_time in [2.0, 9.0, 4.0] {
        last = c.submit_test(&named("t::learned")).unwrap();
        run_once(&c, w, RunOutcome::Passed, run_time);
    }
    assert_eq!(c.test_log(last).unwrap(), "ran 4s: passed\n");
    let never = c.submit_test(&named("never")).unwrap();
    let e = c.test_log(never).expect_err("no log yet");
    assert_eq!(e.status(), Some(404), "{e}");
    let learned = c.submit_test(&named("t::learned")).unwrap();
    let unknown = c.submit_test(&named("t::unknown")).unwrap();
    let duration = |id| c.get_test(id).unwrap().requirements.expected_duration_s;
    assert_eq!(duration(learned), Some(4.0));
    assert_eq!(duration(unknown), Some(60.0));
    let before = c.get_test(last).unwrap();

    assert_eq!(server.terminate().map(|s| s.success()), Some(true));
    let server = Server::start(&dir, &[]);
    let c = server.client();
    let after = c.get_test(last).unwrap();
    assert_eq!(after.runs, before.runs);
    assert_eq!((after.exit_code, after.has_log), (Some(0), true));
    assert_eq!(c.test_log(last).unwrap(), "ran 4s: passed\n");
    let again = c.submit_test(&named("t::learned")).unwrap();
    assert_eq!(
        c.get_test(again).unwrap().requirements.expected_duration_s,
        Some(4.0)
    );
    let labelled = TestRequest {
        labels: vec!["os=linux".into()],
        ..TestRequest::default()
    };
    assert!(c.submit_tests(vec![labelled]).unwrap().rejected.is_empty());
}

/// A replay's per-test CSV as (test, outcome, run time), in test order.
fn run_times(csv: &std::path::Path) -> Vec<(String, String, f64)> {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (id, outcome) = (col("id"), col("outcome"));
    let (start, end) = (col("started_at"), col("finished_at"));
    let mut rows: Vec<_> = lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let at = |i: usize| c[i].parse::<f64>().unwrap();
            let run = ((at(end) - at(start)) * 1e3).round() / 1e3;
            (c[id].to_string(), c[outcome].to_string(), run)
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[test]
fn recordings_of_real_runs_replay_with_their_measured_run_times() {
    let dir = temp_dir("serve-work-replay");
    let rec = dir.join("rec.jsonl");
    let mut server = Server::start(&dir, &["--record", path_str(&rec)]);
    let c = server.client();
    let w = c.register_worker(&worker("w", &[])).unwrap().worker_id;
    let retried = TestRequest {
        max_retries: 1,
        expected_duration_s: Some(5.0),
        ..named("retried")
    };
    c.submit_test(&retried).unwrap();
    run_once(&c, w, RunOutcome::Failed, 0.5);
    run_once(&c, w, RunOutcome::Passed, 1.5);
    let plain = TestRequest {
        expected_duration_s: Some(5.0),
        ..named("plain")
    };
    c.submit_test(&plain).unwrap();
    run_once(&c, w, RunOutcome::Passed, 2.5);
    let cancelled = c.submit_test(&plain).unwrap();
    c.cancel_test(cancelled).unwrap();
    assert_eq!(server.terminate().map(|s| s.success()), Some(true));
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        text.contains(r#""outcome":"failed","retried":true"#),
        "{text}"
    );
    assert!(text.contains(r#""name":"retried""#), "{text}");

    let csv = dir.join("tests.csv");
    let out = lbsim(&["replay", path_str(&rec), "--csv", path_str(&csv)]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The expected durations said 5 s; the runs measured 1.5 s (after a
    // retried failure) and 2.5 s; the cancelled test replays as a failure.
    let times = run_times(&csv);
    let want = [("completed", 1.5), ("completed", 2.5), ("failed", 0.0)];
    let got: Vec<_> = times.iter().map(|(_, o, r)| (o.as_str(), *r)).collect();
    assert_eq!(got, want, "{times:?}");

    // A recording from before these fields replays as it did.
    let old = dir.join("old.jsonl");
    let lines = [
        r#"{"t":0.0,"fact":"session","lbsim_recording":1,"scheduler":"least_loaded"}"#,
        r#"{"t":0.1,"fact":"join","worker":1,"memory_gb":16.0,"memory_mib":14745,"cpu_cores":4,"cuda_devices":0,"backends":["cpu"]}"#,
        r#"{"t":0.2,"fact":"submit","test":1,"priority":3,"memory_mib":512,"cuda_devices":0,"cpu_cores":1,"backend":null,"expected_duration_s":60.0,"model_family":0,"concurrency_key":null}"#,
        r#"{"t":0.3,"fact":"assign","test":1,"worker":1,"attempt":1}"#,
        r#"{"t":0.4,"fact":"start","test":1,"attempt":1}"#,
        r#"{"t":3.4,"fact":"complete","test":1,"attempt":1,"success":true,"run_time_s":3.0}"#,
    ];
    std::fs::write(&old, lines.join("\n") + "\n").unwrap();
    let out = lbsim(&["replay", path_str(&old), "--csv", path_str(&csv)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let times = run_times(&csv);
    assert_eq!(
        (times[0].1.as_str(), times[0].2),
        ("completed", 3.0),
        "{times:?}"
    );
}
