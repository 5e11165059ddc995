//! What each feed remembers between updates, apart from the model it
//! feeds. The trackers live here, below both the model (`state`, which holds
//! one) and the feeds (`sim_feed`, `monitor_feed`, which update it), so the
//! model does not import the code that writes it.

use std::collections::BTreeMap;

use super::window::TimeWindow;
use super::workers::Phase;
use crate::balancer::model::WorkerId;
use crate::service::core::views::StatusCounts;
use crate::sim::SimTime;

/// Where the facts come from, and what that feed remembers between updates.
#[derive(Clone, Debug)]
pub(super) enum Feed {
    Sim(Box<SimTracker>),
    Monitor(MonitorTracker),
}

/// What the simulation feed remembers between facts.
#[derive(Clone, Debug)]
pub(super) struct SimTracker {
    pub(super) now: SimTime,
    pub(super) completions: TimeWindow,
    /// First-assignment latencies, seconds.
    pub(super) latencies: TimeWindow,
    pub(super) completed: u64,
    pub(super) failed: u64,
    pub(super) rejected: u64,
    /// Spike starts and ends `(time s, is start, what)`, in time order.
    pub(super) edges: Vec<(f64, bool, String)>,
    pub(super) next_edge: usize,
    /// Workers that crashed (the balancer only says "offline").
    pub(super) failed_workers: Vec<WorkerId>,
}

/// What the monitor feed remembers from the previous document.
#[derive(Clone, Debug, Default)]
pub(super) struct MonitorTracker {
    /// Phase by worker id, from the last good document.
    pub(super) phases: BTreeMap<String, Phase>,
    pub(super) counts: StatusCounts,
    pub(super) uptime_s: f64,
    /// The previous document's store time (`now`), seconds.
    pub(super) store_s: f64,
    pub(super) seen_any: bool,
}
