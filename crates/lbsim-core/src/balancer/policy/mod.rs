//! Scheduling policies: one trait, one small file per policy, one name table.
//!
//! A policy sees a read-only view of the cluster and returns a worker that
//! fits the test now, or `None`. It never returns a worker that does not fit:
//! the balancer checks, and treats a violation as a bug.

mod adaptive;
mod affinity_based;
mod best_fit;
mod common;
mod composite;
mod fifo;
mod least_loaded;
mod longest_first;
mod look;
mod needs;
mod performance_based;
mod power_of_two;
mod priority_based;
mod random;
mod round_robin;
mod weighted_round_robin;

use super::index::FitTree;
use super::leaf::RankKey;
use super::load_sum::SystemLoad;
use super::model::{Shape, TestId, TestSpec, WorkerId};
use super::tally::TallyKind;
use super::worker::WorkerState;
use crate::sim::{SimRng, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt;

pub(crate) use adaptive::Adaptive;
pub(crate) use affinity_based::AffinityBased;
pub use best_fit::BestFit;
pub(crate) use composite::Composite;
pub use composite::CompositeWeights;
pub use fifo::Fifo;
pub use least_loaded::LeastLoaded;
pub(crate) use longest_first::queue_order;
pub(crate) use longest_first::LongestFirst;
pub(crate) use look::MUTED;
pub use look::{Colour, Look, Marker, PALETTE};
pub use needs::Needs;
pub(crate) use needs::{index_for, needs_system_load};
pub use performance_based::PerformanceBased;
pub use power_of_two::PowerOfTwo;
pub(crate) use priority_based::PriorityBased;
pub use random::Random;
pub use round_robin::RoundRobin;
pub(crate) use weighted_round_robin::WeightedRoundRobin;

/// The test a policy is asked to place.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The test's id.
    pub test: TestId,
    /// What it needs and expects.
    pub spec: &'a TestSpec,
    /// Its resource demand, for fit checks.
    pub shape: Shape,
}

/// A policy's answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    /// The worker the test goes to.
    pub worker: WorkerId,
    /// The policy's score for that worker (its meaning is the policy's).
    pub score: f64,
    /// Workers the policy examined to decide (its real cost).
    pub candidates: u32,
}

impl From<super::index::Found> for Choice {
    /// An index search's answer as a choice: its key is the score.
    fn from(f: super::index::Found) -> Choice {
        Choice {
            worker: f.worker,
            score: f.key,
            candidates: f.examined,
        }
    }
}

/// What a policy may look at.
pub struct ClusterView<'a> {
    /// The simulated time of the decision.
    pub now: SimTime,
    /// Every worker, in id order (offline ones included: check the status).
    pub workers: &'a [WorkerState],
    pub(crate) index: &'a FitTree,
    /// The active workers' loads, summed as they change.
    pub(crate) load: SystemLoad,
}

impl<'a> ClusterView<'a> {
    /// Every worker, in id order (as the field, for the view's lifetime).
    pub fn workers(&self) -> &'a [WorkerState] {
        self.workers
    }

    /// One worker by id.
    pub fn worker(&self, id: WorkerId) -> &'a WorkerState {
        &self.workers[id.0 as usize]
    }

    /// The capacity index (for O(log W) policies).
    pub fn index(&self) -> &'a FitTree {
        self.index
    }

    /// Every worker that fits `shape` now, in id order (O(W)).
    pub fn fitting(&self, shape: &Shape) -> Vec<WorkerId> {
        self.index.fitting(shape)
    }

    /// Mean effective load of the active workers (offline ones do not count,
    /// unlike the original's). O(1): the balancer keeps the sum.
    pub(crate) fn system_load(&self) -> f64 {
        self.load.mean()
    }
}

/// Facts a policy may learn from after a test finishes.
#[derive(Clone, Copy, Debug)]
pub struct Finished<'a> {
    /// The test that finished.
    pub test: TestId,
    /// What it needed and expected.
    pub spec: &'a TestSpec,
    /// The worker it ran on.
    pub worker: WorkerId,
    /// Whether the run passed.
    pub success: bool,
    /// Scheduling latency of this test, seconds.
    pub(crate) latency_s: f64,
}

/// A scheduling policy.
pub trait Policy: Send {
    /// Picks a worker that fits `req` now, or `None` if none fits.
    fn select(&mut self, req: &Request, cluster: &ClusterView, rng: &mut SimRng) -> Option<Choice>;

