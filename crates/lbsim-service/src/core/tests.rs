//! Unit tests of the core: lifecycles, stale leases, losses, restores.

use super::*;
use crate::api::{Completion, Heartbeat, TestRequest, TestState, WorkerRegistration};
use crate::store::{Op, RunRow, Snapshot, TestRow, WorkerRow};

const SECOND: u64 = 1_000_000;

fn core() -> Core {
    let cfg = CoreConfig {
        scheduler: SchedulerName::DEFAULT,
        balancing: BalancerOptions::default(),
        heartbeat_timeout_us: 10 * SECOND,
        seed: 1,
        plain_queue: false,
    };
    Core::new(cfg, true, [7; 32], 0)
}

fn worker(memory_gb: f64) -> WorkerRegistration {
    WorkerRegistration {
        memory_gb,
        cpu_cores: 4,
        cuda_devices: 0,
        backends: None,
        name: None,
        labels: vec![],
    }
}

impl Core {
    /// The ops made since the last call, as a commit would take them.
    fn commit_ops(&mut self) -> Vec<Op> {
        std::mem::take(&mut self.out).ops
    }
}

fn done(success: bool) -> Completion {
    Completion::new(success, 1.0)
}

#[test]
fn a_test_lives_submit_lease_start_complete() {
    let mut c = core();
    let w = c.register(worker(16.0), 0).unwrap().worker_id;
    let ids = c.submit(vec![TestRequest::default()], 1).test_ids;
    let (lease, _) = c.next_lease(w, 0).unwrap().unwrap();
    assert_eq!((lease.test_id, lease.attempt), (ids[0], 1));
    assert_eq!(
        c.start(&lease.lease_id, Some(w), 2).unwrap().state,
        TestState::Running
    );
    let ack = c.complete(&lease.lease_id, done(true), 3).unwrap();
    assert_eq!(ack.state, TestState::Completed);
    // A second report of the same lease changes nothing and gets the
    // first one's answer.
    assert_eq!(
        c.complete(&lease.lease_id, done(false), 4).unwrap().state,
        TestState::Completed
    );
    assert_eq!(c.counts()[TestState::Completed as usize], 1);
    let finished = c
        .out
        .ops
        .iter()
        .filter(|o| matches!(o, Op::Finished { .. }))
        .count();
    assert_eq!(finished, 1);
    assert_eq!(
        c.out.facts.len(),
        5,
        "join, submit, assign, start, complete"
    );
}

#[test]
fn unknown_and_foreign_leases_are_refused() {
    let mut c = core();
    let w = c.register(worker(16.0), 0).unwrap().worker_id;
    c.submit(vec![TestRequest::default()], 1);
    let (lease, _) = c.next_lease(w, 0).unwrap().unwrap();
    let forged = format!("L1.1.{}", "0".repeat(32));
    assert_eq!(c.start(&forged, None, 2).unwrap_err().status, 409);
    assert_eq!(c.start("nonsense", None, 2).unwrap_err().status, 404);
    assert_eq!(
        c.start(&lease.lease_id, Some(w + 1), 2).unwrap_err().status,
        409
    );
    assert_eq!(c.get_test(99).unwrap_err().status, 404);
}

#[test]
fn a_silent_worker_loses_its_runs_and_five_losses_fail_a_test() {
    let mut c = core();
    c.submit(vec![TestRequest::default()], 0);
    for round in 0..MAX_LOSSES {
        let now = u64::from(round) * 100 * SECOND;
        let w = c.register(worker(16.0), now).unwrap().worker_id;
        assert!(c.next_lease(w, 0).unwrap().is_some(), "round {round}");
        assert!(!c.expire(now + 11 * SECOND));
        assert_eq!(c.totals.worker_timeouts, u64::from(round) + 1);
        assert!(c.live_worker(w).is_err());
    }
    let t = c.get_test(1).unwrap();
    assert_eq!((t.state, t.losses, t.attempts), (TestState::Failed, 5, 5));
    assert!(t.reason.unwrap().contains("lost 5 times"));
    assert_eq!(
        t.runs
            .iter()
            .filter(|r| r.outcome.as_deref() == Some("lost"))
            .count(),
        5
    );
}

