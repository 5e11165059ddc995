//! State-machine tests of the balancer on small hand-built clusters.

use super::policy::testkit::{spec, test};
use super::*;
use crate::sim::{RngStreams, Stream};

fn balancer(specs: Vec<WorkerSpec>) -> Balancer {
    let mut b = Balancer::new(
        SchedulerName::PerformanceBased,
        RngStreams::new(1).stream(Stream::Policy),
    );
    for s in specs {
        b.register_worker(s, SimTime::ZERO);
    }
    b
}

fn pass(b: &mut Balancer, t: u64) -> Vec<Assignment> {
    let mut out = Vec::new();
    b.schedule(SimTime(t), &mut out);
    out
}

#[test]
fn a_test_no_worker_could_hold_is_rejected_at_once() {
    let mut b = balancer(vec![spec(8, 0)]);
    let rec = b.submit(TestId(0), test(16, 0), SimTime(5)).unwrap_err();
    assert_eq!(rec.outcome, Outcome::Rejected);
    assert_eq!(rec.reason, Some("no worker could ever hold it"));
    // A shape that may join later is not rejected.
    b.declare_possible_worker(&spec(32, 0));
    assert!(b.submit(TestId(1), test(16, 0), SimTime(5)).is_ok());
    assert_eq!(b.pending_len(), 1);
}

#[test]
fn a_test_that_does_not_fit_now_waits_and_counts_attempts() {
    let mut b = balancer(vec![spec(8, 0)]);
    b.submit(TestId(0), test(6, 0), SimTime(0)).unwrap();
    b.submit(TestId(1), test(6, 0), SimTime(0)).unwrap();
    let first = pass(&mut b, 0);
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].test, first[0].attempt), (TestId(0), 1));
    // Nothing changed: a new pass does not count an attempt.
    assert!(pass(&mut b, 1).is_empty());
    // Capacity appears elsewhere, too small: one attempt.
    b.register_worker(spec(2, 0), SimTime(2));
    assert!(pass(&mut b, 2).is_empty());
    let rec = b.finish(TestId(0), SimTime(10), true);
    assert_eq!(rec.outcome, Outcome::Completed);
    let second = pass(&mut b, 10);
    assert_eq!(second.len(), 1);
    // Failed at submission pass, failed after the join, placed now.
    assert_eq!((second[0].test, second[0].attempt), (TestId(1), 3));
    let rec = b.finish(TestId(1), SimTime(20), true);
    assert_eq!(rec.attempts, 3);
    assert_eq!(rec.waited_us, 10);
    assert_eq!(rec.latency_s(), Some(10.0 / 1e6));
}

#[test]
fn priority_first_then_submission_order_with_backfill() {
    let mut b = balancer(vec![spec(8, 0)]);
    let mut big = test(8, 0);
    big.priority = 1;
    let mut low = test(1, 0);
    low.priority = 5;
    b.submit(TestId(0), low.clone(), SimTime(0)).unwrap();
    b.submit(TestId(1), test(2, 0), SimTime(0)).unwrap();
    b.submit(TestId(2), big, SimTime(0)).unwrap();
    let order: Vec<TestId> = pass(&mut b, 0).iter().map(|a| a.test).collect();
    // The urgent 8 GB test goes first and fills the worker.
    assert_eq!(order, vec![TestId(2)]);
    b.finish(TestId(2), SimTime(1), true);
    let order: Vec<TestId> = pass(&mut b, 1).iter().map(|a| a.test).collect();
    assert_eq!(order, vec![TestId(1), TestId(0)]);
}

#[test]
fn a_failed_worker_requeues_its_tests_and_a_drained_one_finishes_them() {
    let mut b = balancer(vec![spec(8, 0), spec(8, 0)]);
    for i in 0..4 {
        b.submit(TestId(i), test(4, 0), SimTime(0)).unwrap();
    }
    let placed = pass(&mut b, 0);
    assert_eq!(placed.len(), 4);
    let on_w0: Vec<TestId> = placed
        .iter()
        .filter(|a| a.worker == WorkerId(0))
        .map(|a| a.test)
        .collect();
    let requeued = b.fail_worker(WorkerId(0), SimTime(5));
    assert_eq!(requeued, on_w0);
    assert_eq!(b.pending_len(), 2);
    assert_eq!(b.running_len(), 2);
    // The stale completion of a requeued test is recognised.
    let stale = placed.iter().find(|a| a.worker == WorkerId(0)).unwrap();
    assert!(!b.is_current(stale.test, stale.epoch));
    // Draining worker 1 keeps its tests running but takes nothing new.
    assert!(!b.drain_worker(WorkerId(1), SimTime(6)));
    assert!(pass(&mut b, 6).is_empty());
    let on_w1: Vec<TestId> = placed
        .iter()
        .filter(|a| a.worker == WorkerId(1))
        .map(|a| a.test)
        .collect();
    for t in &on_w1 {
        b.finish(*t, SimTime(10), true);
    }
    assert_eq!(b.worker(WorkerId(1)).status, WorkerStatus::Offline);
    b.register_worker(spec(16, 0), SimTime(11));
    let again = pass(&mut b, 11);
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|a| a.worker == WorkerId(2)));
    let rec = b.finish(again[0].test, SimTime(20), true);
    assert_eq!(rec.requeues, 1);
    assert_eq!(rec.assigned_at, Some(SimTime(0)));
    assert_eq!(rec.started_at, Some(SimTime(11)));
}

