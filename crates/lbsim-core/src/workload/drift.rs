//! The background load a worker carries from outside the tests (the
//! reference's drift ranges): drawn by the pool on its cycles (live view)
//! and by the reported view on heartbeats, the same law for both.

use crate::balancer::model::LoadDrift;

/// Background load from outside the tests: small on the resources tests
/// drive, the reference's ranges on I/O and network. `uniform(low, high)`
/// is called once a component, in this order.
pub(super) fn drift_from(mut uniform: impl FnMut(f64, f64) -> f64) -> LoadDrift {
    LoadDrift {
        cpu: uniform(0.0, 0.2),
        memory: uniform(0.0, 0.1),
        gpu: uniform(0.0, 0.1),
        io: uniform(0.05, 0.5),
        network: uniform(0.1, 0.6),
    }
}
