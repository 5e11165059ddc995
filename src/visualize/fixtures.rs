//! Test documents for the chart tests: real runs' documents with the
//! figures a test asserts on set by hand.

use crate::balancer::policy::SchedulerName;
use crate::engine::{self, NoObserver};
use crate::metrics::Metrics;
use crate::report::{ResultsDoc, SpikeWindow};
use crate::scenario::StressOptions;

/// A small dynamic run: 2 workers, 10 tests, round robin, seed 7.
pub(super) fn run_doc() -> ResultsDoc {
    let scenario = StressOptions {
        workers: 2,
        tests: 10,
        duration_s: 4.0,
        dynamic: true,
        seed: 7,
        scheduler: SchedulerName::RoundRobin,
        ..Default::default()
    }
    .to_scenario()
    .unwrap();
    ResultsDoc::from_run(&engine::run(&scenario, &mut NoObserver).unwrap())
}

/// `run_doc` with known figures, series, worker times and one spike.
pub(super) fn known_run_doc() -> ResultsDoc {
    let mut doc = run_doc();
    let m = &mut doc.metrics;
    (m.success_rate, m.worker_utilization, m.jain_fairness) = (90.0, 0.5, 0.8);
    (m.avg_latency, m.min_latency, m.max_latency) = (0.5, 0.1, 2.0);
    (m.latency.p50, m.latency.p95, m.latency.p99, m.latency.max) = (0.4, 1.5, 1.9, 2.0);
    let ts = &mut doc.time_series;
    ts.throughput = vec![(0, 2.0), (1, 4.0)];
    ts.arrivals = vec![(0, 1.0), (1, 9.0), (2, 1.0), (3, 1.0)];
    ts.pending = vec![(0, 0), (1, 6), (2, 2), (3, 0)];
    doc.workers.truncate(2);
    (doc.workers[0].joined_at, doc.workers[0].left_at) = (0.0, Some(3.5));
    (doc.workers[1].joined_at, doc.workers[1].left_at) = (1.25, None);
    doc.spikes = vec![SpikeWindow {
        start: 1.0,
        end: 2.0,
        multiplier: 4.0,
    }];
    doc
}

/// A real run's metrics with the figures the grid charts plot set.
pub(super) fn metrics(avg_throughput: f64, p99: f64) -> Metrics {
    let mut m = run_doc().metrics;
    m.avg_throughput = avg_throughput;
    m.min_latency = 0.0;
    (m.latency.p50, m.latency.p95, m.latency.p99, m.latency.max) = (p99 / 4.0, p99 / 2.0, p99, p99);
    m
}
