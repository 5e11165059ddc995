//! Criterion benches: the event queue, one scheduling decision per policy at
//! several pool sizes, and whole runs (stress defaults, the hour-long spike,
//! M/M/c). `cargo bench` runs them all;
//! `cargo bench -- decision` runs one group.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lbsim::balancer::model::{Backends, TestId, TestSpec, WorkerSpec};
use lbsim::balancer::policy::SCHEDULERS;
use lbsim::balancer::Balancer;
use lbsim::engine::{self, NoObserver};
use lbsim::scenario::config::Overrides;
use lbsim::scenario::{Config, StressOptions};
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

fn worker(i: u32) -> WorkerSpec {
    let memory_gb = [4.0, 8.0, 16.0, 32.0][(i % 4) as usize];
    let cuda = [0, 1, 2, 4][(i / 4 % 4) as usize];
    WorkerSpec {
        memory_mib: (memory_gb * 0.9 * 1024.0) as u64,
        memory_gb,
        cpu_cores: 4,
        cuda_devices: cuda,
        backends: if cuda > 0 {
            Backends::CPU.union(Backends::CUDA)
        } else {
            Backends::CPU
        },
        speed: 1.0,
    }
}

fn test_spec(i: u64) -> TestSpec {
    let cuda = [0, 0, 0, 1, 1, 2][(i % 6) as usize];
    TestSpec {
        priority: (i % 5) as u8 + 1,
        memory_mib: [512, 1024, 2048, 4096, 8192][(i % 5) as usize],
        cuda_devices: cuda,
        cpu_cores: 1,
        backend: (cuda > 0).then_some(Backends::CUDA),
        expected_duration: SimDuration::from_secs(10),
        model_family: (i % 3) as u32,
        concurrency_key: None,
    }
}

/// One decision: submit a test, run a scheduling pass, finish the test, on a
/// pool that is half busy.
fn decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("decision");
    group.sample_size(20);
    for info in SCHEDULERS {
        for workers in [100u32, 1_000, 10_000] {
            let mut b = Balancer::new(info.name, RngStreams::new(3).stream(Stream::Policy));
            for i in 0..workers {
                b.register_worker(worker(i), SimTime::ZERO);
            }
            let mut out = Vec::new();
            let mut next = 0u64;
            // Half the pool's cores busy with long tests.
            for _ in 0..workers * 2 {
                b.submit(TestId(next), test_spec(next), SimTime::ZERO).ok();
                next += 1;
            }
            b.schedule(SimTime::ZERO, &mut out);
            let mut now = 1u64;
            group.bench_function(BenchmarkId::new(info.id, workers), |bench| {
                bench.iter(|| {
                    out.clear();
                    b.submit(TestId(next), test_spec(next), SimTime(now)).ok();
                    b.schedule(SimTime(now), &mut out);
                    for a in &out {
                        b.finish(a.test, SimTime(now + 1), true);
                    }
                    next += 1;
                    now += 2;
                })
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
    group.finish();
}

criterion_group!(benches, event_queue, decision, whole_runs);
criterion_main!(benches);
