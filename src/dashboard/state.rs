//! The dashboard's model: everything the panes show, filled by a feed (a
//! simulation's facts or a coordinator's status) and read by the renderer.
//! It never reads a clock: time is whatever the feed says it is.

use std::collections::VecDeque;

use super::events::EventLog;
use super::feed::Feed;
use super::series::Series;
use super::workers::WorkerView;
/// Tests by state: the coordinator's wire type, so a polled document is
/// kept as it came.
pub use crate::service::core::views::StatusCounts;

/// Events kept in the log.
pub(crate) const EVENT_LOG_CAPACITY: usize = 500;
/// Buckets kept per chart (more than the widest screen shows).
pub(crate) const SERIES_CAPACITY: usize = 400;
/// Pool marks (joins, drains, failures) kept for the charts.
pub(crate) const MARK_CAPACITY: usize = 1000;

/// What the dashboard watches, for the header.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Simulation(SimHeader),
    Monitor(MonitorHeader),
}

/// A simulated run.
#[derive(Clone, Debug, PartialEq)]
pub struct SimHeader {
    /// What runs: `stress`, `scenario NAME`, `replay FILE`…
    pub(crate) label: String,
    pub(crate) seed: u64,
    pub(crate) scheduler: String,
    pub(crate) now_s: f64,
    pub(crate) horizon_s: f64,
}

/// A coordinator polled over HTTP.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorHeader {
    pub(crate) url: String,
    pub(crate) scheduler: String,
    pub(crate) uptime_s: f64,
    pub(crate) polls_ok: u64,
    pub(crate) last_poll: PollState,
}

/// How the last poll went.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PollState {
    /// No answer yet.
    Waiting,
    Ok,
    Failed {
        message: String,
        in_a_row: u32,
    },
}

/// The headline numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Figures {
    /// Scheduling latency of tests first assigned in the last minute, s.
    pub(crate) latency_avg_s: Option<f64>,
    pub(crate) latency_p95_s: Option<f64>,
    /// Tests completed per second over the last few seconds.
    pub(crate) throughput_now: f64,
    /// Tests completed per second over the last minute.
    pub(crate) throughput_minute: f64,
}

/// A change to the pool, marked on the charts' time axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MarkKind {
    Join,
    Drain,
    Failure,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mark {
    pub(crate) t_s: f64,
    pub(crate) kind: MarkKind,
}

/// A window of changed load, seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SpikeWindow {
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
}

/// Everything the dashboard shows.
#[derive(Clone, Debug)]
pub struct DashboardState {
    pub(crate) source: Source,
    pub(crate) counts: StatusCounts,
    pub(crate) figures: Figures,
    /// Tests completed per second, per bucket.
    pub(crate) throughput: Series,
    /// Mean scheduling latency per bucket, seconds.
    pub(crate) latency: Series,
    pub(crate) spikes: Vec<SpikeWindow>,
    pub(crate) marks: VecDeque<Mark>,
    /// Pending tests for priorities 1 to 5.
    pub(crate) pending_by_priority: [u64; 5],
    /// In id order (a worker keeps its place in the heat strip).
    pub(crate) workers: Vec<WorkerView>,
    /// Offline workers not in `workers` (a coordinator lists only its live
    /// ones, and counts the rest).
    pub(crate) unlisted_offline: u64,
    pub(crate) events: EventLog,
    /// The batch command's summary lines, once the run has ended.
    pub(crate) summary: Option<Vec<String>>,
    pub(super) feed: Feed,
}

impl DashboardState {
    pub(super) fn with_parts(
        source: Source,
        throughput: Series,
        latency: Series,
        feed: Feed,
    ) -> Self {
        DashboardState {
            source,
            counts: StatusCounts::default(),
            figures: Figures::default(),
            throughput,
            latency,
            spikes: Vec::new(),
            marks: VecDeque::new(),
            pending_by_priority: [0; 5],
            workers: Vec::new(),
            unlisted_offline: 0,
            events: EventLog::new(EVENT_LOG_CAPACITY),
            summary: None,
            feed,
        }
    }

    /// Simulated seconds, or the coordinator's uptime.
    pub(crate) fn now_s(&self) -> f64 {
        match &self.source {
            Source::Simulation(h) => h.now_s,
            Source::Monitor(h) => h.uptime_s,
        }
    }

    /// True once a simulated run has ended (its summary is on screen).
    pub(crate) fn is_finished(&self) -> bool {
        self.summary.is_some()
    }

    pub(super) fn mark(&mut self, t_s: f64, kind: MarkKind) {
        if self.marks.len() == MARK_CAPACITY {
            self.marks.pop_front();
        }
        self.marks.push_back(Mark { t_s, kind });
    }
}
