//! lbsim: a deterministic discrete-event simulator for an adaptive load balancer.

pub mod balancer;
pub mod sim;