#[test]
fn a_worker_that_leaves_has_its_runs_requeued_not_lost() {
    let mut c = core();
    let a = c.register(worker(16.0), 0).unwrap().worker_id;
    c.submit(vec![TestRequest::default()], 0);
    let (first, _) = c.next_lease(a, 0).unwrap().unwrap();
    c.leave(a, SECOND).unwrap();
    let b = c.register(worker(16.0), 2 * SECOND).unwrap().worker_id;
    let (second, _) = c.next_lease(b, 0).unwrap().unwrap();
    assert_eq!((second.test_id, second.attempt), (first.test_id, 2));
    assert_eq!(
        c.complete(&first.lease_id, done(true), 3 * SECOND)
            .unwrap_err()
            .status,
        409
    );
    assert_eq!(c.get_test(1).unwrap().losses, 0);
}

#[test]
fn heartbeats_renew_and_a_draining_worker_goes_offline_after_its_last_run() {
    let mut c = core();
    let w = c.register(worker(16.0), 0).unwrap().worker_id;
    c.submit(vec![TestRequest::default()], 0);
    let (lease, _) = c.next_lease(w, 0).unwrap().unwrap();
    c.heartbeat(
        w,
        Heartbeat {
            cpu: 50.0,
            ..Heartbeat::default()
        },
        8 * SECOND,
        true,
    )
    .unwrap();
    c.expire(15 * SECOND);
    assert_eq!(
        c.totals.worker_timeouts, 0,
        "the heartbeat at 8 s renewed it"
    );
    assert_eq!(c.drain(w, 16 * SECOND).unwrap(), WorkerStatusView::Draining);
    c.complete(&lease.lease_id, done(true), 17 * SECOND)
        .unwrap();
    assert_eq!(c.get_worker(w).unwrap().status, WorkerStatusView::Offline);
}

#[test]
fn tests_wait_until_a_worker_registers_and_impossible_ones_are_rejected() {
    let mut c = core();
    let big = TestRequest {
        memory_gb: 64.0,
        ..TestRequest::default()
    };
    assert!(c.submit(vec![big.clone()], 0).rejected.is_empty());
    c.register(worker(8.0), 1).unwrap();
    assert_eq!(c.submit(vec![big], 2).rejected.len(), 1);
}

/// The store rows a core's ops would leave (enough for a restore).
fn rows_of(c: &Core) -> Snapshot {
    let mut snap = Snapshot::default();
    for (i, w) in c.workers.iter().enumerate() {
        snap.workers.push(WorkerRow {
            id: i as u64 + 1,
            registration: serde_json::to_string(&w.registration).unwrap(),
            status: format!("{:?}", w.status).to_lowercase(),
            joined_us: w.joined_us,
            left_us: w.left_us,
            reason: w.reason.clone(),
        });
    }
    for (i, t) in c.tests.iter().enumerate() {
        snap.tests.push(TestRow {
            id: i as u64 + 1,
            request: serde_json::to_string(&t.request).unwrap(),
            state: t.state.as_str().into(),
            submitted_us: t.submitted_us,
            worker: t.worker,
            lease: t.lease.clone().or_else(|| t.done_lease.clone()),
            attempts: t.attempts,
            losses: t.losses,
            first_assigned_us: t.first_assigned_us,
            started_us: t.started_us,
            finished_us: t.finished_us,
            run_time_s: t.run_time_s,
            result: t.result.clone(),
            reason: t.reason.clone(),
            exit_code: t.exit_code,
            log_tail: t.log_tail.clone(),
        });
        for r in &t.runs {
            snap.runs.push(RunRow {
                test: i as u64 + 1,
                attempt: r.attempt,
                worker: r.worker,
                assigned_us: r.assigned_us,
                started_us: r.started_us,
                ended_us: r.ended_us,
                outcome: r.outcome.map(str::to_string),
                run_time_s: r.run_time_s,
                exit_code: r.exit_code,
            });
        }
    }
    snap
}

