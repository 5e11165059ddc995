//! The simulation engine's machinery: integer time, the event queue and seeded
//! random streams. It knows nothing of workers or tests.

mod id_map;
mod queue;
mod rng;
mod time;

pub use id_map::IdMap;
pub use queue::EventQueue;
pub use rng::{RngStreams, SimRng, Stream};
pub(crate) use time::MICROS_PER_SEC;
pub use time::{SimDuration, SimTime};
