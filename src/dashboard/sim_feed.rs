//! The simulation feed: turns the engine's facts (decisions, final records,
//! pool changes, the balancer's state) into the dashboard's model. Every
//! function takes simulated time from its facts; none reads a clock.

use super::events::EventKind;
use super::feed::{Feed, SimTracker};
use super::series::{bucket_width, Series, SeriesKind};
use super::state::{DashboardState, MarkKind, SimHeader, Source, SpikeWindow, SERIES_CAPACITY};
use super::window::TimeWindow;
use super::workers::{Phase, WorkerView};
use crate::balancer::model::{Outcome, Thermal, WorkerId, WorkerStatus};
use crate::balancer::{Assignment, Balancer, TestRecord, WorkerState};
use crate::engine::{EndReason, RunOutput};
use crate::metrics::Percentiles;
use crate::report;
use crate::scenario::Scenario;
use crate::sim::{SimDuration, SimTime};

/// "Throughput now" is measured over this many simulated seconds.
pub(crate) const NOW_WINDOW_S: u64 = 5;
/// The "last minute" figures, simulated seconds.
pub(crate) const MINUTE_S: u64 = 60;
/// About this many chart buckets over a run's submission window.
const BUCKETS_PER_RUN: u32 = 100;

impl DashboardState {
    /// A model for a simulated run of `scenario`; `label` says what runs
    /// (`stress`, `scenario spike_and_recovery`, `replay jobs.swf`).
    pub fn for_simulation(scenario: &Scenario, label: impl Into<String>) -> DashboardState {
        let source = Source::Simulation(SimHeader {
            label: label.into(),
            seed: scenario.seed,
            scheduler: scenario.scheduler.to_string(),
            now_s: 0.0,
            horizon_s: scenario.horizon_s,
        });
        let bucket_s = bucket_width(scenario.duration_s * 1.2, BUCKETS_PER_RUN);
        let mut throughput = Series::new(SeriesKind::Rate, bucket_s, SERIES_CAPACITY);
        let mut latency = Series::new(SeriesKind::Mean, bucket_s, SERIES_CAPACITY);
        throughput.advance(0.0);
        latency.advance(0.0);
        let minute = SimDuration::from_secs(MINUTE_S);
        let spikes = scenario.arrivals.spikes();
        let mut edges: Vec<(f64, bool, String)> = Vec::new();
        for s in spikes {
            let what = format!("arrivals x{} for {} s", s.multiplier, s.length_s);
            edges.push((s.start_s, true, what.clone()));
            edges.push((s.end_s(), false, what));
        }
        edges.sort_by(|a, b| a.0.total_cmp(&b.0));
        let tracker = SimTracker {
            now: SimTime::ZERO,
            completions: TimeWindow::new(minute),
            latencies: TimeWindow::new(minute),
            completed: 0,
            failed: 0,
            rejected: 0,
            edges,
            next_edge: 0,
            failed_workers: Vec::new(),
        };
        let mut state =
            DashboardState::with_parts(source, throughput, latency, Feed::Sim(Box::new(tracker)));
        state.spikes = spikes
            .iter()
            .map(|s| SpikeWindow {
                start_s: s.start_s,
                end_s: s.end_s(),
            })
            .collect();
        state
    }

    fn sim(&mut self) -> &mut SimTracker {
        match &mut self.feed {
            Feed::Sim(t) => t,
            Feed::Monitor(_) => panic!("a simulation fact fed to a monitor dashboard"),
        }
    }