#[test]
fn remaining_tests_are_finalised_in_submission_order() {
    let mut b = balancer(vec![spec(4, 0)]);
    b.submit(TestId(1), test(4, 0), SimTime(0)).unwrap();
    b.submit(TestId(0), test(4, 0), SimTime(0)).unwrap();
    pass(&mut b, 0);
    let rest = b.finalize_remaining(SimTime(9));
    let got: Vec<(TestId, Outcome)> = rest.iter().map(|r| (r.id, r.outcome)).collect();
    assert_eq!(
        got,
        vec![(TestId(0), Outcome::Running), (TestId(1), Outcome::Pending)]
    );
    assert_eq!(rest[1].waited_us, 9);
    assert_eq!(b.live_len(), 0);
}

#[test]
fn a_test_waiting_for_its_key_blocks_no_other() {
    let mut b = balancer(vec![spec(8, 0), spec(8, 0)]);
    let keyed = |p: u8| TestSpec {
        concurrency_key: Some(7),
        priority: p,
        ..test(1, 0)
    };
    b.submit(TestId(0), keyed(3), SimTime(0)).unwrap();
    b.submit(TestId(1), keyed(1), SimTime(0)).unwrap();
    b.submit(TestId(2), keyed(5), SimTime(0)).unwrap();
    b.submit(TestId(3), test(1, 0), SimTime(0)).unwrap();
    assert_eq!(b.pending_len(), 4);
    let placed: Vec<TestId> = pass(&mut b, 0).iter().map(|a| a.test).collect();
    // The key's holder and the unkeyed test run; the others wait parked.
    assert_eq!(placed, vec![TestId(0), TestId(3)]);
    assert_eq!(b.pending_len(), 2);
    assert!(
        pass(&mut b, 1).is_empty(),
        "room is not enough: the key is held"
    );
    // The holder finishes: the most urgent waiter is next, then the last.
    b.finish(TestId(0), SimTime(10), true);
    let next: Vec<TestId> = pass(&mut b, 10).iter().map(|a| a.test).collect();
    assert_eq!(next, vec![TestId(1)]);
    // A retry keeps the key: the waiter stays parked.
    b.retry(TestId(1), SimTime(12));
    let again: Vec<TestId> = pass(&mut b, 12).iter().map(|a| a.test).collect();
    assert_eq!(again, vec![TestId(1)]);
    let rec = b.finish(TestId(1), SimTime(20), true);
    // Parked 0–10, pending again 12–12.
    assert_eq!(rec.waited_us, 10);
    let last = pass(&mut b, 20);
    assert_eq!(last[0].test, TestId(2));
    let rec = b.finish(TestId(2), SimTime(25), true);
    // Parked from 0 to 20: the wait counts.
    assert_eq!(rec.waited_us, 20);
    // A parked test still live at the end is reported pending.
    b.submit(TestId(4), keyed(3), SimTime(30)).unwrap();
    b.submit(TestId(5), keyed(3), SimTime(30)).unwrap();
    pass(&mut b, 30);
    let rest = b.finalize_remaining(SimTime(40));
    let got: Vec<(TestId, Outcome)> = rest.iter().map(|r| (r.id, r.outcome)).collect();
    assert_eq!(
        got,
        vec![
            (TestId(3), Outcome::Running),
            (TestId(4), Outcome::Running),
            (TestId(5), Outcome::Pending)
        ]
    );
}

