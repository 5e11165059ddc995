//! The monitor feed: turns each `/v1/status` document (or a failed poll)
//! into the dashboard's model. Changes between two documents (a worker that
//! appeared, began draining or vanished; more rejections) become events.

use super::events::EventKind;
use super::feed::{Feed, MonitorTracker};
use super::series::{Series, SeriesKind};
use super::state::{
    DashboardState, Figures, MarkKind, MonitorHeader, PollState, Source, SERIES_CAPACITY,
};
use super::status::{status_name, StatusDoc, WorkerLoadView};
use super::workers::{Phase, WorkerView};

impl DashboardState {
    /// A model for a coordinator at `url`, polled every `interval_s`
    /// seconds (one chart bucket per poll).
    pub fn for_monitor(url: impl Into<String>, interval_s: f64) -> DashboardState {
        let source = Source::Monitor(MonitorHeader {
            url: url.into(),
            scheduler: String::new(),
            uptime_s: 0.0,
            polls_ok: 0,
            last_poll: PollState::Waiting,
        });
        let bucket_s = if interval_s.is_finite() && interval_s > 0.0 {
            interval_s
        } else {
            1.0
        };
        let throughput = Series::new(SeriesKind::Gauge, bucket_s, SERIES_CAPACITY);
        let latency = Series::new(SeriesKind::Gauge, bucket_s, SERIES_CAPACITY);
        let feed = Feed::Monitor(MonitorTracker::default());
        DashboardState::with_parts(source, throughput, latency, feed)
    }

    fn monitor(&mut self) -> &mut MonitorTracker {
        match &mut self.feed {
            Feed::Monitor(t) => t,
            Feed::Sim(_) => panic!("a status document fed to a simulation dashboard"),
        }
    }

    /// A poll answered with `doc`.
    pub fn on_status(&mut self, doc: &StatusDoc) {
        let t = doc.uptime_s.max(0.0);
        let tracker = self.monitor();
        let restarted = tracker.seen_any && t < tracker.uptime_s;
        if restarted {
            self.throughput.clear();
            self.latency.clear();
            self.marks.clear();
            self.events.push(
                t,
                EventKind::Poll,
                "coordinator restarted (uptime went back)",
            );
        }
        if let Source::Monitor(h) = &mut self.source {
            if matches!(h.last_poll, PollState::Failed { .. }) {
                self.events
                    .push(t, EventKind::Poll, "coordinator answers again");
            }
            h.scheduler = doc.scheduler.clone();
            h.uptime_s = t;
            h.polls_ok += 1;
            h.last_poll = PollState::Ok;
        }
        let throughput_now = self.throughput_since_last(doc);
        self.apply_counts(doc, t);
        self.apply_workers(&doc.workers.live, t);
        self.unlisted_offline = doc.workers.offline;
        self.pending_by_priority = doc.pending_by_priority;
        let m = &doc.last_minute;
        // No assignment in the last minute: no latency to show (the server
        // writes 0 for an empty window).
        let latency = |x: f64| (m.assigned_per_s > 0.0).then_some(x);
        self.figures = Figures {
            latency_avg_s: latency(m.latency_avg_s),
            latency_p95_s: latency(m.latency_p95_s),
            throughput_now: throughput_now.unwrap_or(m.completed_per_s),
            throughput_minute: m.completed_per_s,
        };
        self.throughput.set(t, self.figures.throughput_now);
        if let Some(avg) = self.figures.latency_avg_s {
            self.latency.set(t, avg);
        } else {
            self.latency.advance(t);
        }
        let tracker = self.monitor();
        tracker.uptime_s = t;
        tracker.store_s = doc.now;
        tracker.seen_any = true;
    }

    /// Tests completed per second between the previous document and this
    /// one, by the store's clock; `None` for the first document, or when
    /// the store's time or counts went back (another store).
    fn throughput_since_last(&mut self, doc: &StatusDoc) -> Option<f64> {
        let tracker = self.monitor();
        let elapsed_s = doc.now - tracker.store_s;
        let was = tracker.counts.completed;
        (tracker.seen_any && elapsed_s > 0.0 && doc.tests.completed >= was)
            .then(|| (doc.tests.completed - was) as f64 / elapsed_s)
    }

    /// A poll failed (`message` says why, in one line). The last figures
    /// stay on screen; the header says the poll failed.
    pub fn on_poll_failed(&mut self, message: &str) {
        let t = self.now_s();
        let Source::Monitor(h) = &mut self.source else {
            return;
        };
        let in_a_row = match &h.last_poll {
            PollState::Failed { in_a_row, .. } => in_a_row + 1,
            _ => 1,
        };
        if in_a_row == 1 {
            self.events
                .push(t, EventKind::Poll, format!("poll failed: {message}"));
        }
        h.last_poll = PollState::Failed {
            message: message.to_owned(),
            in_a_row,
        };
    }

