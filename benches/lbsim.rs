//! Criterion benches: the event queue, one scheduling decision per policy at
//! several pool sizes, and whole runs (stress defaults, the hour-long spike,
//! M/M/c, 10,000 workers under each load view). `cargo bench` runs them all;
//! `cargo bench -- decision` runs one group.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lbsim::balancer::decision_bench::DecisionBench;
use lbsim::balancer::policy::SCHEDULERS;
use lbsim::engine::{self, NoObserver};
use lbsim::scenario::config::Overrides;
use lbsim::scenario::{BalancingOverrides, Config, LoadView, StressOptions};
use lbsim::sim::{EventQueue, RngStreams, SimDuration, SimTime, Stream};
use std::hint::black_box;
use std::path::Path;

fn event_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue");
    for pending in [1_000u64, 100_000, 1_000_000] {
        let mut rng = RngStreams::new(1).stream(Stream::Custom(0));
        let mut q = EventQueue::with_capacity(pending as usize);
        for i in 0..pending {
            q.push(SimTime(rng.below(1_000_000)), i);
        }
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("pop_push", pending), &pending, |b, _| {
            b.iter(|| {
                let (t, e) = q.pop().expect("queue is never empty");
                q.push(t + SimDuration(1 + rng.below(1_000_000)), black_box(e));
            })
        });
    }
    group.finish();
}

/// One decision: submit a test, run a scheduling pass, finish the test, on a
/// pool that is half busy (`lbsim::balancer::decision_bench`, shared with
/// `examples/decision_cost.rs`, which counts its instructions).
fn decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("decision");
    group.sample_size(20);
    for info in SCHEDULERS {
        for workers in [100u32, 1_000, 10_000] {
            let mut bench = DecisionBench::new(info.name, workers);
            group.bench_function(BenchmarkId::new(info.id, workers), |b| {
                b.iter(|| bench.step())
            });
        }
    }
    group.finish();
}

fn whole_runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    group.sample_size(10);
    let defaults = StressOptions::default()
        .to_scenario()
        .expect("defaults are valid");
    group.bench_function("stress_defaults", |b| {
        b.iter(|| engine::run(&defaults, &mut NoObserver))
    });
    let spike = StressOptions {
        workers: 1_000,
        tests: 1_000_000,
        duration_s: 3_600.0,
        burst: true,
        dynamic: true,
        ..StressOptions::default()
    }
    .to_scenario()
    .expect("valid");
    group.bench_function("hour_1000w_1m_tests_burst_dynamic", |b| {
        b.iter(|| engine::run(&spike, &mut NoObserver))
    });
    // Issue 5's SimPy comparison (scripts/simpy_ratio.py runs both sides).
    let mmc = Config::from_file(Path::new("scenarios/mmc.json"))
        .and_then(|c| c.scenario("mmc_rho80", &Overrides::default()))
        .expect("scenarios/mmc.json has mmc_rho80");
    group.bench_function("mmc_rho80_200k_tests", |b| {
        b.iter(|| engine::run(&mmc, &mut NoObserver))
    });
    // The two load views on one pool (README, "Large pools"): the live
    // view's cost follows workers × cycles, the reported one's the tests.
    for view in [LoadView::Live, LoadView::Reported] {
        let flags = BalancingOverrides {
            load_view: Some(view),
            ..BalancingOverrides::default()
        };
        let pool = StressOptions {
            workers: 10_000,
            tests: 20_000,
            duration_s: 600.0,
            ..StressOptions::default()
        }
        .scenario_with(&flags)
        .expect("valid");
        let name = format!(
            "drift_10000w_20k_tests_{}",
            if view.is_live() { "live" } else { "reported" }
        );
        group.bench_function(name, |b| b.iter(|| engine::run(&pool, &mut NoObserver)));
    }
    group.finish();
}

criterion_group!(benches, event_queue, decision, whole_runs);
criterion_main!(benches);
