//! Scheduling policies end to end: invariants over every policy and a seed
//! sweep, common random numbers, power of two against random, concurrency
//! keys and work stealing, through the library's engine.

use lbsim::balancer::model::{Outcome, TestId};
use lbsim::balancer::policy::{SchedulerName, SCHEDULERS};
use lbsim::balancer::{Assignment, TestRecord};
use lbsim::engine::{self, Observer, RunOutput};
use lbsim::scenario::{Churn, Scenario, StressOptions};
use lbsim::sim::RngStreams;
use lbsim::workload::{ArrivalSource, SyntheticArrivals};
use std::collections::BTreeMap;

/// Keeps every decision and final record.
#[derive(Default)]
struct Tape {
    decisions: Vec<Assignment>,
    finals: Vec<TestRecord>,
    finished: BTreeMap<TestId, usize>,
    /// Problems seen while the run went on.
    errors: Vec<String>,
}

impl Observer for Tape {
    fn on_decision(&mut self, a: &Assignment) -> lbsim::Result<()> {
        if self.finished.contains_key(&a.test) {
            self.errors
                .push(format!("{} assigned after it was final", a.test));
        }
        let last = self
            .decisions
            .iter()
            .rev()
            .find(|d| d.test == a.test)
            .map_or(0, |d| d.epoch);
        if a.epoch != last + 1 {
            self.errors
                .push(format!("{} epoch {} after {last}", a.test, a.epoch));
        }
        self.decisions.push(*a);
        Ok(())
    }

    fn on_final(&mut self, r: &TestRecord) -> lbsim::Result<()> {
        *self.finished.entry(r.id).or_default() += 1;
        self.finals.push(r.clone());
        Ok(())
    }
}

fn run(s: &Scenario) -> (RunOutput, Tape) {
    let mut tape = Tape::default();
    let out = engine::run(s, &mut tape).unwrap();
    (out, tape)
}

fn scenario(scheduler: SchedulerName, seed: u64, workers: u32, tests: u64, dur: f64) -> Scenario {
    StressOptions {
        workers,
        tests,
        duration_s: dur,
        seed,
        scheduler,
        ..Default::default()
    }
    .to_scenario()
    .unwrap()
}

/// A busy, churning scenario that exercises every path: bursts, joins,
/// drains and crashes, failures with retries, keys and stealing.
fn rough(scheduler: SchedulerName, seed: u64) -> Scenario {
    let mut s = scenario(scheduler, seed, 6, 150, 20.0);
    s.arrivals = lbsim::scenario::Arrivals::Bursts;
    s.churn = Churn::reference();
    s.test_profile.failure_probability = 0.1;
    s.test_profile.retries = 1;
    s.test_profile.concurrency_keys = 4;
    s.test_profile.concurrency_key_probability = 0.3;
    s.test_profile.model_families = 3;
    s.worker_profile.speed = vec![0.5, 1.0, 2.0];
    s.balancing.stealing.enabled = true;
    s.balancing.stealing.steal_interval_s = 3.0;
    s.balancing.stealing.rebalance_interval_s = 5.0;
    s.balancing.stealing.busy_threshold = 0.3;
    s.balancing.stealing.overload_threshold = 0.4;
    s.validate().unwrap();
    s
}

