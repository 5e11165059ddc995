//! Workers as the dashboard shows them: a phase a person can tell apart
//! without colour, load in percent, and the busiest first.

use std::cmp::Ordering;

/// A worker's state, finer than the balancer's status: thermal phases and a
/// crash are told apart from plain activity and a graceful leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Active,
    Warming,
    Cooling,
    Draining,
    Failed,
    Offline,
}

impl Phase {
    pub(crate) const ALL: [Phase; 6] = [
        Phase::Active,
        Phase::Warming,
        Phase::Cooling,
        Phase::Draining,
        Phase::Failed,
        Phase::Offline,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Phase::Active => "active",
            Phase::Warming => "warming",
            Phase::Cooling => "cooling",
            Phase::Draining => "draining",
            Phase::Failed => "failed",
            Phase::Offline => "offline",
        }
    }

    /// A status as the coordinator writes it (`active`, `draining`, …);
    /// anything unknown reads as offline.
    pub(crate) fn from_status(status: &str) -> Phase {
        match status.trim().to_ascii_lowercase().as_str() {
            "active" | "idle" | "busy" | "normal" => Phase::Active,
            "warming" => Phase::Warming,
            "cooling" => Phase::Cooling,
            "draining" => Phase::Draining,
            "failed" | "lost" => Phase::Failed,
            _ => Phase::Offline,
        }
    }

    /// True while the worker is part of the pool (not gone or crashed).
    pub(crate) fn is_present(self) -> bool {
        !matches!(self, Phase::Failed | Phase::Offline)
    }
}

/// One worker's row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WorkerView {
    /// Stable identity across updates (the worker id).
    pub(crate) key: String,
    pub(crate) name: String,
    pub(crate) phase: Phase,
    /// Overall load, percent (0–100): what the balancer weighs.
    pub(crate) load_pct: f64,
    pub(crate) cpu_pct: f64,
    pub(crate) memory_pct: f64,
    pub(crate) gpu_pct: f64,
    /// Tests it holds now.
    pub(crate) running: u64,
}

impl WorkerView {
    /// True if `filter` (lowercase) is in its name or its phase.
    pub(crate) fn matches(&self, filter: &str) -> bool {
        filter.is_empty()
            || self.name.to_lowercase().contains(filter)
            || self.phase.label().contains(filter)
    }
}

/// How the busiest-workers table is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SortOrder {
    #[default]
    Load,
    Running,
    Name,
}

impl SortOrder {
    pub(crate) fn next(self) -> SortOrder {
        match self {
            SortOrder::Load => SortOrder::Running,
            SortOrder::Running => SortOrder::Name,
            SortOrder::Name => SortOrder::Load,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            SortOrder::Load => "load",
            SortOrder::Running => "running",
            SortOrder::Name => "name",
        }
    }

    fn compare(self, a: &WorkerView, b: &WorkerView) -> Ordering {
        let by_name = || a.name.cmp(&b.name);
        match self {
            SortOrder::Load => b.load_pct.total_cmp(&a.load_pct).then_with(by_name),
            SortOrder::Running => b.running.cmp(&a.running).then_with(by_name),
            SortOrder::Name => by_name(),
        }
    }
}

/// The workers that match `filter`, in `order`: present ones first, so a
/// crashed or departed worker never hides a busy one.
pub(crate) fn busiest<'a>(
    workers: &'a [WorkerView],
    order: SortOrder,
    filter: &str,
) -> Vec<&'a WorkerView> {
    let filter = filter.to_lowercase();
    let mut out: Vec<&WorkerView> = workers.iter().filter(|w| w.matches(&filter)).collect();
    out.sort_by(|a, b| {
        b.phase
            .is_present()
            .cmp(&a.phase.is_present())
            .then_with(|| order.compare(a, b))
    });
    out
}

/// How many workers are in each phase, in `Phase::ALL` order.
pub(crate) fn phase_counts(workers: &[WorkerView]) -> [u64; 6] {
    let mut out = [0; 6];
    for w in workers {
        out[w.phase as usize] += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(name: &str, phase: Phase, load_pct: f64, running: u64) -> WorkerView {
        WorkerView {
            key: name.into(),
            name: name.into(),
            phase,
            load_pct,
            cpu_pct: 0.0,
            memory_pct: 0.0,
            gpu_pct: 0.0,
            running,
        }
    }

    #[test]
    fn busiest_sorts_present_workers_first_then_by_the_order() {
        let ws = vec![
            worker("a", Phase::Failed, 99.0, 0),
            worker("b", Phase::Active, 10.0, 3),
            worker("c", Phase::Warming, 50.0, 1),
        ];
        let names = |o| -> Vec<&str> {
            busiest(&ws, o, "")
                .iter()
                .map(|w| w.name.as_str())
                .collect()
        };
        assert_eq!(names(SortOrder::Load), ["c", "b", "a"]);
        assert_eq!(names(SortOrder::Running), ["b", "c", "a"]);
        assert_eq!(names(SortOrder::Name), ["b", "c", "a"]);
    }

    #[test]
    fn the_filter_matches_names_and_phases_ignoring_case() {
        let ws = vec![
            worker("GPU-1", Phase::Active, 0.0, 0),
            worker("cpu-2", Phase::Draining, 0.0, 0),
        ];
        assert_eq!(busiest(&ws, SortOrder::Name, "gpu").len(), 1);
        assert_eq!(busiest(&ws, SortOrder::Name, "DRAIN")[0].name, "cpu-2");
        assert_eq!(phase_counts(&ws), [1, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn coordinator_statuses_map_to_phases() {
        assert_eq!(Phase::from_status("Draining"), Phase::Draining);
        assert_eq!(Phase::from_status("warming"), Phase::Warming);
        assert_eq!(Phase::from_status("gone?"), Phase::Offline);
    }
}
