//! Invariants over a seed sweep with bursts and churn: no worker over
//! capacity at any event, time never goes back, every test ends in exactly
//! one state, and the counts add up.

use lbsim::balancer::model::{Outcome, TestId, WorkerId};
use lbsim::balancer::{Assignment, TestRecord};
use lbsim::engine::{self, Observer};
use lbsim::scenario::{Churn, ChurnAction, ChurnEvent, StressOptions};
use lbsim::sim::SimTime;
use lbsim::Result;
use std::collections::BTreeMap;

#[derive(Default)]
struct Ledger {
    finals: BTreeMap<u64, Outcome>,
    duplicates: Vec<u64>,
    decisions: u64,
    last_decision_time: u64,
    decision_time_went_back: bool,
}

impl Observer for Ledger {
    fn on_decision(&mut self, a: &Assignment) -> Result<()> {
        self.decisions += 1;
        self.decision_time_went_back |= a.time.0 < self.last_decision_time;
        self.last_decision_time = a.time.0;
        Ok(())
    }

    fn on_final(&mut self, r: &TestRecord) -> Result<()> {
        if self.finals.insert(r.id.0, r.outcome).is_some() {
            self.duplicates.push(r.id.0);
        }
        Ok(())
    }
}

#[test]
fn bursts_and_churn_keep_every_invariant_over_a_seed_sweep() {
    for seed in 0..24u64 {
        // Few workers, many tests: queues form, workers fail with tests on them.
        let options = StressOptions {
            workers: 4 + (seed % 5) as u32,
            tests: 400,
            duration_s: 40.0,
            burst: true,
            dynamic: true,
            seed,
            ..StressOptions::default()
        };
        let scenario = options.to_scenario().unwrap();
        let mut ledger = Ledger::default();
        let out = engine::run_checked(&scenario, &mut ledger)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let m = &out.metrics;
        assert!(
            ledger.duplicates.is_empty(),
            "seed {seed}: tests final twice: {:?}",
            ledger.duplicates
        );
        assert_eq!(
            ledger.finals.len() as u64,
            scenario.tests,
            "seed {seed}: a test has no final state"
        );
        assert_eq!(
            m.total_tests,
            m.completed_tests
                + m.failed_tests
                + m.rejected_tests
                + m.pending_tests
                + m.running_tests,
            "seed {seed}: counts do not add up"
        );
        let count = |o: Outcome| ledger.finals.values().filter(|&&x| x == o).count() as u64;
        assert_eq!(count(Outcome::Completed), m.completed_tests, "seed {seed}");
        assert_eq!(count(Outcome::Pending), m.pending_tests, "seed {seed}");
        assert!(m.assigned_tests <= m.total_tests);
        assert!(
            ledger.decisions >= m.assigned_tests,
            "seed {seed}: requeued tests are assigned again"
        );
        assert!(!ledger.decision_time_went_back, "seed {seed}");
    }
}

#[test]
fn every_policy_with_keys_stealing_and_failures_keeps_every_invariant() {
    use lbsim::balancer::policy::SCHEDULERS;
    for info in SCHEDULERS {
        for seed in 0..3u64 {
            let mut scenario = StressOptions {
                workers: 6,
                tests: 300,
                duration_s: 30.0,
                burst: true,
                dynamic: true,
                seed,
                scheduler: info.name,
            }
            .to_scenario()
            .unwrap();
            scenario.test_profile.concurrency_keys = 4;
            scenario.test_profile.concurrency_key_probability = 0.5;
            scenario.test_profile.failure_probability = 0.1;
            scenario.test_profile.retries = 1;
            scenario.balancing.stealing.enabled = true;
            scenario.balancing.stealing.steal_interval_s = 5.0;
            scenario.balancing.stealing.busy_threshold = 0.3;
            scenario.validate().unwrap();
            let mut ledger = Ledger::default();
            let out = engine::run_checked(&scenario, &mut ledger)
                .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", info.id));
            let m = &out.metrics;
            assert_eq!(
                ledger.finals.len() as u64,
                scenario.tests,
                "{} seed {seed}",
                info.id
            );
            assert!(ledger.duplicates.is_empty(), "{} seed {seed}", info.id);
            assert_eq!(
                m.total_tests,
                m.completed_tests
                    + m.failed_tests
                    + m.rejected_tests
                    + m.pending_tests
                    + m.running_tests,
                "{} seed {seed}",
                info.id
            );
        }
    }
}

#[test]
fn churn_really_requeues_tests_and_none_is_lost() {
    // Enough seeds that some worker crashes while running tests.
    let requeued: u64 = (0..10u64)
        .map(|seed| {
            let s = StressOptions {
                workers: 10,
                tests: 2_000,
                duration_s: 200.0,
                dynamic: true,
                seed,
                ..Default::default()
            }
            .to_scenario()
            .unwrap();
            let out = engine::run_checked(&s, &mut engine::NoObserver).unwrap();
            assert_eq!(
                out.metrics.completed_tests + out.metrics.pending_tests + out.metrics.running_tests,
                2_000
            );
            assert!(
                out.metrics.workers_failed + out.metrics.workers_drained > 0,
                "seed {seed}: no churn"
            );
            out.metrics.requeued_tests
        })
        .sum();
    assert!(requeued > 0, "no worker failure ever hit a running test");
}

/// The rack a scripted failure took down, and every final state.
#[derive(Default)]
struct Rack {
    failed: Vec<u32>,
    requeued: Vec<u64>,
    finals: BTreeMap<u64, u32>,
}

impl Observer for Rack {
    fn on_fail(&mut self, worker: WorkerId, requeued: &[TestId], _now: SimTime) -> Result<()> {
        self.failed.push(worker.0);
        self.requeued.extend(requeued.iter().map(|t| t.0));
        Ok(())
    }

    fn on_final(&mut self, r: &TestRecord) -> Result<()> {
        *self.finals.entry(r.id.0).or_default() += 1;
        Ok(())
    }
}

#[test]
fn a_rack_failure_under_load_keeps_every_invariant_and_loses_no_test() {
    for seed in 0..6u64 {
        let mut scenario = StressOptions {
            workers: 8,
            tests: 600,
            duration_s: 60.0,
            burst: true,
            seed,
            ..StressOptions::default()
        }
        .to_scenario()
        .unwrap();
        let event = |at_s, action, count, every_s, replace| ChurnEvent {
            at_s,
            action,
            count,
            every_s,
            replace,
        };
        scenario.churn = Churn::Timeline {
            events: vec![
                event(5.0, ChurnAction::Drain, 3, 3.0, true),
                event(20.0, ChurnAction::Fail, 4, 0.0, false),
            ],
        };
        scenario.validate().unwrap();
        let mut rack = Rack::default();
        let out = engine::run_checked(&scenario, &mut rack)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // The oldest active workers after the drains: a contiguous block.
        assert_eq!(rack.failed, [3, 4, 5, 6], "seed {seed}");
        assert_eq!(out.metrics.workers_failed, 4);
        assert!(!rack.requeued.is_empty(), "seed {seed}: the rack was idle");
        assert_eq!(rack.finals.len() as u64, scenario.tests, "seed {seed}");
        assert!(rack.finals.values().all(|&n| n == 1), "seed {seed}");
    }
}
