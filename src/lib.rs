//! lbsim: a deterministic discrete-event simulator for an adaptive load balancer.

pub mod balancer;
pub mod cli;
pub mod compare;
pub mod engine;
pub mod error;
pub mod metrics;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod visualize;
pub mod workload;

pub use error::{Error, Result};