    fn apply_counts(&mut self, doc: &StatusDoc, t: f64) {
        let counts = doc.tests;
        let before = std::mem::replace(&mut self.monitor().counts, counts);
        if self.monitor().seen_any {
            let more = |now: u64, was: u64| now.saturating_sub(was);
            let rejected = more(counts.rejected, before.rejected);
            if rejected > 0 {
                self.events.push(
                    t,
                    EventKind::Rejected,
                    format!("{rejected} test(s) rejected"),
                );
            }
            let failed = more(counts.failed, before.failed);
            if failed > 0 {
                self.events
                    .push(t, EventKind::TestFailed, format!("{failed} test(s) failed"));
            }
        }
        self.counts = counts;
    }

    fn apply_workers(&mut self, docs: &[WorkerLoadView], t: f64) {
        let views: Vec<WorkerView> = docs.iter().map(worker_view).collect();
        let before = std::mem::take(&mut self.monitor().phases);
        let first = !self.monitor().seen_any;
        if first {
            let text = format!("attached: {} worker(s)", views.len());
            self.events.push(t, EventKind::Poll, text);
        }
        for w in &views {
            match before.get(&w.key) {
                _ if first => {}
                None => self.pool_change(t, MarkKind::Join, EventKind::Join, w.name.clone()),
                Some(&was) if was != w.phase => self.phase_change(t, w, was),
                Some(_) => {}
            }
        }
        for (key, was) in &before {
            if was.is_present() && !views.iter().any(|w| &w.key == key) {
                self.events
                    .push(t, EventKind::Offline, format!("{key} left"));
            }
        }
        self.monitor().phases = views.iter().map(|w| (w.key.clone(), w.phase)).collect();
        self.workers = views;
    }

    fn phase_change(&mut self, t: f64, w: &WorkerView, was: Phase) {
        let name = &w.name;
        match w.phase {
            Phase::Draining => self.pool_change(t, MarkKind::Drain, EventKind::Drain, name.clone()),
            Phase::Failed => {
                self.pool_change(t, MarkKind::Failure, EventKind::WorkerFailed, name.clone())
            }
            Phase::Offline if was.is_present() => {
                self.events
                    .push(t, EventKind::Offline, format!("{name} offline"))
            }
            Phase::Active if !was.is_present() => {
                self.pool_change(t, MarkKind::Join, EventKind::Join, format!("{name} back"))
            }
            _ => {}
        }
    }

    fn pool_change(&mut self, t: f64, mark: MarkKind, kind: EventKind, text: String) {
        self.mark(t, mark);
        self.events.push(t, kind, text);
    }
}