#[test]
fn every_policy_keeps_the_invariants_over_a_seed_sweep() {
    let mut moved = 0;
    for info in SCHEDULERS {
        for seed in 0..6 {
            let s = rough(info.name, seed);
            let (out, tape) = run(&s);
            let ctx = format!("{} seed {seed}", info.id);
            assert!(tape.errors.is_empty(), "{ctx}: {:?}", tape.errors);
            // Every test has exactly one final record.
            let ids: Vec<u64> = tape.finished.keys().map(|t| t.0).collect();
            assert_eq!(ids, (0..s.tests).collect::<Vec<_>>(), "{ctx}");
            assert!(tape.finished.values().all(|&n| n == 1), "{ctx}");
            // The counts add up.
            let m = &out.metrics;
            assert_eq!(
                m.completed_tests
                    + m.failed_tests
                    + m.rejected_tests
                    + m.pending_tests
                    + m.running_tests,
                m.total_tests,
                "{ctx}"
            );
            let assigned = tape
                .finals
                .iter()
                .filter(|r| r.assigned_at.is_some())
                .count();
            assert_eq!(m.assigned_tests, assigned as u64, "{ctx}");
            // Every test that is not live at the horizon is final.
            for r in &tape.finals {
                if !matches!(r.outcome, Outcome::Pending | Outcome::Running) {
                    assert!(r.finished_at.is_some(), "{ctx}: {:?}", r.id);
                }
            }
            moved += m.tests_moved;
        }
    }
    // (Over capacity and non-fitting choices trip debug assertions in the
    // balancer, which these debug-build runs would report as panics.)
    assert!(moved > 0, "the sweep should exercise stealing");
}

/// The workload as the engine saw it: per test, submission and requirements,
/// and the run time of tests that ran once to completion.
/// (id, priority, memory, CUDA, submitted at) of one test.
type Arrived = (u64, u8, u64, u32, u64);

fn workload_of(tape: &Tape) -> Vec<(Arrived, Option<u64>)> {
    let mut rows: Vec<_> = tape
        .finals
        .iter()
        .map(|r| {
            let run = (r.outcome == Outcome::Completed && r.requeues == 0)
                .then(|| (r.finished_at.unwrap() - r.started_at.unwrap()).0);
            (
                (
                    r.id.0,
                    r.priority,
                    r.memory_mib,
                    r.cuda_devices,
                    r.submitted_at.0,
                ),
                run,
            )
        })
        .collect();
    rows.sort_unstable();
    rows
}

#[test]
fn two_policies_on_one_seed_see_the_same_workload() {
    let base = |name| {
        let mut s = scenario(name, 11, 8, 300, 30.0);
        // Thermal phases change a worker's pace, which is the policy's doing;
        // without them a run's length is the workload's alone.
        s.load.enabled = false;
        s
    };
    let (_, a) = run(&base(SchedulerName::Fifo));
    let a_rows = workload_of(&a);
    assert_eq!(a_rows.len(), 300);
    for other in [
        SchedulerName::Random,
        SchedulerName::PerformanceBased,
        SchedulerName::BestFit,
    ] {
        let (_, b) = run(&base(other));
        let b_rows = workload_of(&b);
        let mut both_ran = 0;
        for (x, y) in a_rows.iter().zip(&b_rows) {
            assert_eq!(x.0, y.0, "{other}: arrivals and requirements");
            if let (Some(rx), Some(ry)) = (x.1, y.1) {
                assert_eq!(rx, ry, "{other}: run time of test {}", x.0 .0);
                both_ran += 1;
            }
        }
        assert!(both_ran > 200, "{other}: only {both_ran} comparable runs");
        // The decisions themselves differ: the comparison is not vacuous.
        let wa: Vec<_> = a.decisions.iter().map(|d| d.worker).collect();
        let wb: Vec<_> = b.decisions.iter().map(|d| d.worker).collect();
        assert_ne!(wa, wb, "{other}");
    }
}

/// With contention on, a run on a loaded worker is slower, so piling tests on
/// one worker costs run time, and at high load, waiting.
fn contended(scheduler: SchedulerName, seed: u64) -> Scenario {
    let mut s = scenario(scheduler, seed, 10, 400, 300.0);
    s.load.contention = true;
    s.validate().unwrap();
    s
}