    /// Simulated time moves to `now` (never back): buckets, spike edges and
    /// windows follow, without recomputing the figures.
    fn move_to(&mut self, now: SimTime) {
        let sim = self.sim();
        let now = now.max(sim.now);
        sim.now = now;
        sim.completions.trim(now);
        sim.latencies.trim(now);
        let t = now.as_secs_f64();
        let mut crossed = Vec::new();
        while let Some((at, start, what)) = sim.edges.get(sim.next_edge) {
            if *at > t {
                break;
            }
            crossed.push((*at, *start, what.clone()));
            sim.next_edge += 1;
        }
        for (at, start, what) in crossed {
            let kind = if start {
                EventKind::SpikeStart
            } else {
                EventKind::SpikeEnd
            };
            self.events.push(at, kind, what);
        }
        if let Source::Simulation(h) = &mut self.source {
            h.now_s = t;
        }
        self.throughput.advance(t);
        self.latency.advance(t);
    }

    /// Simulated time moves to `now`, and the key figures are recomputed
    /// (call it once per frame; `sync_pool` does).
    pub(crate) fn advance(&mut self, now: SimTime) {
        self.move_to(now);
        let sim = self.sim();
        let now = sim.now;
        let throughput_now = sim
            .completions
            .rate(now, SimDuration::from_secs(NOW_WINDOW_S));
        let throughput_minute = sim.completions.rate(now, SimDuration::from_secs(MINUTE_S));
        let latencies: Vec<f64> = sim.latencies.values().collect();
        let p = (!latencies.is_empty()).then(|| Percentiles::of(&latencies));
        self.figures.throughput_now = throughput_now;
        self.figures.throughput_minute = throughput_minute;
        self.figures.latency_avg_s = p.map(|p| p.avg);
        self.figures.latency_p95_s = p.map(|p| p.p95);
    }

    /// A decision, with the balancer that made it (for the test's
    /// submission time, so its scheduling latency is known at once).
    pub fn on_decision(&mut self, a: &Assignment, balancer: &Balancer) {
        let submitted_at = balancer.test(a.test).map(|t| t.submitted_at);
        self.on_assignment(a, submitted_at);
    }

    /// A decision; `submitted_at` is the test's submission time if known.
    /// A first assignment adds a latency; a later one is a requeued (or
    /// moved) test placed again, and is logged.
    pub fn on_assignment(&mut self, a: &Assignment, submitted_at: Option<SimTime>) {
        self.move_to(a.time);
        let t = a.time.as_secs_f64();
        if a.epoch <= 1 {
            if let Some(submitted) = submitted_at {
                let latency = (a.time - submitted).as_secs_f64();
                self.sim().latencies.push(a.time, latency);
                self.latency.add(t, latency);
            }
        } else {
            let text = format!("{} -> {} (attempt {})", a.test, a.worker, a.attempt);
            self.events.push(t, EventKind::Requeue, text);
        }
    }

    /// A test reached its final state. Records of tests still live when the
    /// run stopped (pending, running) change nothing: `finish` counts them.
    pub fn on_final(&mut self, r: &TestRecord) {
        let at = r.finished_at.unwrap_or(self.sim().now);
        self.move_to(at);
        let t = at.as_secs_f64();
        match r.outcome {
            Outcome::Completed => {
                let sim = self.sim();
                sim.completed += 1;
                sim.completions.push(at, 1.0);
                self.throughput.add(t, 1.0);
            }
            Outcome::Failed => {
                self.sim().failed += 1;
                let text = format!("{} after {} attempt(s)", r.id, r.attempts);
                self.events.push(t, EventKind::TestFailed, text);
            }
            Outcome::Rejected => {
                self.sim().rejected += 1;
                let why = r.reason.unwrap_or("rejected");
                self.events
                    .push(t, EventKind::Rejected, format!("{}: {why}", r.id));
            }
            Outcome::Pending | Outcome::Running => {}
        }
    }

    /// A worker joined the pool.
    pub fn on_worker_joined(&mut self, worker: WorkerId, now: SimTime) {
        self.pool_fact(now, MarkKind::Join, EventKind::Join, worker.to_string());
    }

    /// A worker began to leave gracefully.
    pub fn on_worker_draining(&mut self, worker: WorkerId, now: SimTime) {
        self.pool_fact(now, MarkKind::Drain, EventKind::Drain, worker.to_string());
    }