/// One live worker as the coordinator reports it: its overall load is the
/// balancer's effective load, as in a simulation; the resources are the
/// worker's last heartbeat, in percent.
fn worker_view(doc: &WorkerLoadView) -> WorkerView {
    let key = doc.worker_id.to_string();
    let pct = |x: f64| {
        if x.is_finite() {
            x.clamp(0.0, 100.0)
        } else {
            0.0
        }
    };
    let phase = Phase::from_status(status_name(doc.status));
    WorkerView {
        name: doc
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("worker {key}")),
        key,
        phase,
        load_pct: if phase.is_present() {
            pct(doc.effective_load * 100.0)
        } else {
            0.0
        },
        cpu_pct: pct(doc.load.cpu),
        memory_pct: pct(doc.load.memory),
        gpu_pct: pct(doc.load.gpu),
        running: doc.tests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::events::EventKind;
    use crate::dashboard::status::parse;

    /// A document as the server writes it; `workers` are `live` entries.
    fn doc(uptime_s: f64, workers: &str, rejected: u64) -> StatusDoc {
        parse(&format!(
            r#"{{"scheduler": "least_loaded", "uptime_s": {uptime_s}, "now": {uptime_s},
                "tests": {{"submitted": 10, "pending": 2, "assigned": 0, "running": 3,
                           "completed": 5, "failed": 0, "rejected": {rejected}}},
                "workers": {{"active": 1, "draining": 0, "offline": 0, "live": [{workers}]}},
                "pending_by_priority": [2, 0, 0, 0, 0],
                "last_minute": {{"assigned_per_s": 1.0, "completed_per_s": 1.5,
                                 "latency_avg_s": 0.25, "latency_p95_s": 0.9, "latency_max_s": 1.0}},
                "totals": {{"assigned": 5, "lost": 0, "worker_timeouts": 0}}}}"#
        ))
        .unwrap()
    }

    fn worker(id: u64, status: &str) -> String {
        format!(
            r#"{{"worker_id": {id}, "name": null, "status": "{status}",
                 "load": {{"cpu": 40, "memory": 70, "gpu": 0}}, "effective_load": 0.5, "tests": 1}}"#
        )
    }

    fn kinds(s: &DashboardState) -> Vec<EventKind> {
        s.events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn a_document_fills_the_figures_counts_and_workers() {
        let mut s = DashboardState::for_monitor("http://127.0.0.1:8080", 1.0);
        let named = worker(1, "active").replace("null", r#""gpu-1""#);
        s.on_status(&doc(12.0, &named, 0));
        assert_eq!(
            (s.counts.submitted, s.counts.running, s.counts.rejected),
            (10, 3, 0)
        );
        assert_eq!(s.figures.throughput_minute, 1.5);
        assert_eq!(s.figures.throughput_now, 1.5);
        assert_eq!(s.figures.latency_p95_s, Some(0.9));
        assert_eq!(s.pending_by_priority, [2, 0, 0, 0, 0]);
        assert_eq!(s.workers[0].name, "gpu-1");
        assert_eq!(s.workers[0].load_pct, 50.0);
        assert_eq!(s.workers[0].memory_pct, 70.0);
        assert_eq!(s.now_s(), 12.0);
        assert_eq!(kinds(&s), [EventKind::Poll]);
        let Source::Monitor(h) = &s.source else {
            unreachable!()
        };
        assert_eq!((h.scheduler.as_str(), h.polls_ok), ("least_loaded", 1));
    }

    #[test]
    fn throughput_now_is_the_completions_between_two_polls() {
        let mut s = DashboardState::for_monitor("http://x", 1.0);
        s.on_status(&doc(10.0, "", 0));
        let mut later = doc(12.0, "", 0);
        later.tests.completed += 8;
        s.on_status(&later);
        assert_eq!(s.figures.throughput_now, 4.0);
        assert_eq!(s.figures.throughput_minute, 1.5);
    }

    #[test]
    fn an_idle_minute_shows_no_latency() {
        let mut s = DashboardState::for_monitor("http://x", 1.0);
        let mut idle = doc(10.0, "", 0);
        idle.last_minute.assigned_per_s = 0.0;
        idle.last_minute.latency_avg_s = 0.0;
        s.on_status(&idle);
        assert_eq!(s.figures.latency_avg_s, None);
        assert_eq!(s.figures.latency_p95_s, None);
    }

    #[test]
    fn changes_between_documents_become_events_and_marks() {
        let mut s = DashboardState::for_monitor("http://x", 1.0);
        s.on_status(&doc(
            1.0,
            &format!("{}, {}", worker(1, "active"), worker(2, "active")),
            0,
        ));
        let next = format!("{}, {}", worker(2, "draining"), worker(3, "active"));
        s.on_status(&doc(2.0, &next, 2));
        let texts: Vec<&str> = s.events.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "attached: 2 worker(s)",
                "2 test(s) rejected",
                "worker 2",
                "worker 3",
                "1 left"
            ]
        );
        let marks: Vec<MarkKind> = s.marks.iter().map(|m| m.kind).collect();
        assert_eq!(marks, [MarkKind::Drain, MarkKind::Join]);
    }

    #[test]
    fn a_failed_poll_keeps_the_figures_and_is_logged_once() {
        let mut s = DashboardState::for_monitor("http://x", 1.0);
        s.on_status(&doc(5.0, "", 0));
        s.on_poll_failed("connection refused");
        s.on_poll_failed("connection refused");
        let Source::Monitor(h) = &s.source else {
            unreachable!()
        };
        assert_eq!(
            h.last_poll,
            PollState::Failed {
                message: "connection refused".into(),
                in_a_row: 2
            }
        );
        assert_eq!(s.figures.throughput_minute, 1.5);
        s.on_status(&doc(8.0, "", 0));
        let texts: Vec<&str> = s.events.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts[1..],
            [
                "poll failed: connection refused",
                "coordinator answers again"
            ]
        );
    }

    #[test]
    fn uptime_going_back_is_a_restart_and_clears_the_charts() {
        let mut s = DashboardState::for_monitor("http://x", 1.0);
        for t in [10.0, 11.0, 12.0] {
            s.on_status(&doc(t, "", 0));
        }
        assert_eq!(s.throughput.points().len(), 3);
        s.on_status(&doc(1.0, "", 0));
        assert_eq!(s.throughput.points(), vec![(1.0, Some(1.5))]);
        assert!(s.events.iter().any(|e| e.text.contains("restarted")));
    }
}