/// The power of two choices against one random choice, over twelve seeds:
/// a single seed's 400 tests are too few to decide (the means swing by
/// ±40 %), so the claim is the total and most seeds, not every seed.
#[test]
fn power_of_two_beats_random_on_mean_latency_at_high_load() {
    let (mut p2, mut random, mut wins) = (0.0, 0.0, 0);
    for seed in 0..12 {
        let (a, _) = run(&contended(SchedulerName::PowerOfTwo, seed));
        let (b, _) = run(&contended(SchedulerName::Random, seed));
        p2 += a.metrics.avg_latency;
        random += b.metrics.avg_latency;
        wins += u32::from(a.metrics.avg_latency < b.metrics.avg_latency);
    }
    // Measured: 76.0 vs 105.1 s in all, 10 seeds of 12.
    assert!(wins >= 9, "power_of_two won {wins} seeds of 12");
    assert!(p2 < 0.8 * random, "power_of_two {p2} vs random {random}");
}

/// Slow and fast workers at moderate load: `least_loaded` ignores speed, so
/// many runs start on slow workers while fast ones sit idle. Stealing with a
/// low busy mark and a short interval moves them.
fn uneven(seed: u64, stealing: bool) -> Scenario {
    let mut s = scenario(SchedulerName::LeastLoaded, seed, 20, 100, 120.0);
    s.worker_profile.speed = vec![0.25, 1.0];
    let st = &mut s.balancing.stealing;
    st.enabled = stealing;
    st.busy_threshold = 0.2;
    st.idle_threshold = 0.2;
    st.steal_interval_s = 5.0;
    s.validate().unwrap();
    s
}

#[test]
fn work_stealing_shortens_turnaround_on_uneven_workers() {
    for seed in 0..3 {
        let (off, _) = run(&uneven(seed, false));
        let (on, _) = run(&uneven(seed, true));
        // Measured: 32.1 → 29.0, 20.2 → 19.6, 16.6 → 16.1 s with 19–24 moves.
        assert_eq!(off.metrics.tests_moved, 0);
        assert!(on.metrics.tests_moved > 10, "seed {seed}");
        assert!(
            on.metrics.turnaround.avg < off.metrics.turnaround.avg,
            "seed {seed}: {} vs {}",
            on.metrics.turnaround.avg,
            off.metrics.turnaround.avg
        );
    }
}

/// Finds each test's concurrency key from the workload itself.
fn keys_of(s: &Scenario) -> Vec<Option<u32>> {
    let mut a = SyntheticArrivals::new(s, &RngStreams::new(s.seed));
    std::iter::from_fn(|| a.next_arrival())
        .map(|a| a.spec.concurrency_key)
        .collect()
}

#[test]
fn tests_sharing_a_key_never_overlap_and_others_are_not_held_up() {
    let mut s = scenario(SchedulerName::PerformanceBased, 5, 10, 120, 20.0);
    s.test_profile.concurrency_keys = 6;
    s.test_profile.concurrency_key_probability = 0.3;
    s.validate().unwrap();
    let keys = keys_of(&s);
    let (out, tape) = run(&s);
    let m = &out.metrics;
    assert_eq!(
        m.completed_tests + m.rejected_tests,
        120,
        "every test that can run, runs"
    );
    let mut by_key: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
    for r in &tape.finals {
        if r.outcome == Outcome::Rejected {
            continue;
        }
        if let Some(k) = keys[r.id.0 as usize] {
            let span = (r.started_at.unwrap().0, r.finished_at.unwrap().0);
            by_key.entry(k).or_default().push(span);
        }
    }
    assert_eq!(by_key.len(), 6);
    for (k, mut spans) in by_key {
        spans.sort_unstable();
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0, "key {k}: {:?} overlaps {:?}", w[0], w[1]);
        }
    }
    // That a parked test holds up no other test is checked exactly in the
    // balancer's own tests (`a_test_waiting_for_its_key_blocks_no_other`).
    let keyed_wait: u64 = tape
        .finals
        .iter()
        .filter(|r| keys[r.id.0 as usize].is_some())
        .map(|r| r.waited_us)
        .sum();
    assert!(keyed_wait > 0, "keys serialise their tests");
}