    /// Called after the balancer commits an assignment.
    fn on_assigned(&mut self, _req: &Request, _worker: WorkerId) {}

    /// Called when a test finishes, for policies that learn.
    fn on_finished(&mut self, _done: &Finished) {}
}

/// The policies lbsim knows, by the reference's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerName {
    /// Highest 0.7 × history score + 0.3 × (1 − load) among fitting workers
    /// (the default).
    PerformanceBased,
    /// The next fitting worker after the last one chosen, in worker order.
    RoundRobin,
    /// A random fitting worker, weighted by 1 − effective load.
    WeightedRoundRobin,
    /// By priority: 1–2 the fastest by history, 3 a balanced score, 4–5
    /// weighted random.
    PriorityBased,
    /// The worker that last ran the test's model family, else the least
    /// loaded.
    AffinityBased,
    /// A weighted vote of member policies (`--composite-weights`).
    Composite,
    /// Switches policy by system load and observed delay.
    Adaptive,
    /// A uniformly random fitting worker (a baseline).
    Random,
    /// The fitting worker with the lowest effective load (a baseline).
    LeastLoaded,
    /// The less loaded of two random fitting workers (a baseline).
    PowerOfTwo,
    /// The fitting worker with the least free memory (bin packing).
    BestFit,
    /// The first fitting worker in id order: no balancing (a baseline).
    Fifo,
    /// The longest expected run first, onto the least loaded fitting worker
    /// (LPT, for makespan).
    LongestFirst,
}

/// One row of the name table: everything the rest of lbsim knows of a
/// policy, so a new policy is its file plus its row (and its variant).
pub struct SchedulerInfo {
    /// The policy's variant.
    pub name: SchedulerName,
    /// Its name on the command line, in configs and in results.
    pub id: &'static str,
    /// One line for `lbsim list`.
    pub description: &'static str,
    /// What the balancer keeps for it (index keys, tallies, load sum).
    pub needs: Needs,
    /// Picks by itself, not through other policies: only a plain policy
    /// may be a member of `composite`.
    pub(crate) is_plain: bool,
    /// Its colour and marker in every chart.
    pub look: Look,
    /// A fresh instance; the weights configure `composite`.
    pub build: fn(&CompositeWeights) -> Box<dyn Policy>,
}

const PERFORMANCE: Needs = Needs::ranked_by(RankKey::Performance);

