//! Turns a scenario into timed facts: tests arriving, how long each really
//! runs, workers joining, leaving and drifting. It never decides assignments.
//!
//! Every draw comes from a stream of its own (see `sim::Stream`) and nothing
//! here depends on the policy, so two policies run on the same seed see the
//! same tests at the same times with the same run times: common random numbers.

mod arrivals;
pub mod contention;
mod drift;
mod pool;
mod reported_load;
mod run_model;
pub mod trace;

pub use arrivals::SyntheticArrivals;
pub use pool::Pool;
pub(crate) use pool::{PoolFact, PoolSink};
pub(crate) use run_model::Fate;
pub use run_model::RunModel;

use crate::balancer::model::{TestId, TestSpec};
use crate::sim::SimTime;

/// One test entering the system.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrival {
    /// When the test is submitted, in simulated time.
    pub time: SimTime,
    /// Its id, unique in the run and in submission order.
    pub id: TestId,
    /// What it needs from a worker and what it expects to take.
    pub spec: TestSpec,
    /// How its runs will go (drawn or recorded), fixed at arrival so a
    /// policy cannot change it.
    pub fate: Fate,
}

/// A source of arrivals in time order (synthetic, or a recorded trace).
pub trait ArrivalSource {
    /// The next arrival; times never decrease.
    fn next_arrival(&mut self) -> Option<Arrival>;
}