    /// A worker crashed; `requeued` of its tests went back to pending.
    pub fn on_worker_failed(&mut self, worker: WorkerId, requeued: usize, now: SimTime) {
        self.sim().failed_workers.push(worker);
        let text = format!("{worker}, {requeued} test(s) requeued");
        self.pool_fact(now, MarkKind::Failure, EventKind::WorkerFailed, text);
    }

    fn pool_fact(&mut self, now: SimTime, mark: MarkKind, kind: EventKind, text: String) {
        self.move_to(now);
        let t = self.sim().now.as_secs_f64();
        self.mark(t, mark);
        self.events.push(t, kind, text);
    }

    /// Reads the balancer's state at `now` (read-only): test counts, pending
    /// tests by priority, each worker's phase and load; then `advance`.
    pub fn sync_pool(&mut self, balancer: &Balancer, now: SimTime) {
        self.advance(now);
        let sim = self.sim();
        let (completed, failed, rejected) = (sim.completed, sim.failed, sim.rejected);
        let finals = completed + failed + rejected;
        self.counts.completed = completed;
        self.counts.failed = failed;
        self.counts.rejected = rejected;
        self.counts.submitted = balancer.live_len() as u64 + finals;
        self.counts.pending = balancer.pending_len() as u64;
        self.counts.running = balancer.running_len() as u64;
        self.counts.assigned = 0;
        let mut by_priority = [0u64; 5];
        for id in balancer.pending_in_order() {
            if let Some(t) = balancer.test(id) {
                by_priority[usize::from(t.spec.priority.clamp(1, 5)) - 1] += 1;
            }
        }
        self.pending_by_priority = by_priority;
        let failed = std::mem::take(&mut self.sim().failed_workers);
        self.workers = balancer
            .workers()
            .iter()
            .map(|w| worker_view(w, failed.contains(&w.id)))
            .collect();
        self.sim().failed_workers = failed;
    }

    /// The run ended: the figures become the run's own, and the summary
    /// `lbsim stress` prints stays on screen.
    pub fn finish(&mut self, out: &RunOutput) {
        self.advance(SimTime::from_secs_f64(out.run.end_time));
        let m = &out.metrics;
        self.counts.submitted = m.total_tests;
        self.counts.completed = m.completed_tests;
        self.counts.failed = m.failed_tests;
        self.counts.rejected = m.rejected_tests;
        self.counts.pending = m.pending_tests;
        self.counts.running = m.running_tests;
        self.counts.assigned = 0;
        let why = match out.run.end_reason {
            EndReason::AllFinal => "every test final",
            EndReason::Horizon => "stopped at the horizon",
        };
        self.events.push(out.run.end_time, EventKind::RunEnd, why);
        let summary = report::summary(out);
        self.summary = Some(summary.lines().map(str::to_owned).collect());
    }
}