#[test]
fn a_restore_keeps_leases_on_their_workers() {
    let mut c = core();
    let a = c.register(worker(4.0), 0).unwrap().worker_id;
    let b = c.register(worker(4.0), 0).unwrap().worker_id;
    let many = vec![
        TestRequest {
            memory_gb: 1.5,
            ..TestRequest::default()
        };
        5
    ];
    c.submit(many, 1);
    let la = c.next_lease(a, 0).unwrap().unwrap().0;
    c.start(&la.lease_id, None, 2).unwrap();
    let before: Vec<(TestState, Option<u64>)> =
        c.tests.iter().map(|t| (t.state, t.worker)).collect();
    let mut r = Core::restore(c.cfg.clone(), &rows_of(&c), false, [1; 32], 100 * SECOND);
    let after: Vec<(TestState, Option<u64>)> =
        r.tests.iter().map(|t| (t.state, t.worker)).collect();
    assert_eq!(before, after);
    assert_eq!(r.balancer.running_len(), c.balancer.running_len());
    assert_eq!(r.balancer.pending_len(), c.balancer.pending_len());
    // The old lease still completes on the restored core.
    assert_eq!(
        r.complete(&la.lease_id, done(true), 101 * SECOND)
            .unwrap()
            .state,
        TestState::Completed
    );
    // Workers get one timeout of grace from the restart.
    r.expire(105 * SECOND);
    assert_eq!(r.totals.worker_timeouts, 0);
    assert!(r.next_lease(b, 0).unwrap().is_some());
}

fn beat(leases: &[&str]) -> Heartbeat {
    Heartbeat {
        leases: Some(leases.iter().map(|l| l.to_string()).collect()),
        ..Heartbeat::default()
    }
}

#[test]
fn a_heartbeat_requeues_the_runs_its_worker_no_longer_lists_and_names_unknown_leases() {
    let mut c = core();
    let w = c.register(worker(16.0), 0).unwrap().worker_id;
    c.submit(vec![TestRequest::default(), TestRequest::default()], 0);
    let (a, _) = c.next_lease(w, SECOND).unwrap().unwrap();
    c.start(&a.lease_id, None, SECOND).unwrap();
    // Handed out after this heartbeat was sent, perhaps: left alone.
    let forged = format!("L9.1.{}", "0".repeat(32));
    let reply = c.heartbeat(w, beat(&[&forged]), 2 * SECOND, true).unwrap();
    assert_eq!(
        reply.cancel,
        vec![forged],
        "a lease the server never issued"
    );
    assert_eq!(c.get_test(a.test_id).unwrap().state, TestState::Running);
    let (b, _) = c.next_lease(w, 3 * SECOND).unwrap().unwrap();
    // Handed before the previous heartbeat and not listed now: lost.
    let reply = c
        .heartbeat(w, beat(&[&b.lease_id]), 4 * SECOND, true)
        .unwrap();
    assert_eq!(reply.cancel, vec![a.lease_id.clone()]);
    let t = c.get_test(a.test_id).unwrap();
    assert_eq!((t.losses, t.runs[0].outcome.as_deref()), (1, Some("lost")));
    assert_eq!(
        c.complete(&a.lease_id, done(true), 5 * SECOND)
            .unwrap_err()
            .status,
        409
    );
    // Without a list nothing is reconciled.
    c.heartbeat(w, Heartbeat::default(), 6 * SECOND, true)
        .unwrap();
    assert_eq!(c.get_test(b.test_id).unwrap().state, TestState::Assigned);
}

#[test]
fn a_report_sent_again_gets_the_same_answer_also_after_a_restart() {
    let mut c = core();
    let w = c.register(worker(16.0), 0).unwrap().worker_id;
    c.submit(vec![TestRequest::default()], 0);
    let (a, _) = c.next_lease(w, 0).unwrap().unwrap();
    c.start(&a.lease_id, None, 1).unwrap();
    let first = c.complete(&a.lease_id, done(true), 2).unwrap();
    let again = c.complete(&a.lease_id, done(false), 3).unwrap();
    assert_eq!(
        (first.state, again.state),
        (TestState::Completed, TestState::Completed)
    );
    assert_eq!(
        c.start(&a.lease_id, None, 4).unwrap().state,
        TestState::Completed
    );
    assert_eq!(c.totals.completed, 1);
    let mut r = Core::restore(c.cfg.clone(), &rows_of(&c), false, [1; 32], 10);
    assert_eq!(
        r.complete(&a.lease_id, done(true), 11).unwrap().state,
        TestState::Completed
    );
    assert_eq!(r.totals.completed, 0, "nothing completed twice");
}

