//! What a policy reads besides the workers themselves, declared in its
//! `SCHEDULERS` row, and the index built from it: the balancer keeps exactly
//! that, and never asks which policy it runs to learn what to keep.

use super::{CompositeWeights, SchedulerName};
use crate::balancer::index::FitTree;
use crate::balancer::leaf::RankKey;
use crate::balancer::tally::TallyKind;

/// A policy's needs. Each costs time on every index update, so a policy
/// declares only what its searches and draws read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// The index key it ranks most of its tests by, whose bound the index
    /// also keeps per memory level ([`FitTree::ranked_by`]).
    pub(crate) rank: RankKey,
    /// The tallies its draws and its searches by other keys go through
    /// (see [`crate::balancer::tally`]); most policies need none.
    pub(crate) tallies: &'static [TallyKind],
    /// Workers ordered by free memory (best fit's walk).
    pub(crate) memory_order: bool,
    /// The active workers' load sum ([`super::ClusterView::system_load`]),
    /// which costs a fixed-point conversion on every refresh.
    pub(crate) system_load: bool,
    /// Its members' needs too, from the composite weights (composite).
    pub(crate) members: bool,
    /// Pending tests taken longest expected run first within a priority,
    /// instead of in submission order (`longest_first`'s LPT order). Read
    /// for the policy the balancer runs, not for composite's members: the
    /// queue has one order.
    pub longest_first: bool,
}

impl Needs {
    /// A policy that only searches by `rank`.
    pub(crate) const fn ranked_by(rank: RankKey) -> Needs {
        Needs {
            rank,
            tallies: &[],
            memory_order: false,
            system_load: false,
            members: false,
            longest_first: false,
        }
    }

    /// The same, also keeping `tallies`.
    pub(crate) const fn with_tallies(self, tallies: &'static [TallyKind]) -> Needs {
        Needs { tallies, ..self }
    }
}

/// The members a policy with `members` reads through: the weights' keys,
/// less composite itself (which `validate` refuses as a member; skipping it
/// here too keeps unvalidated weights from recursing forever).
fn members(
    scheduler: SchedulerName,
    weights: &CompositeWeights,
) -> impl Iterator<Item = SchedulerName> + '_ {
    let own = scheduler.info().needs;
    weights
        .0
        .keys()
        .copied()
        .filter(move |&m| own.members && !m.info().needs.members)
}

/// The tallies `scheduler` (with `weights`, for composite) needs, each
/// once, in the order first asked: its own, then each member's rank bound
/// (where it differs from its own rank) followed by the member's tallies.
pub(super) fn tallies(
    scheduler: SchedulerName,
    weights: &CompositeWeights,
    out: &mut Vec<TallyKind>,
) {
    let add = |out: &mut Vec<TallyKind>, kind| {
        if !out.contains(&kind) {
            out.push(kind);
        }
    };
    let own = scheduler.info().needs;
    for &kind in own.tallies {
        add(out, kind);
    }
    for member in members(scheduler, weights) {
        let key = member.info().needs.rank;
        if key != own.rank {
            add(out, TallyKind::MaxKey(key));
        }
        tallies(member, weights, out);
    }
}

/// True if `scheduler` or one of its members needs `need`.
fn any(scheduler: SchedulerName, weights: &CompositeWeights, need: fn(&Needs) -> bool) -> bool {
    need(&scheduler.info().needs) || members(scheduler, weights).any(|m| any(m, weights, need))
}

/// True if the balancer must keep the active workers' load sum for
/// `scheduler` (with `weights`, for composite).
pub(crate) fn needs_system_load(scheduler: SchedulerName, weights: &CompositeWeights) -> bool {
    any(scheduler, weights, |n| n.system_load)
}

/// True if the index must keep `scheduler`'s workers (with `weights`, for
/// composite) ordered by free memory.
pub(super) fn needs_memory_order(scheduler: SchedulerName, weights: &CompositeWeights) -> bool {
    any(scheduler, weights, |n| n.memory_order)
}

/// The index `scheduler` (with `weights`, for composite) searches and
/// draws through: ranked by its main key, with the tallies it needs, and
/// ordered by free memory too if it or a member asks.
pub(crate) fn index_for(scheduler: SchedulerName, weights: &CompositeWeights) -> FitTree {
    let mut kinds = Vec::new();
    tallies(scheduler, weights, &mut kinds);
    let mut index = kinds.into_iter().fold(
        FitTree::ranked_by(scheduler.info().needs.rank),
        FitTree::with_tally,
    );
    if needs_memory_order(scheduler, weights) {
        index.track_memory_order();
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::policy::SCHEDULERS;

    /// Each policy's index keeps the tallies its draws and second keys
    /// need, a composite the union of its members', each once.
    #[test]
    fn each_index_keeps_the_tallies_its_policy_draws_and_searches_by() {
        let of = |scheduler, weights: &CompositeWeights| {
            let mut kinds = Vec::new();
            tallies(scheduler, weights, &mut kinds);
            kinds
        };
        let default = CompositeWeights::default();
        assert_eq!(of(SchedulerName::Random, &default), [TallyKind::Count]);
        assert_eq!(of(SchedulerName::Adaptive, &default), [TallyKind::Idleness]);
        assert!(of(SchedulerName::PerformanceBased, &default).is_empty());
        assert_eq!(
            of(SchedulerName::Composite, &default),
            [TallyKind::MaxKey(RankKey::Idle)]
        );
        let mixed = CompositeWeights::parse(
            "random:1,priority_based:1,power_of_two:1,weighted_round_robin:1",
        )
        .unwrap();
        assert_eq!(
            of(SchedulerName::Composite, &mixed),
            [
                TallyKind::Count,
                TallyKind::MaxKey(RankKey::Speed),
                TallyKind::Idleness,
                TallyKind::MaxKey(RankKey::Balanced),
            ]
        );
        let looped = CompositeWeights(indexmap::IndexMap::from([
            (SchedulerName::Composite, 1.0),
            (SchedulerName::LeastLoaded, 1.0),
        ]));
        assert_eq!(
            of(SchedulerName::Composite, &looped),
            [TallyKind::MaxKey(RankKey::Idle)]
        );
    }

    /// Only best fit walks by free memory and only adaptive reads the load
    /// sum; a composite needs what its members need.
    #[test]
    fn memory_order_and_load_sum_are_kept_for_those_that_read_them() {
        let default = CompositeWeights::default();
        let ordered: Vec<&str> = SCHEDULERS
            .iter()
            .filter(|s| needs_memory_order(s.name, &default))
            .map(|s| s.id)
            .collect();
        assert_eq!(ordered, ["best_fit"]);
        let loaded: Vec<&str> = SCHEDULERS
            .iter()
            .filter(|s| needs_system_load(s.name, &default))
            .map(|s| s.id)
            .collect();
        assert_eq!(loaded, ["adaptive"]);
        let packing = CompositeWeights::parse("fifo:1,best_fit:1").unwrap();
        assert!(needs_memory_order(SchedulerName::Composite, &packing));
        assert!(!needs_memory_order(SchedulerName::Fifo, &packing));
    }
}
