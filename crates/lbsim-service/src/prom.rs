//! `/metrics` in the Prometheus text format: tests by state, lifecycle
//! totals, lease losses, workers by status, a scheduling-latency histogram,
//! and HTTP requests and durations by route and code.

use super::api::TestState;
use super::core::Core;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct StateLabel {
    pub(crate) state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct StatusLabel {
    pub(crate) status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct HttpLabels {
    pub(crate) route: String,
    pub(crate) method: String,
    pub(crate) code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RouteLabel {
    pub(crate) route: String,
}

/// Every metric the service exports.
pub(super) struct Metrics {
    registry: Registry,
    tests: Family<StateLabel, Gauge>,
    workers: Family<StatusLabel, Gauge>,
    totals: [Counter; 6],
    latency: Histogram,
    pub(crate) http_requests: Family<HttpLabels, Counter>,
    pub(crate) http_seconds: Family<RouteLabel, Histogram>,
}

fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 18))
}

impl Metrics {
    pub(super) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("lbsim");
        let tests = Family::<StateLabel, Gauge>::default();
        registry.register("tests", "Tests by state", tests.clone());
        let workers = Family::<StatusLabel, Gauge>::default();
        registry.register("workers", "Workers by status", workers.clone());
        let totals: [Counter; 6] = Default::default();
        let names = [
            ("tests_submitted", "Tests submitted"),
            ("tests_assigned", "Assignments made (runs)"),
            ("tests_completed", "Tests completed"),
            ("tests_failed", "Tests failed"),
            (
                "lease_expiries",
                "Runs lost with a worker that stopped heartbeating",
            ),
            (
                "worker_timeouts",
                "Workers declared offline for missed heartbeats",
            ),
        ];
        for ((name, help), c) in names.iter().zip(&totals) {
            registry.register(*name, *help, c.clone());
        }
        let latency = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "scheduling_latency_seconds",
            "First assignment minus submission",
            latency.clone(),
        );
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and code",
            http_requests.clone(),
        );
        let http_seconds = Family::<RouteLabel, Histogram>::new_with_constructor(
            seconds_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request durations by route",
            http_seconds.clone(),
        );
        Metrics {
            registry,
            tests,
            workers,
            totals,
            latency,
            http_requests,
            http_seconds,
        }
    }

    /// Brings the gauges and totals up to date from the core, then renders.
    pub(super) fn render(&self, core: &mut Core) -> String {
        for (state, n) in TestState::ALL.iter().zip(core.counts()) {
            let label = StateLabel {
                state: state.as_str().to_string(),
            };
            self.tests.get_or_create(&label).set(n as i64);
        }
        let (active, draining, offline) = core.worker_counts();
        for (name, n) in [
            ("active", active),
            ("draining", draining),
            ("offline", offline),
        ] {
            let label = StatusLabel {
                status: name.to_string(),
            };
            self.workers.get_or_create(&label).set(n as i64);
        }
        let t = core.totals;
        let now = [
            t.submitted,
            t.assigned,
            t.completed,
            t.failed,
            t.lost,
            t.worker_timeouts,
        ];
        for (c, n) in self.totals.iter().zip(now) {
            c.inc_by(n.saturating_sub(c.get()));
        }
        for l in core.take_latencies() {
            self.latency.observe(l);
        }
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