#[test]
fn a_lost_worker_with_many_runs_is_requeued_a_bounded_step_at_a_time() {
    let mut c = core();
    let w = c
        .register(
            WorkerRegistration {
                memory_gb: 100.0,
                cpu_cores: 4096,
                ..worker(100.0)
            },
            0,
        )
        .unwrap()
        .worker_id;
    let tiny = TestRequest {
        memory_gb: 0.0,
        ..TestRequest::default()
    };
    c.submit(vec![tiny; 2500], 0);
    while c.work_losses(0) {}
    assert_eq!(c.balancer.running_len(), 2500);
    let _ = c.commit_ops();
    let mut steps = Vec::new();
    let mut more = c.expire(20 * SECOND);
    steps.push(c.commit_ops().len());
    while more {
        more = c.work_losses(20 * SECOND);
        steps.push(c.commit_ops().len());
    }
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(steps.iter().all(|&n| n <= 1_001), "{steps:?}");
    assert_eq!(c.balancer.pending_len(), 2500);
    assert_eq!(c.get_worker(w).unwrap().status, WorkerStatusView::Offline);
    assert!(c
        .tests
        .iter()
        .all(|t| t.state == TestState::Pending && t.losses == 1));
}

#[test]
fn a_registration_beyond_any_real_machine_is_refused_naming_the_field() {
    let mut c = core();
    for (r, field) in [
        (
            WorkerRegistration {
                memory_gb: 1e6,
                ..worker(1.0)
            },
            "memory_gb",
        ),
        (
            WorkerRegistration {
                cpu_cores: 100_000,
                ..worker(1.0)
            },
            "cpu_cores",
        ),
        (
            WorkerRegistration {
                cuda_devices: 1000,
                ..worker(1.0)
            },
            "cuda_devices",
        ),
    ] {
        let e = c.register(r, 0).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.starts_with(field), "{}", e.message);
    }
}

#[test]
fn a_worker_that_could_take_many_waiting_tests_gets_them_a_bounded_pass_at_a_time() {
    let mut c = core();
    let tiny = TestRequest {
        memory_gb: 0.0,
        ..TestRequest::default()
    };
    c.submit(vec![tiny; 2500], 0);
    assert_eq!(c.balancer.pending_len(), 2500);
    let big = WorkerRegistration {
        memory_gb: 100.0,
        cpu_cores: 4096,
        ..worker(100.0)
    };
    let w = c.register(big, SECOND).unwrap().worker_id;
    // One pass under the registration's lock hold: at most one step.
    assert_eq!(c.balancer.running_len(), SCHEDULE_STEP);
    assert!(c.scheduling_left());
    let mut passes = 1;
    loop {
        let more = c.work_losses(2 * SECOND);
        passes += 1;
        assert!(c.balancer.running_len() <= passes * SCHEDULE_STEP);
        if !more {
            break;
        }
    }
    assert_eq!(passes, 3);
    assert!(!c.scheduling_left());
    assert_eq!(c.balancer.pending_len(), 0);
    // Placed in submission order, as one whole pass would.
    let held = &c.get_worker(w).unwrap().tests;
    assert_eq!(held.len(), 2500);
    assert!(held.windows(2).all(|p| p[0] < p[1]), "not in order");
}

#[test]
fn a_cancelled_pending_test_leaves_the_queue_and_a_parked_one_its_key() {
    let mut c = core();
    let keyed = TestRequest {
        concurrency_key: Some("k".into()),
        ..TestRequest::default()
    };
    let ids = c.submit(vec![keyed.clone(), keyed, TestRequest::default()], 0);
    assert_eq!(c.balancer.live_len(), 3);
    // The second waits for its key: it leaves the key's line.
    let view = c.cancel(ids.test_ids[1], 1).unwrap();
    assert_eq!(view.state, TestState::Cancelled);
    assert_eq!((c.balancer.live_len(), c.balancer.pending_len()), (2, 2));
    c.cancel(ids.test_ids[0], 2).unwrap();
    c.cancel(ids.test_ids[2], 2).unwrap();
    assert_eq!(c.balancer.pending_len(), 0);
    assert_eq!(c.balancer.live_len(), 0);
    assert_eq!(c.cancel(ids.test_ids[2], 3).unwrap_err().status, 409);
    assert_eq!(c.counts()[TestState::Cancelled as usize], 3);
    let w = c.register(worker(16.0), 4).unwrap().worker_id;
    assert!(c.next_lease(w, 5).unwrap().is_none(), "nothing left to run");
}