/// The name table, in `SchedulerName`'s order: `--list-schedulers` prints
/// it; `--scheduler` parses from it; the balancer builds from it.
pub const SCHEDULERS: &[SchedulerInfo] = &[
    SchedulerInfo {
        name: SchedulerName::PerformanceBased,
        id: "performance_based",
        description:
            "highest 0.7 x history score + 0.3 x (1 - load) among fitting workers (default)",
        needs: PERFORMANCE,
        is_plain: true,
        look: Look { colour: PALETTE[0], marker: Marker::Circle },
        build: |_| Box::new(PerformanceBased),
    },
    SchedulerInfo {
        name: SchedulerName::RoundRobin,
        id: "round_robin",
        description: "next fitting worker after the last one chosen, in worker order",
        needs: PERFORMANCE,
        is_plain: true,
        look: Look { colour: PALETTE[1], marker: Marker::Square },
        build: |_| Box::new(RoundRobin::default()),
    },
    SchedulerInfo {
        name: SchedulerName::WeightedRoundRobin,
        id: "weighted_round_robin",
        description: "random fitting worker, weighted by 1 - effective load",
        needs: PERFORMANCE.with_tallies(&[TallyKind::Idleness]),
        is_plain: true,
        look: Look { colour: PALETTE[2], marker: Marker::Triangle },
        build: |_| Box::new(WeightedRoundRobin),
    },
    SchedulerInfo {
        name: SchedulerName::PriorityBased,
        id: "priority_based",
        description: "priority 1-2: fastest by history; 3: balanced score; 4-5: weighted random",
        needs: Needs::ranked_by(RankKey::Speed)
            .with_tallies(&[TallyKind::Idleness, TallyKind::MaxKey(RankKey::Balanced)]),
        is_plain: true,
        look: Look { colour: PALETTE[3], marker: Marker::Diamond },
        build: |_| Box::new(PriorityBased),
    },
    SchedulerInfo {
        name: SchedulerName::AffinityBased,
        id: "affinity_based",
        description: "the worker that last ran the test's model family, else the least loaded",
        needs: Needs::ranked_by(RankKey::Idle),
        is_plain: true,
        look: Look { colour: PALETTE[4], marker: Marker::InvertedTriangle },
        build: |_| Box::new(AffinityBased::default()),
    },
    SchedulerInfo {
        name: SchedulerName::Composite,
        id: "composite",
        description: "weighted vote of member policies (--composite-weights)",
        needs: Needs { members: true, ..PERFORMANCE },
        is_plain: false,
        look: Look { colour: PALETTE[5], marker: Marker::OpenCircle },
        build: |weights| Box::new(Composite::new(weights)),
    },
    SchedulerInfo {
        name: SchedulerName::Adaptive,
        id: "adaptive",
        description: "by load and observed delay: >0.8 performance/weighted, <0.3 affinity, else priority; failing runs: performance",
        needs: Needs { system_load: true, ..PERFORMANCE.with_tallies(&[TallyKind::Idleness]) },
        is_plain: false,
        look: Look { colour: PALETTE[6], marker: Marker::OpenSquare },
        build: |_| Box::new(Adaptive::default()),
    },
    SchedulerInfo {
        name: SchedulerName::Random,
        id: "random",
        description: "uniformly random fitting worker (baseline)",
        needs: PERFORMANCE.with_tallies(&[TallyKind::Count]),
        is_plain: true,
        look: Look { colour: PALETTE[7], marker: Marker::OpenTriangle },
        build: |_| Box::new(Random),
    },
    SchedulerInfo {
        name: SchedulerName::LeastLoaded,
        id: "least_loaded",
        description: "fitting worker with the lowest effective load (baseline)",
        needs: Needs::ranked_by(RankKey::Idle),
        is_plain: true,
        look: Look { colour: MUTED[0], marker: Marker::OpenDiamond },
        build: |_| Box::new(LeastLoaded),
    },
    SchedulerInfo {
        name: SchedulerName::PowerOfTwo,
        id: "power_of_two",
        description: "two random fitting workers, the less loaded of them (baseline)",
        needs: PERFORMANCE.with_tallies(&[TallyKind::Count]),
        is_plain: true,
        look: Look { colour: MUTED[1], marker: Marker::OpenInvertedTriangle },
        build: |_| Box::new(PowerOfTwo),
    },
    SchedulerInfo {
        name: SchedulerName::BestFit,
        id: "best_fit",
        description: "fitting worker with the least free memory (bin-packing baseline)",
        needs: Needs { memory_order: true, ..PERFORMANCE },
        is_plain: true,
        look: Look { colour: MUTED[2], marker: Marker::Plus },
        build: |_| Box::new(BestFit),
    },
    SchedulerInfo {
        name: SchedulerName::Fifo,
        id: "fifo",
        description: "first fitting worker in id order: no balancing (baseline)",
        needs: PERFORMANCE,
        is_plain: true,
        look: Look { colour: MUTED[3], marker: Marker::Cross },
        build: |_| Box::new(Fifo),
    },
    SchedulerInfo {
        name: SchedulerName::LongestFirst,
        id: "longest_first",
        description: "longest expected run first, onto the least loaded fitting worker (LPT, for makespan)",
        needs: Needs { longest_first: true, ..Needs::ranked_by(RankKey::Idle) },
        is_plain: true,
        // Paul Tol's muted green: new in hue and lightness.
        look: Look { colour: Colour(17, 119, 51), marker: Marker::Circle },
        build: |_| Box::new(LongestFirst),
    },
];

impl SchedulerName {
    /// The policy a run uses unless told otherwise.
    pub const DEFAULT: SchedulerName = SchedulerName::PerformanceBased;