/// One worker as the balancer sees it; `failed` if it crashed.
fn worker_view(w: &WorkerState, failed: bool) -> WorkerView {
    let phase = match (w.status, w.thermal) {
        (WorkerStatus::Offline, _) if failed => Phase::Failed,
        (WorkerStatus::Offline, _) => Phase::Offline,
        (WorkerStatus::Draining, _) => Phase::Draining,
        (WorkerStatus::Active, Thermal::Warming { .. }) => Phase::Warming,
        (WorkerStatus::Active, Thermal::Cooling { .. }) => Phase::Cooling,
        (WorkerStatus::Active, Thermal::Normal) => Phase::Active,
    };
    let u = w.utilisation();
    let present = phase.is_present();
    let pct = |x: f64| if present { x * 100.0 } else { 0.0 };
    WorkerView {
        key: w.id.0.to_string(),
        name: w.id.to_string(),
        phase,
        load_pct: pct(w.effective_load()),
        cpu_pct: pct(u.cpu),
        memory_pct: pct(u.memory),
        gpu_pct: pct(u.gpu),
        running: w.running.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::model::TestId;
    use crate::balancer::model::{Backends, TestSpec, WorkerSpec};
    use crate::balancer::policy::SchedulerName;
    use crate::dashboard::events::EventKind;
    use crate::scenario::StressOptions;
    use crate::sim::{RngStreams, Stream};

    /// A worker of `mem_gb` and `cuda` devices (the core crate's policy
    /// test kit is private to its tests).
    fn spec(mem_gb: u64, cuda: u32) -> WorkerSpec {
        WorkerSpec {
            memory_mib: mem_gb * 1024,
            memory_gb: mem_gb as f64,
            cpu_cores: 4,
            cuda_devices: cuda,
            backends: Backends::for_cuda_devices(cuda),
            speed: 1.0,
        }
    }

    /// A ten-second test that needs `mem_gb` and `cuda` devices.
    fn test(mem_gb: u64, cuda: u32) -> TestSpec {
        TestSpec {
            priority: 3,
            memory_mib: mem_gb * 1024,
            cuda_devices: cuda,
            cpu_cores: 1,
            backend: (cuda > 0).then_some(Backends::CUDA),
            expected_duration: SimDuration::from_secs(10),
            model_family: 0,
            concurrency_key: None,
        }
    }

    fn state() -> DashboardState {
        let scenario = StressOptions {
            workers: 3,
            tests: 10,
            duration_s: 100.0,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        DashboardState::for_simulation(&scenario, "stress")
    }

    fn completed(id: u64, at: SimTime) -> TestRecord {
        TestRecord {
            id: TestId(id),
            priority: 3,
            memory_mib: 1024,
            cuda_devices: 0,
            submitted_at: SimTime::ZERO,
            assigned_at: Some(SimTime::ZERO),
            started_at: Some(SimTime::ZERO),
            finished_at: Some(at),
            worker: Some(WorkerId(0)),
            attempts: 1,
            requeues: 0,
            waited_us: 0,
            expected_us: 1,
            outcome: Outcome::Completed,
            reason: None,
        }
    }

    /// r completions a second for T seconds read back as r, now and over
    /// the last minute, and in every chart bucket.
    #[test]
    fn throughput_matches_a_steady_completion_rate() {
        let mut s = state();
        for k in 1..=1000u64 {
            s.on_final(&completed(k, SimTime(k * 100_000)));
        }
        s.advance(SimTime::from_secs(100));
        assert_eq!(s.figures.throughput_minute, 10.0);
        assert_eq!(s.figures.throughput_now, 10.0);
        let bucket_s = s.throughput.bucket_s();
        let points = s.throughput.points();
        assert_eq!(points.len() as f64, (100.0 / bucket_s).round());
        for (start, value) in points.into_iter().skip(1) {
            assert!(
                (value.unwrap() - 10.0).abs() < 1e-9,
                "bucket at {start}: {value:?}"
            );
        }
    }

    /// The reference showed 1.0/s for 10 tests over 3 s (a 5x undercount).
    #[test]
    fn ten_tests_over_three_seconds_read_as_ten_thirds_per_second() {
        let mut s = state();
        for k in 1..=10u64 {
            s.on_final(&completed(k, SimTime(k * 300_000)));
        }
        s.advance(SimTime::from_secs(3));
        assert!((s.figures.throughput_minute - 10.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.figures.throughput_now, 10.0 / 3.0);
    }

    #[test]
    fn latency_counts_first_assignments_and_a_second_one_is_a_requeue() {
        let mut s = state();
        let a = |test, time, epoch| Assignment {
            time: SimTime::from_secs(time),
            test: TestId(test),
            worker: WorkerId(1),
            score: 0.0,
            candidates: 1,
            attempt: epoch,
            epoch,
        };
        s.on_assignment(&a(0, 2, 1), Some(SimTime::from_secs(1)));
        s.on_assignment(&a(1, 4, 1), Some(SimTime::from_secs(1)));
        s.on_assignment(&a(0, 5, 2), Some(SimTime::from_secs(1)));
        s.advance(SimTime::from_secs(5));
        assert_eq!(s.figures.latency_avg_s, Some(2.0));
        assert_eq!(s.figures.latency_p95_s, Some(3.0));
        let last = s.events.iter().last().unwrap();
        assert_eq!(last.kind, EventKind::Requeue);
        assert_eq!(last.text, "test-000000 -> worker-0001 (attempt 2)");
        // A minute later the window is empty again.
        s.advance(SimTime::from_secs(70));
        assert_eq!(s.figures.latency_avg_s, None);
    }

    #[test]
    fn sync_pool_reads_counts_priorities_and_phases_from_the_balancer() {
        let mut b = Balancer::new(
            SchedulerName::LeastLoaded,
            RngStreams::new(1).stream(Stream::Policy),
        );
        for _ in 0..4 {
            b.register_worker(spec(8, 0), SimTime::ZERO);
        }
        for (id, priority) in [(0, 1), (1, 1), (2, 5), (3, 2)] {
            let spec = crate::balancer::model::TestSpec {
                priority,
                ..test(6, 0)
            };
            b.submit(TestId(id), spec, SimTime::ZERO).unwrap();
        }
        let mut out = Vec::new();
        b.schedule(SimTime::ZERO, &mut out);
        assert_eq!(out.len(), 4);
        let mut s = state();
        let requeued = b.fail_worker(out[0].worker, SimTime::from_secs(1));
        s.on_worker_failed(out[0].worker, requeued.len(), SimTime::from_secs(1));
        b.drain_worker(out[1].worker, SimTime::from_secs(1));
        s.on_worker_draining(out[1].worker, SimTime::from_secs(1));
        b.set_thermal(
            out[2].worker,
            Thermal::Warming {
                until: SimTime::from_secs(9),
            },
        );
        s.sync_pool(&b, SimTime::from_secs(1));
        assert_eq!(
            (s.counts.submitted, s.counts.pending, s.counts.running),
            (4, 1, 3)
        );
        assert_eq!(s.pending_by_priority, [1, 0, 0, 0, 0]);
        let phase = |w: WorkerId| s.workers[w.0 as usize].phase;
        assert_eq!(phase(out[0].worker), Phase::Failed);
        assert_eq!(phase(out[1].worker), Phase::Draining);
        assert_eq!(phase(out[2].worker), Phase::Warming);
        assert_eq!(phase(out[3].worker), Phase::Active);
        assert!(s.workers[out[3].worker.0 as usize].memory_pct > 70.0);
        assert_eq!(s.marks.len(), 2);
    }

    #[test]
    fn spike_edges_are_logged_as_time_crosses_them() {
        let scenario = StressOptions {
            workers: 3,
            tests: 10,
            duration_s: 100.0,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        let mut scenario = scenario;
        let spike = crate::scenario::Spike {
            start_s: 10.0,
            length_s: 20.0,
            multiplier: 4.0,
            ramp_s: 0.0,
        };
        scenario.arrivals = crate::scenario::Arrivals::Spiky {
            base: Box::new(scenario.arrivals.clone()),
            spikes: vec![spike],
        };
        let mut s = DashboardState::for_simulation(&scenario, "spike");
        s.advance(SimTime::from_secs(9));
        assert_eq!(s.events.len(), 0);
        s.advance(SimTime::from_secs(40));
        let kinds: Vec<EventKind> = s.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::SpikeStart, EventKind::SpikeEnd]);
        assert_eq!(s.events.iter().next().unwrap().t_s, 10.0);
        assert_eq!(s.spikes.len(), 1);
    }
}