#[test]
fn labels_take_bits_the_fit_check_tests_and_run_out_at_56() {
    let mut c = core();
    let plain = c.register(worker(16.0), 0).unwrap().worker_id;
    let labelled = WorkerRegistration {
        labels: vec!["gpu".into()],
        ..worker(16.0)
    };
    let gpu = c.register(labelled, 0).unwrap().worker_id;
    let t = TestRequest {
        labels: vec!["gpu".into()],
        ..TestRequest::default()
    };
    let id = c.submit(vec![t], 1).test_ids[0];
    assert_eq!(c.get_test(id).unwrap().worker_id, Some(gpu));
    assert_ne!(gpu, plain);
    let labels = |from: usize, to: usize| (from..to).map(|i| format!("l{i}")).collect();
    let more = WorkerRegistration {
        labels: labels(0, 30),
        ..worker(1.0)
    };
    assert!(c.register(more, 2).is_ok());
    let last = WorkerRegistration {
        labels: labels(30, 55),
        ..worker(1.0)
    };
    assert!(c.register(last.clone(), 2).is_ok(), "56 labels in all");
    let over = WorkerRegistration {
        labels: vec!["one-more".into()],
        ..last
    };
    assert_eq!(c.register(over, 3).unwrap_err().status, 400);
}

#[test]
fn a_report_that_asks_for_next_is_answered_with_the_workers_next_lease() {
    let mut c = core();
    let w = c.register(worker(16.0), 0).unwrap().worker_id;
    c.submit(vec![TestRequest::default(); 3], 1);
    let ask = Completion {
        worker_id: Some(w),
        next: true,
        ..done(true)
    };
    let (mut lease, _) = c.next_lease(w, 1).unwrap().unwrap();
    let mut ran = vec![lease.test_id];
    for now in 2..10 {
        let (ack, seq) = c
            .complete_then_next(&lease.lease_id, ask.clone(), now)
            .unwrap();
        assert_eq!(ack.state, TestState::Completed);
        let Some(next) = ack.next else {
            assert_eq!(seq, 0, "nothing handed, nothing to wait for");
            break;
        };
        assert!(seq > 0, "the batch that assigned it is awaited");
        ran.push(next.test_id);
        lease = next;
    }
    assert_eq!(ran, vec![1, 2, 3], "one report per test, each handing on");
    assert_eq!(c.counts()[TestState::Completed as usize], 3);
    assert_eq!(c.next_lease(w, 10).unwrap().map(|(l, _)| l), None);
}

#[test]
fn a_report_hands_on_a_lease_only_when_asked_and_for_a_named_worker() {
    let mut c = core();
    let w = c.register(worker(16.0), 0).unwrap().worker_id;
    c.submit(vec![TestRequest::default(); 2], 1);
    let (first, _) = c.next_lease(w, 1).unwrap().unwrap();
    let unnamed = Completion {
        next: true,
        ..done(true)
    };
    let refused = c.complete_then_next(&first.lease_id, unnamed, 2);
    let e = refused.unwrap_err();
    assert_eq!(e.status, 400);
    assert!(
        e.message.starts_with("next: needs worker_id"),
        "{}",
        e.message
    );
    assert_eq!(
        c.get_test(first.test_id).unwrap().state,
        TestState::Assigned
    );
    let plain = Completion {
        worker_id: Some(w),
        ..done(true)
    };
    let (ack, seq) = c.complete_then_next(&first.lease_id, plain, 3).unwrap();
    assert_eq!((ack.next, seq), (None, 0));
    let (second, _) = c.next_lease(w, 4).unwrap().unwrap();
    assert_eq!(second.test_id, 2, "the waiting test is still handed out");
}