    /// This policy's row of [`SCHEDULERS`] (O(1): the table follows the
    /// enum's order, which a test checks).
    pub fn info(self) -> &'static SchedulerInfo {
        &SCHEDULERS[self as usize]
    }

    /// Its name on the command line, in configs and in results.
    pub fn as_str(self) -> &'static str {
        self.info().id
    }

    /// Parses a name from the table; the error lists the known names.
    pub fn parse(name: &str) -> Result<SchedulerName, UnknownScheduler> {
        SCHEDULERS
            .iter()
            .find(|s| s.id == name)
            .map(|s| s.name)
            .ok_or_else(|| UnknownScheduler {
                name: name.to_string(),
            })
    }

    /// A fresh policy instance (composite with its default weights).
    pub fn build(self) -> Box<dyn Policy> {
        self.build_with(&CompositeWeights::default())
    }

    /// A fresh policy instance; `weights` configures `composite`.
    pub(crate) fn build_with(self, weights: &CompositeWeights) -> Box<dyn Policy> {
        (self.info().build)(weights)
    }
}

impl fmt::Display for SchedulerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SchedulerName {
    type Err = UnknownScheduler;
    fn from_str(s: &str) -> Result<Self, UnknownScheduler> {
        SchedulerName::parse(s)
    }
}

/// A scheduler name that is not in the table (a flag, a config field, a
/// composite member).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scheduler '{name}' (known: {})", known_names())]
pub struct UnknownScheduler {
    /// The name as given.
    pub name: String,
}

fn known_names() -> String {
    let known: Vec<&str> = SCHEDULERS.iter().map(|s| s.id).collect();
    known.join(", ")
}

#[cfg(test)]
pub(crate) mod testkit {
    //! A tiny hand-built cluster for policy tests.
    use super::*;
    use crate::balancer::model::{Backends, WorkerSpec, WorkerStatus};
    use crate::sim::SimDuration;

    pub(crate) fn spec(mem_gb: u64, cuda: u32) -> WorkerSpec {
        WorkerSpec {
            memory_mib: mem_gb * 1024,
            memory_gb: mem_gb as f64,
            cpu_cores: 4,
            cuda_devices: cuda,
            backends: Backends::for_cuda_devices(cuda),
            speed: 1.0,
        }
    }

    pub(crate) fn test(mem_gb: u64, cuda: u32) -> TestSpec {
        TestSpec {
            priority: 3,
            memory_mib: mem_gb * 1024,
            cuda_devices: cuda,
            cpu_cores: 1,
            backend: if cuda > 0 { Some(Backends::CUDA) } else { None },
            expected_duration: SimDuration::from_secs(10),
            model_family: 0,
            concurrency_key: None,
        }
    }

    /// Workers plus their index, built the way the balancer builds them,
    /// with both draw tallies (whatever the policy under test), so every
    /// policy's draws go through the index.
    pub(crate) struct Cluster {
        pub(crate) workers: Vec<WorkerState>,
        pub(crate) index: FitTree,
    }

    impl Cluster {
        pub(crate) fn new(specs: Vec<WorkerSpec>) -> Cluster {
            let workers: Vec<WorkerState> = specs
                .into_iter()
                .enumerate()
                .map(|(i, s)| WorkerState::new(WorkerId(i as u32), s, SimTime::ZERO))
                .collect();
            let mut c = Cluster {
                workers,
                index: FitTree::new()
                    .with_tally(TallyKind::Count)
                    .with_tally(TallyKind::Idleness),
            };
            c.reindex();
            c
        }

        pub(crate) fn reindex(&mut self) {
            for w in &self.workers {
                self.index.set(w.id, w.leaf());
            }
        }

        pub(crate) fn view(&self) -> ClusterView<'_> {
            let active = self
                .workers
                .iter()
                .filter(|w| w.status == WorkerStatus::Active);
            ClusterView {
                now: SimTime::ZERO,
                workers: &self.workers,
                index: &self.index,
                load: SystemLoad::of(active.map(WorkerState::effective_load)),
            }
        }
    }

    pub(crate) fn request(spec: &TestSpec) -> Request<'_> {
        Request {
            test: TestId(0),
            spec,
            shape: spec.shape(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_lists_known() {
        for (i, s) in SCHEDULERS.iter().enumerate() {
            assert_eq!(s.name as usize, i, "{}: SCHEDULERS follows the enum", s.id);
            assert_eq!(SchedulerName::parse(s.id), Ok(s.name));
            assert_eq!(s.name.as_str(), s.id);
        }
        let err = SchedulerName::parse("fastest").unwrap_err().to_string();
        let last = SCHEDULERS.last().map_or("", |s| s.id);
        assert!(
            err.starts_with("unknown scheduler 'fastest' (known: performance_based, round_robin,")
                && err.ends_with(&format!(", {last})")),
            "{err}"
        );
    }
}