#[test]
fn a_shape_floor_is_held_by_whatever_holds_either_shape() {
    use crate::balancer::model::{Backends, Shape};
    let a = Shape {
        memory_mib: 4096,
        cuda_devices: 0,
        cpu_cores: 2,
        backend: Backends(0b011),
    };
    let b = Shape {
        memory_mib: 1024,
        cuda_devices: 1,
        cpu_cores: 4,
        backend: Backends(0b110),
    };
    let f = a.floor(&b);
    assert_eq!(
        (f.memory_mib, f.cuda_devices, f.cpu_cores, f.backend.0),
        (1024, 0, 2, 0b010)
    );
    assert!(f.fits_within(&a) && f.fits_within(&b));
}

/// The driver's data rides with the test through a requeue and is gone with
/// it; the balancer's own record is unchanged by it.
#[test]
fn carried_data_stays_with_a_live_test_until_it_is_final() {
    let mut b = balancer(vec![spec(8, 0)]);
    let carried = Carried {
        seed: 7,
        exact: Some((SimDuration(5), true)),
        runs: 0,
        failures: 0,
    };
    b.submit_carrying(TestId(0), test(6, 0), carried, SimTime(0))
        .unwrap();
    b.submit(TestId(1), test(6, 0), SimTime(0)).unwrap();
    assert_eq!(pass(&mut b, 0).len(), 1);
    let (spec0, d) = b.test_mut_carried(TestId(0)).unwrap();
    assert_eq!(spec0.memory_mib, test(6, 0).memory_mib);
    assert_eq!(*d, carried);
    d.runs += 1;
    b.retry(TestId(0), SimTime(3));
    assert_eq!(b.test(TestId(0)).unwrap().carried.runs, 1);
    assert_eq!(b.test(TestId(1)).unwrap().carried, Carried::default());
    // Requeued, it keeps its place ahead of the later test.
    assert_eq!(pass(&mut b, 3)[0].test, TestId(0));
    b.finish(TestId(0), SimTime(9), true);
    assert!(b.test_mut_carried(TestId(0)).is_none());
}

/// The same hand-built history under one policy: waves of tests of mixed
/// shapes and priorities, workers joining (capacity growth revives blocked
/// classes) and runs finishing, every pass at most `step` assignments
/// (`usize::MAX`: whole passes) and repeated until nothing is left to place.
fn history(scheduler: SchedulerName, step: usize) -> Vec<(TestId, WorkerId)> {
    let mut b = Balancer::new(scheduler, RngStreams::new(7).stream(Stream::Policy));
    b.declare_possible_worker(&spec(64, 2));
    let mut rng = RngStreams::new(3).stream(Stream::Custom(9));
    let mut placed = Vec::new();
    let mut next = 0u64;
    for round in 0..12u64 {
        let now = SimTime(round * 1_000);
        let (mem, cuda) = [(8, 0), (16, 1), (64, 2), (4, 0)][round as usize % 4];
        b.register_worker(spec(mem, cuda), now);
        for _ in 0..40 {
            let mut t = test(1 + rng.below(12), u32::from(rng.below(6) == 0));
            t.priority = 1 + rng.below(5) as u8;
            b.submit(TestId(next), t, now).unwrap();
            next += 1;
        }
        let mut out = Vec::new();
        while b.schedule_at_most(now, &mut out, step) {}
        for a in &out {
            placed.push((a.test, a.worker));
        }
        // Four fifths of what started ends before the next round.
        for (i, a) in out.iter().enumerate() {
            if i % 5 != 0 {
                b.finish(a.test, SimTime(now.0 + 500), true);
            }
        }
    }
    placed
}

#[test]
fn bounded_passes_place_what_whole_passes_place_in_the_same_order() {
    for info in super::policy::SCHEDULERS {
        let whole = history(info.name, usize::MAX);
        assert!(whole.len() > 80, "{}: only {} placed", info.id, whole.len());
        for step in [1, 3, 17] {
            assert_eq!(
                history(info.name, step),
                whole,
                "{} with passes of {step}",
                info.id
            );
        }
    }
}

#[test]
fn a_bounded_pass_says_when_it_stopped_with_tests_left() {
    // Four cores each: twelve one-core tests fit.
    let mut b = balancer(vec![spec(64, 0), spec(64, 0), spec(64, 0)]);
    for i in 0..10 {
        b.submit(TestId(i), test(1, 0), SimTime(0)).unwrap();
    }
    let mut out = Vec::new();
    let more = b.schedule_at_most(SimTime(0), &mut out, 4);
    assert_eq!((more, out.len()), (true, 4));
    assert!(b.schedule_at_most(SimTime(0), &mut out, 4));
    assert!(!b.schedule_at_most(SimTime(0), &mut out, 4));
    let order: Vec<u64> = out.iter().map(|a| a.test.0).collect();
    assert_eq!(order, (0..10).collect::<Vec<_>>());
    assert_eq!(b.pending_len(), 0);
}
